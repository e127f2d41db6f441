"""python manage.py import_assessments FILE... [--mapping FILE.json] [--encoding E] [--sheet S] [--dry-run] [--json]:
exits 1 when a file has errors (then nothing of that file is written)."""

from followup.models import Assessment
from recommendations.imports.command import ImportCommand


class Command(ImportCommand):
    help = "Import follow-up assessments from CSV or XLSX files (our template, or a column mapping)."
    mapping_help = "JSON file: columns, synonyms and separators (see followup/imports/)"

    def importer(self):
        from followup.imports import assessment_import

        return assessment_import

    def counts_lines(self, c: dict) -> list[str]:
        statuses = ", ".join(f"{label.lower()} {c.get(value, 0)}" for value, label in Assessment.Status.choices)
        return [
            f"rows {c.get('rows', 0)}: create {c['create']}, update {c.get('update', 0)}, "
            f"unchanged {c.get('unchanged', 0)}; {c.get('recommendations', 0)} recommendations, "
            f"{c.get('states_under_review', 0)} states under review, "
            f"{c.get('organisations_to_create', 0)} organisations to create",
            statuses,
        ]
