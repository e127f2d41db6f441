"""recommendation_import: the one pipeline behind every entry point (command, page, job, API).

read (streamed) -> map columns (layouts) -> normalise and validate each row (validate) -> stage the valid rows
(staging: temporary tables) -> duplicates -> plan (create / update / unchanged) -> preview counts -> commit.
All of it runs in one transaction: a dry run or any error rolls it back, so nothing is half-written.
"""

import time

from django.db import connection, transaction
from django.utils import timezone

from followup.snapshots import statistics_changed
from recommendations.facets import search_data_changed
from recommendations.imports.layouts import Layout, layout_detect
from recommendations.imports.problems import ImportFailure, Problem
from recommendations.imports.reading import Table, table_open
from recommendations.imports.runs import ImportReport, Progress, Source, run_record, source_open
from recommendations.imports.staging import Stage
from recommendations.imports.validate import RowValidator
from recommendations.models import ImportRun

# Concurrent commits of imports wait for each other (PostgreSQL advisory lock, held to the transaction's end), so
# that each plans against what the previous one wrote.
_LOCK = 0x75707274  # "uprt"


class _Rollback(Exception):
    """Leaves the import's transaction without writing: a dry run, or a file with errors."""


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

    Idempotent: rows are matched to stored recommendations by review and natural key. The report is recorded
    as an ImportRun (the given run, or a new one) with status dry_run, succeeded or failed.
    """
    started, clock = timezone.now(), time.monotonic()
    progress = progress or Progress(None)
    report = ImportReport(file_name=file_name, dry_run=dry_run, mapping=mapping or {})
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
            stage = Stage()
            _rows_stage(table, layout, stage, report, progress)
            if report.errors:
                raise _Rollback
            progress("planning")
            stage.plan()
            report.counts.update(stage.counts())
            if dry_run:
                raise _Rollback
            progress("writing")
            stage.commit()
            stage.drop()
            transaction.on_commit(search_data_changed)
            transaction.on_commit(statistics_changed)
            report.committed = True
            report.sort_problems()
            run_record(report, user=user, started=started, clock=clock, run=run)
            return report
    except _Rollback:
        pass
    except ImportFailure as failure:
        report.failure(failure)
    finally:
        if opened is not None and opened.file is not source:
            opened.file.close()
    report.sort_problems()
    run_record(report, user=user, started=started, clock=clock, run=run)
    return report


def _rows_stage(table: Table, layout: Layout, stage: Stage, report: ImportReport, progress: Progress) -> None:
    """Validate every row; stage the valid ones; then find the duplicates among them."""
    validator = RowValidator(layout=layout)
    index = {name: i for i, name in enumerate(table.header)}
    rows = 0
    progress("validating", 0)
    for number, cells in table.rows:
        rows += 1
        row, errors, warnings = validator.parse(number, cells, index)
        for problem in errors:
            report.error(problem)
        for problem in warnings:
            report.warning(problem)
        if row is not None and not report.errors:
            stage.add(row)
        if rows % 1000 == 0:
            progress("validating", rows)
    report.counts["rows"] = rows
    progress("validating", rows)
    if rows == 0:
        raise ImportFailure("The file has a header but no data rows.")
    if report.errors:
        return  # the stage is incomplete; the errors are what the admin needs
    stage.loaded()
    response_column = layout.columns.get("response", "response")
    for dup in stage.duplicates():
        if not dup.same_response:
            report.error(Problem(dup.row, response_column, dup.response_original,
                                 f"Same recommendation as row {dup.first_row}, with a different response "
                                 f'("{dup.first_response_original}").'))  # fmt: skip
        elif dup.same_values:
            report.warning(Problem(dup.row, "", "", f"Exact duplicate of row {dup.first_row}: imported once."))
        else:
            report.warning(Problem(dup.row, "", "", f"Duplicate of row {dup.first_row} (same recommendation, "
                                   "different text case, spacing, action or issues): imported once, with "
                                   f"row {dup.first_row}'s values and the issues of both."))  # fmt: skip
    if not report.errors:
        stage.duplicates_merge()
