"""assessment_import: the one pipeline behind every entry point (command, page, job, API).

read -> map columns (layout) -> check each row (rows) -> find the recommendations and organisations, drop
duplicates (matching) -> plan, preview counts, commit in batches (plan). All of it runs in one transaction: a dry
run or any error rolls it back, so nothing is half-written.
"""

import time
from collections.abc import Iterator

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from followup.imports.layout import layout_detect
from followup.imports.matching import dates_check, duplicates_drop, organisations_find, recommendations_find
from followup.imports.plan import Plan
from followup.imports.rows import Row, RowChecker
from followup.status import implementation_status_refresh
from recommendations.imports.problems import ImportFailure, Problem
from recommendations.imports.reading import table_open
from recommendations.imports.runs import ImportReport, Progress, Source, run_record, source_open
from recommendations.models import ImportRun

# Concurrent commits of assessment imports wait for each other (PostgreSQL advisory lock, held to the end of the
# transaction), so that each plans against what the previous one wrote.
_LOCK = 0x75707461  # "upta"


class _Rollback(Exception):
    """Leaves the import's transaction without writing: a dry run, or a file with errors."""


def assessment_import(
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
    """Read, check and preview a file of assessments; unless dry_run, commit it all or nothing.

    Idempotent: one assessment per recommendation, organisation and phase; a stored one is updated (version + 1)
    only when a value differs. Unknown organisations are created on commit. The report is recorded as an
    ImportRun of kind assessments (the given run, or a new one) with status dry_run, succeeded or failed.
    """
    started, clock = timezone.now(), time.monotonic()
    progress = progress or Progress(None)
    report = ImportReport(file_name=file_name, kind=ImportRun.Kind.ASSESSMENTS, dry_run=dry_run, mapping=mapping or {})
    opened = None
    try:
        opened = source_open(source)
        report.size, report.sha256 = opened.size, opened.sha256
        progress("reading", 0)
        table = table_open(source=opened, file_name=file_name, encoding=encoding, sheet=sheet)
        report.encoding, report.sheet = table.encoding, table.sheet
        layout = layout_detect(header=table.header, mapping=mapping)
        report.layout, report.mapping = layout.name, layout.as_dict()
        with transaction.atomic():
            if not dry_run and connection.vendor == "postgresql":
                connection.cursor().execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
            rows = _rows_check(table.rows, RowChecker(layout=layout, header=table.header), report, progress)
            progress("matching", len(rows))
            recommendations_find(rows, layout, report)
            dates_check(rows, layout, report)
            organisations = organisations_find(rows, layout, report)
            rows = duplicates_drop(rows, layout, report)
            if report.errors:
                raise _Rollback
            progress("planning", len(rows))
            plan = Plan(rows, organisations, lock=not dry_run)
            report.counts.update(plan.counts())
            if dry_run:
                raise _Rollback
            plan.commit(user=user, progress=progress)
            implementation_status_refresh({row.recommendation_id for row in rows})
            report.committed = True
            report.sort_problems()
            run_record(report, user=user, started=started, clock=clock, run=run)
            return report
    except _Rollback:
        pass
    except ImportFailure as failure:
        report.failure(failure)
    except IntegrityError:
        message = "Someone else saved an assessment or organisation of this file meanwhile; nothing was written. "
        report.error(Problem(None, "", "", message + "Run the import again."))
    finally:
        if opened is not None and opened.file is not source:
            opened.file.close()
    report.sort_problems()
    run_record(report, user=user, started=started, clock=clock, run=run)
    return report


def _rows_check(
    cells_by_row: Iterator[tuple[int, list[str]]], checker: RowChecker, report: ImportReport, progress: Progress
) -> list[Row]:
    rows: list[Row] = []
    count = 0
    progress("validating", 0)
    for number, cells in cells_by_row:
        count += 1
        row, errors = checker.parse(number, cells)
        for problem in errors:
            report.error(problem)
        if row is not None:
            rows.append(row)
        if count % 1000 == 0:
            progress("validating", count)
    report.counts["rows"] = count
    progress("validating", count)
    if count == 0:
        raise ImportFailure("The file has a header but no data rows.")
    return rows
