"""Reads for the import pages: runs, presets, a run's file header, and its counts labelled for people."""

from django.db.models import QuerySet

from recommendations.imports.reading import Table, table_preview
from recommendations.models import ImportMapping, ImportRun, Recommendation

# How the importers' counts read on the page, in this order; a key not listed still shows, under its own name.
COUNT_LABELS = {
    "rows": "Rows read",
    "create": "To create",
    "update": "To update",
    "unchanged": "Unchanged",
    "recommendations": "Recommendations",
    "pledges": "Voluntary pledges",
    "accepted": "Accepted",
    "noted": "Noted",
    "pending": "Pending",
    "assessments": "Assessments",
    "not_implemented": "Not implemented",
    "partially_implemented": "Partially implemented",
    "fully_implemented": "Fully implemented",
    "no_information": "No information",
    "phase_mid_term": "Mid-term",
    "phase_next_review": "Next review",
    "organisations": "Organisations",
    "organisations_to_create": "Organisations to create",
    "states_under_review": "States under review",
    "recommending_states": "Recommending states",
    "sessions": "Sessions",
    "reviews": "Reviews",
    "reviews_to_create": "Reviews to create",
    "issues": "Issues",
    "action_categories": "Action categories",
}
COMMITTED_LABELS = {
    "create": "Created",
    "update": "Updated",
    "reviews_to_create": "Reviews created",
    "organisations_to_create": "Organisations created",
}
# What the import does (or did), shown before what the file holds.
PLAN_KEYS = ("rows", "create", "update", "unchanged", "reviews_to_create", "organisations_to_create")
# Shown apart, with the problems themselves.
PROBLEM_COUNTS = ("errors", "warnings")
NESTED_LABELS = {"action_categories": {str(value): label for value, label in Recommendation.ActionCategory.choices}}


def import_run_list() -> QuerySet[ImportRun]:
    """Newest first; without the problem lists and mappings, which can be thousands of entries per run."""
    return ImportRun.objects.select_related("user").defer("errors", "warnings", "mapping", "options")


def import_run_detail() -> QuerySet[ImportRun]:
    return ImportRun.objects.select_related("user")


def mapping_presets() -> list[ImportMapping]:
    return list(ImportMapping.objects.order_by("kind", "name").only("id", "name", "kind"))


def run_table_preview(run: ImportRun, *, rows: int = 5) -> Table:
    """The stored file's header and first rows, read with the run's options; ImportFailure or OSError when the
    file cannot be read."""
    options = run.options or {}
    with run.upload.open("rb") as source:
        return table_preview(
            source=source,
            file_name=run.file_name,
            encoding=options.get("encoding") or None,
            sheet=options.get("sheet") or None,
            rows=rows,
        )


def counts_display(counts: dict, *, committed: bool = False) -> dict[str, list[dict]]:
    """The counts for the page: {"plan": what the import does, "content": what the file holds, each as
    [{"key", "label", "value"}], "breakdowns": nested counts (action categories) as [{"key", "label", "items"}]},
    known keys first in COUNT_LABELS' order; a commit's plan in the past tense."""
    labels = {**COUNT_LABELS, **(COMMITTED_LABELS if committed else {})}
    order = {key: i for i, key in enumerate(COUNT_LABELS)}
    keys = sorted((k for k in counts if k not in PROBLEM_COUNTS), key=lambda k: (order.get(k, len(order)), k))
    shown: dict[str, list[dict]] = {"plan": [], "content": [], "breakdowns": []}
    for key in keys:
        value, label = counts[key], labels.get(key) or key.replace("_", " ").capitalize()
        if isinstance(value, dict):
            nested = NESTED_LABELS.get(key, {})
            items = [{"key": k, "label": nested.get(k, k), "value": v} for k, v in value.items()]
            shown["breakdowns"].append({"key": key, "label": label, "items": sorted(items, key=lambda i: i["key"])})
        else:
            shown["plan" if key in PLAN_KEYS else "content"].append({"key": key, "label": label, "value": value})
    return shown
