"""python manage.py import_recommendations FILE... [--mapping FILE.json] [--encoding E] [--sheet S] [--dry-run]
[--json]: exits 1 when a file has errors (then nothing of that file is written)."""

from recommendations.imports.command import ImportCommand


class Command(ImportCommand):
    help = "Import recommendations from CSV or XLSX files (UPR Info exports, our template, or a column mapping)."
    mapping_help = "JSON file: columns, synonyms and separators (see imports/layouts.py)"

    def importer(self):
        from recommendations.imports.service import recommendation_import

        return recommendation_import

    def counts_lines(self, c: dict) -> list[str]:
        return [
            f"rows {c.get('rows', 0)}: create {c.get('create', 0)}, update {c.get('update', 0)}, "
            f"unchanged {c.get('unchanged', 0)}; {c.get('recommendations', 0)} recommendations, "
            f"{c.get('pledges', 0)} pledges, {c.get('states_under_review', 0)} states under review, "
            f"{c.get('sessions', 0)} sessions"
        ]
