"""An organisation's assessments as a file in exactly the assessment import's format (followup/imports/layout.py
FIELDS), so that the file can be edited and imported back: importing it unchanged changes nothing.

Streamed like the search's exports (recommendations/exports.py): rows come from a server-side cursor in batches,
each batch's recommending states in one query; a CSV leaves line by line, an XLSX is written row by row to a
temporary file (openpyxl's write-only mode). Every text cell goes through cell_neutralise (a spreadsheet never runs
a cell as a formula); the import takes that prefix off again.
"""

import datetime
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from itertools import batched

from django.db.models import QuerySet
from django.utils.text import slugify
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter

from followup.imports.layout import FIELDS
from followup.models import Assessment, Organisation
from recommendations.exports import csv_lines
from recommendations.imports.templates_download import cell_neutralise
from recommendations.models import Recommendation
from reviews.models import State

BATCH = 2000
XLSX_MAX_ROWS = 1_048_575  # a worksheet's rows, less the header
HEADER = list(FIELDS)
_WIDTHS = {"text": 60, "organisation": 30, "comment": 60, "evidence_url": 40, "recommending_states": 16}

# The words the import reads back (layout.py's synonyms), as a person would write them.
KIND_WORDS = {
    Organisation.Kind.STATE: "state",
    Organisation.Kind.CSO: "CSO",
    Organisation.Kind.NHRI: "NHRI",
    Organisation.Kind.UN_AGENCY: "UN agency",
    Organisation.Kind.ACADEMIC: "academic",
    Organisation.Kind.OTHER: "other",
}
STATUS_WORDS = {value: value.replace("_", " ") for value in Assessment.Status.values}
PHASE_WORDS = {Assessment.Phase.MID_TERM: "mid-term", Assessment.Phase.NEXT_REVIEW: "next review"}

_FIELDS = ("recommendation_id", "recommendation__review__state_id", "recommendation__review__session__number",
           "recommendation__text", "status", "phase", "assessed_on", "comment", "evidence_urls",
           "visibility")  # fmt: skip


def _recommending_states(recommendation_ids: list[int]) -> dict[int, list[int]]:
    states = defaultdict(list)
    links = Recommendation.recommending_states.through.objects.filter(recommendation_id__in=recommendation_ids)
    for recommendation_id, state_id in links.values_list("recommendation_id", "state_id").order_by("state_id"):
        states[recommendation_id].append(state_id)
    return states


def export_rows(queryset: QuerySet[Assessment], *, organisation: Organisation) -> Iterator[list]:
    """The file's rows, header first, for the organisation's (ordered) assessments; text cells neutralised, the
    date a datetime.date (the CSV writes it yyyy-mm-dd, the XLSX as a date cell)."""
    yield HEADER
    iso3 = dict(State.objects.values_list("id", "iso3"))
    name, kind = organisation.name, KIND_WORDS[organisation.kind]
    rows = queryset.values_list(*_FIELDS).iterator(chunk_size=BATCH)
    for batch in batched(rows, BATCH):
        made_by = _recommending_states(list({row[0] for row in batch}))
        for recommendation_id, sur, session, text, status, phase, assessed_on, comment, links, visibility in batch:
            row = [
                recommendation_id,
                iso3.get(sur, ""),
                session,
                "; ".join(iso3[state] for state in made_by.get(recommendation_id, ()) if state in iso3),
                text,
                name,
                kind,
                STATUS_WORDS.get(status, status),
                PHASE_WORDS.get(phase, phase),
                assessed_on,
                comment,
                " ".join(links or ()),
                visibility,
            ]
            yield [cell_neutralise(value) for value in row]


def _csv_cells(rows: Iterator[list]) -> Iterator[list]:
    for row in rows:
        yield [value.isoformat() if isinstance(value, datetime.date) else value for value in row]


def csv_stream(rows: Iterator[list]) -> Iterator[str]:
    """The rows as CSV lines (UTF-8 with a BOM, for spreadsheet programs), dates as yyyy-mm-dd."""
    return csv_lines(_csv_cells(rows))


def _xlsx_text(value: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub(lambda match: "\n" if match.group() in "\x0b\x0c" else "", value)


def xlsx_file(rows: Iterator[list]) -> tempfile.SpooledTemporaryFile:
    """The rows as a workbook (one sheet, "Assessments") in a temporary file (on disk beyond a few MB), positioned
    at its start. A workbook cannot hold most control characters: a vertical tab or form feed (Word's line and page
    breaks, pasted) becomes a line break, the others are left out."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Assessments")
    for index, name in enumerate(HEADER, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = _WIDTHS.get(name, 14)
    sheet.freeze_panes = "A2"
    for row in rows:
        sheet.append([_xlsx_text(value) if isinstance(value, str) else value for value in row])
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 (FileResponse closes it)
    workbook.save(out)
    out.seek(0)
    return out


def export_filename(organisation: Organisation, extension: str) -> str:
    slug = slugify(organisation.slug)[:60] or "organisation"
    return f"uprtrax-assessments-{slug}-{datetime.date.today():%Y-%m-%d}.{extension}"
