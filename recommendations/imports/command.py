"""The base of the import commands (import_recommendations, import_assessments): the same options, reports and
exit code for every kind; each command names its importer and how to print its counts."""

import json
from collections.abc import Callable
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from recommendations.imports.runs import ImportReport

_SHOWN = 50


class ImportCommand(BaseCommand):
    """FILE... [--mapping FILE.json] [--encoding E] [--sheet S] [--dry-run] [--json]: exits 1 when a file has
    errors (then nothing of that file is written)."""

    mapping_help = "JSON file: columns, synonyms and separators"

    def importer(self) -> Callable[..., ImportReport]:
        raise NotImplementedError

    def counts_lines(self, counts: dict) -> list[str]:
        raise NotImplementedError

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument("--mapping", help=self.mapping_help)
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
        importer = self.importer()
        reports = []
        for name in options["files"]:
            path = Path(name)
            try:
                with path.open("rb") as source:
                    report = importer(
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

    def _print(self, report: ImportReport) -> None:
        mode = "dry run" if report.dry_run else ("committed" if report.committed else "not written")
        self.stdout.write(f"{report.file_name} ({report.layout or '?'}, {report.encoding or report.sheet}): {mode}")
        if "create" in report.counts:
            for line in self.counts_lines(report.counts):
                self.stdout.write(f"  {line}")
        for label, problems, total in (("warning", report.warnings, report.warning_total),
                                       ("error", report.errors, report.error_total)):  # fmt: skip
            for problem in problems[:_SHOWN]:
                self.stdout.write(f"  {label}: {problem}")
            if total > _SHOWN:
                self.stdout.write(f"  ... and {total - _SHOWN:,} more {label}s")
