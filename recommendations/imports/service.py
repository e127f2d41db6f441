"""recommendation_import: the one pipeline behind every entry point (command now; page, task and API later)."""

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from recommendations.imports.layouts import layout_detect
from recommendations.imports.problems import ImportFailure, Problem
from recommendations.imports.reading import table_read
from recommendations.imports.runs import ImportReport, Progress, Source, run_record, source_open
from recommendations.imports.validate import ParsedRow, RowValidator
from recommendations.models import ImportRun, Recommendation
from reviews.models import Review

BATCH_SIZE = 2000
_COMPARED = ("kind", "text", "paragraph_ref", "response", "response_original", "action_category")


def recommendation_import(
    *,
    source: Source,
    file_name: str,
    mapping: dict | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    dry_run: bool,
    user=None,
    run: ImportRun | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Read, validate and preview a file of recommendations; unless dry_run, commit it all or nothing.

    Idempotent: rows are matched to stored recommendations by review and natural key. Every call is recorded
    as an ImportRun (status dry_run, succeeded or failed).
    """
    started, clock = timezone.now(), time.monotonic()
    report = ImportReport(file_name=file_name, dry_run=dry_run, mapping=mapping or {})
    parsed: dict[tuple[int, int, str], ParsedRow] = {}
    try:
        opened = source_open(source)
        report.size, report.sha256 = opened.size, opened.sha256
        data = opened.file.read()
        table = table_read(data=data, file_name=file_name, encoding=encoding, sheet=sheet)
        report.encoding, report.sheet = table.encoding, table.sheet
        layout = layout_detect(header=table.header, mapping=mapping)
        report.layout, report.mapping = layout.name, layout.as_dict()
        parsed, rows = _rows_parse(table, layout, report)
        report.counts["rows"] = rows
    except ImportFailure as failure:
        report.errors.append(Problem(failure.row, failure.column, failure.value, failure.message))
    if not report.errors:
        plan = _plan(parsed)
        report.counts.update(_preview_counts(parsed, plan))
        if not dry_run:
            with transaction.atomic():
                _commit(parsed, plan)
                report.committed = True
                run_record(report, user=user, started=started, clock=clock, run=run)
            return report
    run_record(report, user=user, started=started, clock=clock, run=run)
    return report


def _rows_parse(table, layout, report: ImportReport) -> tuple[dict, int]:
    validator = RowValidator(layout=layout)
    index = {name: i for i, name in enumerate(table.header)}
    parsed: dict[tuple[int, int, str], ParsedRow] = {}
    rows = 0
    for number, cells in table.rows:
        rows += 1
        row, errors, warnings = validator.parse(number, cells, index)
        report.errors.extend(errors)
        report.warnings.extend(warnings)
        if row is None:
            continue
        key = (row.state_id, row.session_id, row.natural_key)
        first = parsed.get(key)
        if first is None:
            parsed[key] = row
        elif first.response != row.response:
            report.errors.append(Problem(number, layout.columns.get("response", "response"), row.response_original,
                                         f"Same recommendation as row {first.row}, with a different response "
                                         f'("{first.response_original}").'))  # fmt: skip
        elif (first.text, first.action_category, first.issue_ids) == (row.text, row.action_category, row.issue_ids):
            report.warnings.append(Problem(number, "", "", f"Exact duplicate of row {first.row}: imported once."))
        else:
            first.issue_ids = first.issue_ids | row.issue_ids
            report.warnings.append(Problem(number, "", "", f"Duplicate of row {first.row} (same recommendation, "
                                           "different text case, spacing, action or issues): imported once, with "
                                           f"row {first.row}'s values and the issues of both."))  # fmt: skip
    if rows == 0:
        raise ImportFailure("The file has a header but no data rows.")
    return parsed, rows


@dataclass
class _Plan:
    review_ids: dict[tuple[int, int], int]
    create: list[tuple[int, int, str]] = field(default_factory=list)
    update: list[tuple[tuple[int, int, str], int]] = field(default_factory=list)  # (key, stored id)
    unchanged: int = 0


def _plan(parsed: dict[tuple[int, int, str], ParsedRow]) -> _Plan:
    sessions = {session for _, session, _ in parsed}
    review_ids = {
        (state, session): pk
        for state, session, pk in Review.objects.filter(session_id__in=sessions).values_list(
            "state_id", "session_id", "id"
        )
    }
    plan = _Plan(review_ids=review_ids)
    reviews_wanted = {review_ids[k[:2]] for k in parsed if k[:2] in review_ids}
    stored = {
        (r["review_id"], r["natural_key"]): r
        for r in Recommendation.objects.filter(review_id__in=reviews_wanted)
        .exclude(natural_key="")
        .values("id", "review_id", "natural_key", *_COMPARED)
    }
    ids = [r["id"] for r in stored.values()]
    issues, states = _links(ids)
    for key, row in parsed.items():
        review = review_ids.get(key[:2])
        current = stored.get((review, key[2])) if review else None
        if current is None:
            plan.create.append(key)
        elif all(current[name] == getattr(row, name) for name in _COMPARED) and (
            issues.get(current["id"], frozenset()) == row.issue_ids
            and states.get(current["id"], ()) == row.recommending_state_ids
        ):
            plan.unchanged += 1
        else:
            plan.update.append((key, current["id"]))
    return plan


def _links(ids: list[int]) -> tuple[dict[int, frozenset[int]], dict[int, tuple[int, ...]]]:
    issues: dict[int, set[int]] = {}
    states: dict[int, list[int]] = {}
    for start in range(0, len(ids), 20000):
        chunk = ids[start : start + 20000]
        issue_links = Recommendation.issues.through.objects.filter(recommendation_id__in=chunk)
        for rec, issue in issue_links.values_list("recommendation_id", "issue_id"):
            issues.setdefault(rec, set()).add(issue)
        state_links = Recommendation.recommending_states.through.objects.filter(recommendation_id__in=chunk)
        for rec, state in state_links.values_list("recommendation_id", "state_id"):
            states.setdefault(rec, []).append(state)
    return {k: frozenset(v) for k, v in issues.items()}, {k: tuple(sorted(v)) for k, v in states.items()}


def _preview_counts(parsed: dict[tuple[int, int, str], ParsedRow], plan: _Plan) -> dict[str, Any]:
    rows = parsed.values()
    pledge = Recommendation.Kind.VOLUNTARY_PLEDGE
    responses = Counter(r.response for r in rows if r.kind != pledge)
    actions = Counter(r.action_category for r in rows if r.kind != pledge)
    return {
        "create": len(plan.create),
        "update": len(plan.update),
        "unchanged": plan.unchanged,
        "recommendations": sum(1 for r in rows if r.kind != pledge),
        "pledges": sum(1 for r in rows if r.kind == pledge),
        "accepted": responses[Recommendation.Response.ACCEPTED],
        "noted": responses[Recommendation.Response.NOTED],
        "pending": responses[Recommendation.Response.PENDING],
        "action_categories": {str(n): actions[n] for n in range(1, 6)},
        "states_under_review": len({r.state_id for r in rows}),
        "recommending_states": len({s for r in rows if r.kind != pledge for s in r.recommending_state_ids}),
        "sessions": len({r.session_id for r in rows}),
        "reviews": len({(r.state_id, r.session_id) for r in rows}),
        "reviews_to_create": len({k[:2] for k in parsed} - set(plan.review_ids)),
        "issues": len({i for r in rows for i in r.issue_ids}),
    }


def _commit(parsed: dict[tuple[int, int, str], ParsedRow], plan: _Plan) -> None:
    missing = sorted({k[:2] for k in parsed} - set(plan.review_ids))
    if missing:
        Review.objects.bulk_create([Review(state_id=s, session_id=n) for s, n in missing], batch_size=BATCH_SIZE)
        sessions = {n for _, n in missing}
        plan.review_ids.update(
            ((s, n), pk)
            for s, n, pk in Review.objects.filter(session_id__in=sessions).values_list("state_id", "session_id", "id")
        )
    created = Recommendation.objects.bulk_create(
        [_recommendation(parsed[key], plan.review_ids[key[:2]]) for key in plan.create], batch_size=BATCH_SIZE
    )
    linked = [(rec.pk, parsed[key]) for rec, key in zip(created, plan.create, strict=True)]
    if plan.update:
        now = timezone.now()
        updated = []
        for key, pk in plan.update:
            rec = _recommendation(parsed[key], plan.review_ids[key[:2]])
            rec.pk, rec.updated_at = pk, now
            updated.append(rec)
        Recommendation.objects.bulk_update(updated, [*_COMPARED, "updated_at"], batch_size=BATCH_SIZE)
        ids = [pk for _, pk in plan.update]
        Recommendation.issues.through.objects.filter(recommendation_id__in=ids).delete()
        Recommendation.recommending_states.through.objects.filter(recommendation_id__in=ids).delete()
        linked += [(pk, parsed[key]) for key, pk in plan.update]
    IssueLink = Recommendation.issues.through
    StateLink = Recommendation.recommending_states.through
    IssueLink.objects.bulk_create(
        (IssueLink(recommendation_id=pk, issue_id=i) for pk, row in linked for i in sorted(row.issue_ids)),
        batch_size=5000,
    )
    StateLink.objects.bulk_create(
        (StateLink(recommendation_id=pk, state_id=s) for pk, row in linked for s in row.recommending_state_ids),
        batch_size=5000,
    )


def _recommendation(row: ParsedRow, review_id: int) -> Recommendation:
    return Recommendation(
        review_id=review_id,
        kind=row.kind,
        paragraph_ref=row.paragraph_ref,
        text=row.text,
        response=row.response,
        response_original=row.response_original,
        action_category=row.action_category,
        natural_key=row.natural_key,
    )
