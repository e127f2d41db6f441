"""python manage.py import_assessments FILE... [--mapping FILE.json] [--encoding E] [--sheet S] [--dry-run] [--json]:
exits 1 when a file has errors (then nothing of that file is written)."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from followup.imports import assessment_import
from followup.models import Assessment

_SHOWN = 50


class Command(BaseCommand):
    help = "Import follow-up assessments from CSV or XLSX files (our template, or a column mapping)."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument("--mapping", help="JSON file: columns, synonyms and separators (see followup/imports/)")
        parser.add_argument("--encoding", help="CSV encoding, overriding detection (e.g. mac_roman, cp1252)")
        parser.add_argument("--sheet", help="XLSX sheet name (default: the first sheet)")
        parser.add_argument("--dry-run", action="store_true", help="Preview only: write nothing")
        parser.add_argument("--json", action="store_true", help="Print the reports as JSON")

    def handle(self, *args, **options):
        mapping = None
        if options["mapping"]:
            try:
                mapping = json.loads(Path(options["mapping"]).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise CommandError(f"Cannot read the mapping {options['mapping']}: {exc}") from exc
        reports = []
        for name in options["files"]:
            path = Path(name)
            try:
                with path.open("rb") as source:
                    report = assessment_import(
                        source=source,
                        file_name=path.name,
                        mapping=mapping,
                        encoding=options["encoding"],
                        sheet=options["sheet"],
                        dry_run=options["dry_run"],
                    )
            except OSError as exc:
                raise CommandError(f"Cannot read {name}: {exc}") from exc
            reports.append(report)
            if not options["json"]:
                self._print(report)
        if options["json"]:
            self.stdout.write(json.dumps([r.as_dict() for r in reports], indent=2, ensure_ascii=False))
        failed = [r.file_name for r in reports if not r.ok]
        if failed:
            raise CommandError(f"Errors in {', '.join(failed)}: nothing of these files was written.", returncode=1)

    def _print(self, report):
        c = report.counts
        mode = "dry run" if report.dry_run else ("committed" if report.committed else "not written")
        self.stdout.write(f"{report.file_name} ({report.layout or '?'}, {report.encoding or report.sheet}): {mode}")
        if "create" in c:
            statuses = ", ".join(f"{label.lower()} {c.get(value, 0)}" for value, label in Assessment.Status.choices)
            self.stdout.write(
                f"  rows {c.get('rows', 0)}: create {c['create']}, update {c.get('update', 0)}, "
                f"unchanged {c.get('unchanged', 0)}; {c.get('recommendations', 0)} recommendations, "
                f"{c.get('states_under_review', 0)} states under review, "
                f"{c.get('organisations_to_create', 0)} organisations to create"
            )
            self.stdout.write(f"  {statuses}")
        for label, problems in (("warning", report.warnings), ("error", report.errors)):
            for problem in problems[:_SHOWN]:
                self.stdout.write(f"  {label}: {problem}")
            if len(problems) > _SHOWN:
                self.stdout.write(f"  ... and {len(problems) - _SHOWN} more {label}s")
