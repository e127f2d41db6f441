"""Which review a row belongs to: its session number, a day of the session, the cycle of the state's review, or a
UN document symbol (a national report, compilation or summary, or the Working Group report of the review).

Every lookup is a dict built once per import (sessions at the start; reviews and report symbols the first time a
row needs them), so an import of a million rows makes the same few queries as one of ten.
"""

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from django.db.models.functions import Upper

from recommendations.imports.layouts import REVIEW_FIELDS
from reviews.models import Review, Session, State

StateOf = Callable[[str], tuple[int | None, str]]  # a name -> (state id, or None and why not)

_WHOLE = re.compile(r"(\d{1,9})(?:\.0*)?")
DATE_FORMATS = 'yyyy-mm-dd, dd/mm/yyyy, dd.mm.yyyy or "12 May 2015"'
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")  # XLSX: "… 00:00:00"
_DAY_FIRST = re.compile(r"(\d{1,2})([/.])(\d{1,2})\2(\d{4})")
_SPELLED = re.compile(r"(\d{1,2})\s+([A-Za-z]+)\.?,?\s+(\d{4})")
# English month names, written out here: strftime's %B follows the process locale.
_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                "November", "December")  # fmt: skip
_MONTHS = {
    name: number
    for number, full in enumerate((m.casefold() for m in _MONTH_NAMES), start=1)
    for name in (full, full[:3], "sept" if number == 9 else full)
}
# Documents for the Working Group, per state and session: /1 national report, /2 UN compilation, /3 stakeholders'
# summary (a corrigendum or addendum may follow).
_WG6 = re.compile(r"A/HRC/WG\.6/(\d{1,3})/([A-Z]{3})/([1-3])(?:/.*)?")
# A Human Rights Council document: the Working Group report is one, its addendum (/Add.1) holds the state's views.
_COUNCIL = re.compile(r"(A/HRC/\d{1,3}/\d{1,4})(/ADD\.\d+)?")
_SYMBOL_HELP = (
    "use the symbol of a national report, compilation or summary (A/HRC/WG.6/<session>/<state code>/1, 2 or 3), "
    "or of a Working Group report recorded on a review (e.g. A/HRC/28/12)."
)


def whole_number(value: str) -> int | None:
    """ "28" or "28.0" (a spreadsheet number) -> 28; anything else ("28.5", "abc", "inf", "1e3") -> None."""
    match = _WHOLE.fullmatch(value.strip())
    return int(match[1]) if match else None


def date_parse(value: str) -> datetime.date | None:
    """A date written as yyyy-mm-dd (with any time, as XLSX date cells read), dd/mm/yyyy, dd.mm.yyyy or
    "12 May 2015"; None for anything else, or for a day that does not exist (31/02/2015)."""
    value = value.strip()
    if match := _ISO.fullmatch(value):
        year, month, day = (int(part) for part in match.groups())
    elif match := _DAY_FIRST.fullmatch(value):
        day, month, year = int(match[1]), int(match[3]), int(match[4])
    elif (match := _SPELLED.fullmatch(value)) and match[2].casefold() in _MONTHS:
        day, month, year = int(match[1]), _MONTHS[match[2].casefold()], int(match[3])
    else:
        return None
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def symbol_normalise(value: str) -> str:
    """Upper case without spaces: UN symbols are case-insensitive, and people type "A/HRC/ WG.6/28/…"."""
    return "".join(value.split()).upper()


@dataclass(frozen=True)
class _Session:
    id: int
    number: int
    cycle: int
    year: int
    start: datetime.date | None
    end: datetime.date | None

    def __str__(self) -> str:
        return f"session {self.number} ({_span(self.start, self.end)})" if self.start else f"session {self.number}"


@dataclass
class Located:
    """Where a row belongs: its state and session (None where unknown), or why it cannot be placed.

    problems are (field, value, message); the field's file column is the caller's to name.
    """

    state_id: int | None
    session: _Session | None = None
    problems: list[tuple[str, str, str]] = field(default_factory=list)

    def problem(self, name: str, value: str, message: str) -> None:
        self.problems.append((name, value, message))

    @property
    def session_id(self) -> int | None:
        return self.session.id if self.session else None

    @property
    def session_number(self) -> int | None:
        return self.session.number if self.session else None


@dataclass(frozen=True)
class _Day:
    """What the calendar says of one day: the dated session it falls in, or the undated sessions it may fall in
    and the message saying why no session is known for it."""

    session: _Session | None
    undated: tuple[_Session, ...] = ()
    message: str = ""


@dataclass(frozen=True)
class _Claim:
    """What one cell says the row's session is."""

    field: str
    value: str
    session: _Session


class ReviewLookup:
    """Places rows in reviews; build one per import. columns maps a field to its file column, for messages."""

    def __init__(self, *, columns: dict[str, str], state_of: StateOf):
        self.columns = columns
        self.state_of = state_of
        rows = Session.objects.values_list("id", "number", "cycle__number", "year", "start_date", "end_date")
        self.sessions = sorted((_Session(*row) for row in rows), key=lambda s: s.number)
        self.by_number = {s.number: s for s in self.sessions}
        self.by_id = {s.id: s for s in self.sessions}
        self.cycles = sorted({s.cycle for s in self.sessions})
        self.dated = [s for s in self.sessions if s.start]
        self._dates: dict[datetime.date, _Day] = {}

    # --- lookups built the first time a row needs them ----------------------------------------------------------

    @cached_property
    def reviews_by_cycle(self) -> dict[tuple[int, int], list[_Session]]:
        """(state id, cycle number) -> the sessions of that state's reviews in that cycle."""
        found: dict[tuple[int, int], list[_Session]] = {}
        for state_id, session_id in Review.objects.values_list("state_id", "session_id").order_by("session__number"):
            session = self.by_id[session_id]
            found.setdefault((state_id, session.cycle), []).append(session)
        return found

    @cached_property
    def report_symbols(self) -> dict[str, tuple[int, _Session]]:
        """Working Group report symbol (upper case) -> (state id, session) of its review."""
        reviews = Review.objects.exclude(report_symbol="").values_list(Upper("report_symbol"), "state_id", "session_id")
        return {
            symbol_normalise(symbol): (state_id, self.by_id[session_id]) for symbol, state_id, session_id in reviews
        }

    @cached_property
    def state_names(self) -> dict[int, str]:
        return dict(State.objects.values_list("id", "short_name"))

    # --- one row --------------------------------------------------------------------------------------------------

    def locate(self, *, values: dict[str, str], state_id: int | None, state_value: str) -> Located:
        """The row's review from its REVIEW_FIELDS values (an empty one is not given) and the state its state under
        review cell names (state_value is that cell: "" when the file has no such column or the cell is empty)."""
        located = Located(state_id)
        claims: list[_Claim] = []  # every value that names a session
        day: tuple[str, datetime.date] | None = None  # a date that names no session on its own
        cycle: tuple[str, int] | None = None
        for name in REVIEW_FIELDS:
            value = values.get(name, "")
            if not value:
                continue
            if name == "session":
                session = self.by_number.get(whole_number(value))  # type: ignore[arg-type]
                if session is None:
                    located.problem(name, value, f"Unknown session ({self._known_sessions()}).")
                else:
                    claims.append(_Claim(name, value, session))
            elif name == "date":
                date = date_parse(value)
                if date is None:
                    located.problem(name, value, f"Not a date; write it as {DATE_FORMATS}.")
                elif (session := self._on(date).session) is not None:
                    claims.append(_Claim(name, value, session))
                else:
                    day = (value, date)
            elif name == "cycle":
                number = whole_number(value)
                if number not in self.cycles:
                    known = f"{self.cycles[0]}–{self.cycles[-1]}" if self.cycles else "none"
                    located.problem(name, value, f"Unknown cycle (known cycles are {known}).")
                else:
                    cycle = (value, number)
            else:
                self._symbol(value, located, claims, state_value)
        for claim in claims[1:]:
            if claim.session != claims[0].session:
                located.problem(claim.field, claim.value, self._disagreement(claims[0], claim))
        if located.problems:
            return located
        named = claims[0] if claims else None
        if named is None and cycle is not None:
            named = self._by_cycle(located, *cycle)
        if named is not None:
            located.session = named.session
            self._check_agrees(located, named, day, cycle)
        elif day is not None:
            located.problem("date", day[0], self._on(day[1]).message)
        elif cycle is None:
            given = [name for name in REVIEW_FIELDS if name in self.columns]
            empty = " or ".join(self.columns[name] for name in given)
            located.problem(given[0], "", f"No {empty} given: say which review this row belongs to.")
        return located

    def _symbol(self, value: str, located: Located, claims: list[_Claim], state_value: str) -> None:
        """A document symbol: the session and state it names, or the review whose report it is."""
        symbol = symbol_normalise(value)
        if match := _WG6.fullmatch(symbol):
            session = self.by_number.get(int(match[1]))
            state_id, why = self.state_of(match[2])
            if session is None:
                message = f"Unknown session {int(match[1])} in the symbol ({self._known_sessions()})."
                return located.problem("document_symbol", value, message)
            if state_id is None:
                return located.problem("document_symbol", value, f"Unknown state code in the symbol: {why}")
        else:
            council = _COUNCIL.fullmatch(symbol)
            review = self.report_symbols.get(symbol) or (council and self.report_symbols.get(council[1]))
            if not review:
                message = f"Unknown document symbol; {_SYMBOL_HELP}"
                if council:
                    message = (
                        f"No review has the Working Group report {council[1]}: record it there, or give the session."
                    )
                return located.problem("document_symbol", value, message)
            state_id, session = review
        claims.append(_Claim("document_symbol", value, session))
        if located.state_id is None and not state_value:
            located.state_id = state_id  # the symbol names the state, where the row does not
        elif located.state_id is not None and located.state_id != state_id:
            names = self.state_names
            column = self.columns["state_under_review"]
            message = (
                f'The symbol is {names[state_id]}\'s, but {column} is "{state_value}" ({names[located.state_id]}).'
            )
            located.problem("document_symbol", value, message)

    def _check_agrees(
        self, located: Located, claim: _Claim, day: tuple[str, datetime.date] | None, cycle: tuple[str, int] | None
    ) -> None:
        """Beside a value that names the session, a date that names none and a cycle must fit that session."""
        session, said = claim.session, f'{self.columns[claim.field]} "{claim.value}"'
        if day is not None:
            value, date = day
            if session.start:
                located.problem("date", value, f"{_day(date)} is not a day of {session}, which {said} gives.")
            elif session not in self._on(date).undated:
                message = (
                    f"{_day(date)} cannot be a day of session {session.number} ({session.year}), which {said} gives."
                )
                located.problem("date", value, message)
        if cycle is None or claim.field == "cycle":
            return
        value, number = cycle
        if number != session.cycle:
            message = f"Session {session.number}, which {said} gives, is in cycle {session.cycle}, not {number}."
            located.problem("cycle", value, message)
            return
        # The cycle means the state's review in it, where one is recorded: a session of another review disagrees.
        reviewed = self.reviews_by_cycle.get((located.state_id, number), []) if located.state_id else []
        if reviewed and session not in reviewed:
            name, numbers = self.state_names[located.state_id], " and ".join(str(s.number) for s in reviewed)
            where = f"{name}'s review in cycle {number} is in session {numbers}"
            located.problem("cycle", value, f"Disagrees with {said}: {where}, not {session.number}.")

    def _by_cycle(self, located: Located, value: str, number: int) -> _Claim | None:
        """The session of the state's one review in that cycle, which must be recorded already."""
        if located.state_id is None:
            return None  # the state's own problem is reported
        name = self.state_names[located.state_id]
        sessions = self.reviews_by_cycle.get((located.state_id, number), [])
        if len(sessions) == 1:
            return _Claim("cycle", value, sessions[0])
        if sessions:
            numbers = " and ".join(str(s.number) for s in sessions)
            message = f"{name} has reviews in sessions {numbers} of cycle {number}: give the session for this row."
        else:
            message = f"No review of {name} in cycle {number} is known: give the session number for this row."
        located.problem("cycle", value, message)
        return None

    def _disagreement(self, first: _Claim, other: _Claim) -> str:
        said = f'{self.columns[first.field]} "{first.value}"'
        return f"Disagrees with {said}: this is session {other.session.number}, that is {first.session.number}."

    # --- dates ------------------------------------------------------------------------------------------------------

    def _on(self, date: datetime.date) -> _Day:
        """The session the day falls in, or why none is known. Cached per day: a file repeats its dates."""
        if date not in self._dates:
            self._dates[date] = self._on_uncached(date)
        return self._dates[date]

    def _on_uncached(self, date: datetime.date) -> _Day:
        for session in self.dated:
            if session.start <= date <= session.end:  # type: ignore[operator]
                return _Day(session)
        day = _day(date)
        undated = tuple(self._undated_candidates(date))
        if undated:
            numbers = " or ".join(str(s.number) for s in undated)
            which = f"session {numbers}" if len(undated) == 1 else f"sessions {numbers}"
            return _Day(None, undated, f"{day} may be a day of {which} ({date.year}), whose dates are not known: "
                        "give the session number (a session column) instead of the date.")  # fmt: skip
        before = [s for s in self.dated if s.end < date]  # type: ignore[operator]
        after = [s for s in self.dated if s.start > date]  # type: ignore[operator]
        closest = [str(s) for s in (before[-1:] + after[:1])]
        if not closest:
            return _Day(None, message=f"No session was held on {day}, and no session's dates are known.")
        return _Day(None, message=f"No session was held on {day}; the closest are {' and '.join(closest)}.")

    def _undated_candidates(self, date: datetime.date) -> list[_Session]:
        """Sessions of that year with unknown dates that could have been held that day: sessions are numbered in
        order, so such a session lies after the dated session before it and before the dated one after it."""
        found = []
        for session in self.sessions:
            if session.start or session.year != date.year:
                continue
            before = [s for s in self.dated if s.number < session.number]
            after = [s for s in self.dated if s.number > session.number]
            if (not before or before[-1].end < date) and (not after or after[0].start > date):
                found.append(session)
        return found

    def _known_sessions(self) -> str:
        if not self.sessions:
            return "no session is known"
        return f"known sessions are {self.sessions[0].number}–{self.sessions[-1].number}"


def _day(date: datetime.date) -> str:
    """ "12 May 2015": unambiguous whichever way the reader writes dates."""
    return f"{date.day} {_MONTH_NAMES[date.month - 1]} {date.year}"


def _span(start: datetime.date | None, end: datetime.date | None) -> str:
    """ "19–30 January 2015", "22 October–5 November 2012", "27 December 2010–7 January 2011"."""
    if start is None or end is None:
        return "dates not known"
    if start.year != end.year:
        return f"{_day(start)}–{_day(end)}"
    if start.month != end.month:
        return f"{start.day} {_MONTH_NAMES[start.month - 1]}–{_day(end)}"
    return f"{start.day}–{_day(end)}"
