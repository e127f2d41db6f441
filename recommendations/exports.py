"""Exports of a search's results as CSV or XLSX: exactly the rows the search page lists, in its order, streamed.

Rows are read from the database in batches through a server-side cursor; each batch's recommending states and
issues come in one query each, and names come from the reference tables held in memory. A CSV of a million rows
leaves the server line by line; an XLSX is written row by row to a temporary file (openpyxl's write-only mode),
then streamed. Every text cell goes through cell_neutralise, so that a spreadsheet never runs a cell as a formula.
"""

import csv
import datetime
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from itertools import batched

from django.db.models import QuerySet
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter

from followup.models import Assessment
from recommendations.facets import Reference
from recommendations.imports.templates_download import cell_neutralise
from recommendations.models import Recommendation

BATCH = 2000
XLSX_MAX_ROWS = 1_048_575  # a worksheet's rows, less the header

COLUMNS = (
    ("id", 10), ("url", 40), ("state_under_review_iso3", 8), ("state_under_review", 24),
    ("state_under_review_group", 28), ("session", 8), ("cycle", 6), ("year", 6), ("kind", 16), ("paragraph", 10),
    ("text", 80), ("recommending_states_iso3", 16), ("recommending_states", 30), ("recommending_states_groups", 30),
    ("response", 10), ("response_original", 14), ("action_category", 8), ("action_category_label", 22),
    ("issues", 40), ("implementation_status_mid_term", 22), ("report_symbol", 18),
)  # fmt: skip
HEADER = [name for name, _width in COLUMNS]

_FIELDS = ("id", "review__state_id", "session_number", "kind", "paragraph_ref", "text", "response", "response_original",
           "action_category", "implementation_status", "review__report_symbol")  # fmt: skip
_ACTION_LABELS = dict(Recommendation.ActionCategory.choices)
_STATUS_LABELS = {"": ""} | dict(Assessment.Status.choices)


def _links(ids: list[int]) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    states, issues = defaultdict(list), defaultdict(list)
    links = Recommendation.recommending_states.through.objects.filter(recommendation_id__in=ids)
    for recommendation_id, state_id in links.values_list("recommendation_id", "state_id").order_by("state_id"):
        states[recommendation_id].append(state_id)
    links = Recommendation.issues.through.objects.filter(recommendation_id__in=ids)
    for recommendation_id, issue_id in links.values_list("recommendation_id", "issue_id").order_by("issue_id"):
        issues[recommendation_id].append(issue_id)
    return states, issues


def export_rows(queryset: QuerySet[Recommendation], *, reference: Reference, base_url: str) -> Iterator[list]:
    """The export's rows, header first, for a FilterSet's (ordered) queryset; cells neutralised."""
    yield HEADER
    ref = reference
    regions = ref.regions
    sessions = ref.sessions
    rows = queryset.values_list(*_FIELDS).iterator(chunk_size=BATCH)
    for batch in batched(rows, BATCH):
        states, issues = _links([row[0] for row in batch])
        for pk, sur_id, session, kind, paragraph, text, response, original, action, status, symbol in batch:
            sur = ref.states.get(sur_id)
            made_by = [ref.states[s] for s in states.get(pk, []) if s in ref.states]
            about = [ref.issues[i].name for i in issues.get(pk, []) if i in ref.issues]
            session_obj = sessions.get(session)
            row = [
                pk,
                f"{base_url}/recommendations/{pk}/",
                sur.iso3 if sur else "",
                sur.short_name if sur else "",
                regions[sur.regional_group_id].name if sur else "",
                session or "",
                session_obj.cycle.number if session_obj else "",
                session_obj.year if session_obj else "",
                kind,
                paragraph,
                text,
                "; ".join(s.iso3 for s in made_by),
                "; ".join(s.short_name for s in made_by),
                "; ".join(dict.fromkeys(regions[s.regional_group_id].name for s in made_by)),
                response,
                original,
                action or "",
                _ACTION_LABELS.get(action, ""),
                "; ".join(about),
                _STATUS_LABELS.get(status, status),
                symbol,
            ]
            yield [cell_neutralise(value) for value in row]


class _Echo:
    """A file-like object whose write returns the line: csv.writer then yields lines to a streaming response."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterator[list]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # a BOM, so that spreadsheet programs read UTF-8
    for row in rows:
        yield writer.writerow(row)


def xlsx_text(value):
    """A cell's value as a workbook can hold it: the control characters XML 1.0 forbids (a text pasted from Word may
    hold a vertical tab) are dropped; openpyxl would refuse the whole file."""
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def xlsx_file(rows: Iterator[list]) -> tempfile.SpooledTemporaryFile:
    """The rows as a workbook in a temporary file (on disk beyond a few MB), positioned at its start."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Recommendations")
    for index, (_name, width) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    for row in rows:
        sheet.append([xlsx_text(value) for value in row])
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 (FileResponse closes it)
    workbook.save(out)
    out.seek(0)
    return out


def export_filename(extension: str) -> str:
    return f"uprtrax-recommendations-{datetime.date.today():%Y-%m-%d}.{extension}"
