"""The canonical import templates as files to download: CSV, and XLSX with a second sheet documenting the columns.

Both are built from an import kind's TEMPLATE_COLUMNS (header row, one example row), so the page, the files and the
importer never disagree. Every cell we write goes through cell_neutralise: a spreadsheet must never read a cell
of ours as a formula.
"""

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from recommendations.imports.layouts import TemplateColumn

# A spreadsheet evaluates a cell starting with one of these as a formula (CSV/formula injection, OWASP); tab and
# carriage return hide such a start from a casual look.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEMPLATE_SHEET = "Template"
COLUMNS_SHEET = "Columns"
COLUMNS_HEADER = ("column", "required", "description", "example")


def cell_neutralise(value: Any) -> Any:
    """A text cell a spreadsheet would take for a formula, prefixed with ' so that it stays text; others as given.

    Reused by every file we write for people to open in a spreadsheet (templates, exports).
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def rows_neutralise(rows: Iterable[Sequence[Any]]) -> Iterable[list[Any]]:
    for row in rows:
        yield [cell_neutralise(value) for value in row]


def template_rows(columns: Sequence[TemplateColumn]) -> list[list[str]]:
    """The header row and the example row."""
    return [[c.name for c in columns], [c.example for c in columns]]


def column_rows(columns: Sequence[TemplateColumn]) -> list[list[str]]:
    """The columns documented one per row, under COLUMNS_HEADER."""
    return [list(COLUMNS_HEADER)] + [[c.name, "yes" if c.required else "no", c.description, c.example] for c in columns]


def template_csv(columns: Sequence[TemplateColumn]) -> bytes:
    """UTF-8 with a BOM, so that Excel opens accented state names right; the importer reads the BOM."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows_neutralise(template_rows(columns)))
    return out.getvalue().encode("utf-8-sig")


def template_xlsx(columns: Sequence[TemplateColumn]) -> bytes:
    """The template on the first sheet (what the importer reads), the column documentation on a second one."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    for title, rows in ((TEMPLATE_SHEET, template_rows(columns)), (COLUMNS_SHEET, column_rows(columns))):
        sheet = book.create_sheet(title)
        for row in rows_neutralise(rows):
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
