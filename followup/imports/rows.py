"""One row of cells -> a checked Row (state, session, organisation, status, phase, date, comment, link, visibility),
or the problems that keep it out. The recommendation and the organisation are found later, for all rows at once."""

import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone

from followup import rules
from followup.imports.layout import (
    FIELDS,
    HELP,
    IDENTITY,
    KIND_SYNONYMS,
    PHASE_SYNONYMS,
    STATUS_SYNONYMS,
    VISIBILITY_SYNONYMS,
)
from recommendations.imports.layouts import Layout
from recommendations.imports.normalise import cell_clean, synonym
from recommendations.imports.problems import Problem
from recommendations.imports.templates_download import FORMULA_STARTS
from reviews.models import Session
from reviews.names import normalise_name
from reviews.selectors import UnknownState, state_index, state_resolve

# Compared to decide between update and unchanged, and written on create and update.
COMPARED = ("status", "assessed_on", "comment", "evidence_urls", "visibility")


@dataclass
class Row:
    row: int
    recommendation_id: int | None
    state_id: int | None
    session_id: int | None
    recommending: frozenset[int] | None  # None: not given
    text: str
    organisation: str
    kind: str  # "" when not given
    status: str
    phase: str
    assessed_on: datetime.date
    comment: str
    evidence_urls: list[str]
    visibility: str
    originals: dict[str, str]  # field -> the cell as read, for messages

    def values(self) -> tuple:
        return tuple(getattr(self, name) for name in COMPARED)


def _unneutralised(value: str) -> str:
    """A cell as it was before cell_neutralise (our exports: "'=..." -> "=..."), so that an exported file imports
    back unchanged; it stays text, never evaluated."""
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_STARTS) else value


_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")  # XLSX: "... 00:00:00"
_DAY_FIRST = re.compile(r"(\d{1,2})([/.])(\d{1,2})\2(\d{4})")


def date_parse(value: str) -> datetime.date | None:
    """yyyy-mm-dd (with the time an XLSX date cell reads as), dd/mm/yyyy or dd.mm.yyyy; None when not a date."""
    if match := _ISO.fullmatch(value):
        year, month, day = match.group(1, 2, 3)
    elif match := _DAY_FIRST.fullmatch(value):
        day, month, year = match.group(1, 3, 4)
    else:
        return None
    try:
        return datetime.date(int(year), int(month), int(day))
    except ValueError:
        return None


class RowChecker:
    """One row of cells -> a Row, or the problems that keep it out. Needs no query per row."""

    def __init__(self, *, layout: Layout, header: list[str]):
        self.layout = layout
        self.index = {name: i for i, name in enumerate(header)}
        self.states = state_index()
        self.sessions = dict(Session.objects.values_list("number", "id"))
        self.today = timezone.localdate()
        self._state_errors: dict[str, str] = {}

    def _cell(self, cells: list[str], name: str) -> str:
        column = self.layout.columns.get(name)
        if column is None:
            return ""
        i = self.index[column]
        value = _unneutralised(cell_clean(cells[i])) if i < len(cells) else ""
        return synonym(value, self.layout.synonyms[name]) if name in self.layout.synonyms else value

    def _state(self, name: str) -> tuple[int | None, str]:
        pk = self.states.get(normalise_name(name))
        if pk is not None:
            return pk, ""
        if name not in self._state_errors:  # one lookup (for the suggestions) per unknown name, not per row
            try:
                self._state_errors[name] = ""
                return state_resolve(name=name).pk, ""
            except UnknownState as exc:
                self._state_errors[name] = str(exc)
        return None, self._state_errors[name] or f'Unknown state "{name}".'

    def parse(self, number: int, cells: list[str]) -> tuple[Row | None, list[Problem]]:
        errors: list[Problem] = []
        columns = self.layout.columns
        value = {name: self._cell(cells, name) for name in FIELDS}

        def error(name: str, message: str, shown: str | None = None) -> None:
            errors.append(Problem(number, columns.get(name, name), value[name] if shown is None else shown, message))

        def choice(name: str, words: dict[str, str]) -> str:
            found = words.get(value[name].casefold())
            if found is None:
                error(name, f"Unknown {name.replace('_', ' ')}; {HELP[name]}.")
            return found or ""

        recommendation_id = state_id = session_id = recommending = None
        if value["recommendation_id"]:
            try:
                recommendation_id = int(value["recommendation_id"])
            except ValueError:
                error("recommendation_id", "The recommendation id is a whole number (uprtrax's id).")
        if value["state_under_review"]:
            state_id, message = self._state(value["state_under_review"])
            if state_id is None:
                error("state_under_review", message)
        if value["session"]:
            try:
                session = float(value["session"])  # an XLSX number cell may read "28.0"
                session_id = self.sessions.get(int(session)) if session.is_integer() else None
            except ValueError:
                pass
            if session_id is None:
                known = f"known sessions are {min(self.sessions)}–{max(self.sessions)}" if self.sessions else "none"
                error("session", f"Unknown session ({known}).")
        if value["recommending_states"]:
            recommending = set()
            separator = self.layout.separators.get("recommending_states")
            for name in value["recommending_states"].split(separator) if separator else [value["recommending_states"]]:
                if name.strip():
                    pk, message = self._state(name.strip())
                    if pk is None:
                        error("recommending_states", message, name.strip())
                    recommending.add(pk)
            recommending = frozenset(recommending)
        if recommendation_id is None and not value["recommendation_id"]:
            for name in IDENTITY:
                if not value[name]:
                    error(name, f"The {name.replace('_', ' ')} is empty, and so is the recommendation id: the "
                                "recommendation needs one or the other.")  # fmt: skip

        organisation = value["organisation"]
        if not organisation:
            error("organisation", "The organisation is empty.")
        elif len(organisation) > 200:
            error("organisation", f"The organisation's name has {len(organisation)} characters, over 200.")
        kind = choice("organisation_kind", KIND_SYNONYMS | {"": ""})
        status = choice("status", STATUS_SYNONYMS)
        phase = choice("phase", PHASE_SYNONYMS)
        visibility = choice("visibility", VISIBILITY_SYNONYMS)

        assessed_on = date_parse(value["date"])
        if not value["date"]:
            error("date", "The date is empty.")
        elif assessed_on is None:
            error("date", "Not a date; use yyyy-mm-dd, dd/mm/yyyy or dd.mm.yyyy.")
        elif assessed_on > self.today:
            error("date", f"The date is in the future (today is {self.today.isoformat()}).")

        comment = value["comment"]
        try:
            rules.comment_check(comment)
        except ValidationError as problem:
            error("comment", problem.messages[0], comment[:100])
        links: list[str] = []
        try:
            links = rules.evidence_parse(value["evidence_url"])
        except ValidationError as problem:
            error("evidence_url", problem.messages[0])

        if errors:
            return None, errors
        row = Row(number, recommendation_id, state_id, session_id, recommending, value["text"], organisation, kind,
                   status, phase, assessed_on, comment, links, visibility, value)  # fmt: skip
        return row, errors
