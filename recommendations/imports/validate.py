"""One row of cells -> a checked ParsedRow, or the problems that keep it out."""

import functools
from dataclasses import dataclass

from recommendations.imports.keys import recommendation_natural_key
from recommendations.imports.layouts import REVIEW_FIELDS, UPR_INFO, Layout
from recommendations.imports.normalise import PLEDGE, RESPONSE_SYNONYMS, cell_clean, cell_split, synonym
from recommendations.imports.problems import Problem
from recommendations.imports.review_lookup import ReviewLookup, whole_number
from recommendations.models import Issue, Recommendation
from reviews.names import normalise_name
from reviews.selectors import UnknownState, state_index, state_resolve

TEXT_MAX = 10_000
# UPR Info's "From" for a recommendation whose author it does not know (9 rows in sessions 1-20): imported as a
# recommendation without recommending state, with a warning.
UNKNOWN_STATE_WORDS = {"unknown", "(unknown)"}
# UPR Info files 33 rows of session 11 (2011) under "South Sudan", whose first review was in 2016: they belong
# to Sudan's 2011 review (SOURCES.md). They cannot simply be moved into Sudan's review: 26 of them repeat Sudan's
# own recommendations with the opposite response, which would be conflicting duplicates. So they are imported as
# UPR Info files them (a review of South Sudan in session 11, keeping the reference figures: 193 states under
# review) and every such row carries a warning that says so.
# Names repeat on thousands of rows: normalise each once.
_normalised = functools.lru_cache(maxsize=8192)(normalise_name)
_RESPONSE_HELP = 'Unknown response; use accepted (or supported), noted (or rejected), pending, or "voluntary pledge".'
_MISFILED_REVIEWS = {("south sudan", 11): "Sudan"}


@dataclass
class ParsedRow:
    row: int
    state_id: int
    session_id: int
    kind: str
    recommending_state_ids: tuple[int, ...]
    text: str
    paragraph_ref: str
    response: str
    response_original: str
    action_category: int | None
    issue_ids: frozenset[int]
    natural_key: str


class RowValidator:
    def __init__(self, *, layout: Layout):
        self.layout = layout
        self.states = state_index()
        self.reviews = ReviewLookup(columns=layout.columns, state_of=self._state)
        self.review_fields = [name for name in REVIEW_FIELDS if name in layout.columns]
        self.issues = {normalise_name(name): pk for pk, name in Issue.objects.values_list("id", "name")}
        self._state_errors: dict[str, str] = {}
        self.misfiled = {(self.states.get(bad), number): good for (bad, number), good in _MISFILED_REVIEWS.items()}

    def _cell(self, cells: list[str], index: dict[str, int], name: str, *, raw: bool = False) -> str:
        column = self.layout.columns.get(name)
        if column is None:
            return ""
        i = index[column]
        value = cell_clean(cells[i]) if i < len(cells) else ""
        return synonym(value, self.layout.synonyms[name]) if name in self.layout.synonyms and not raw else value

    def _state(self, name: str) -> tuple[int | None, str]:
        pk = self.states.get(_normalised(name))
        if pk is not None:
            return pk, ""
        if name not in self._state_errors:
            try:
                self._state_errors[name] = ""
                return state_resolve(name=name).pk, ""
            except UnknownState as exc:
                self._state_errors[name] = str(exc)
        return None, self._state_errors[name] or f'Unknown state "{name}".'

    def parse(
        self, number: int, cells: list[str], index: dict[str, int]
    ) -> tuple[ParsedRow | None, list[Problem], list[Problem]]:
        errors: list[Problem] = []
        warnings: list[Problem] = []
        columns = self.layout.columns

        def error(name: str, value: str, message: str) -> None:
            errors.append(Problem(number, columns.get(name, name), value, message))

        def warn(name: str, value: str, message: str) -> None:
            warnings.append(Problem(number, columns.get(name, name), value, message))

        under_review = self._cell(cells, index, "state_under_review")
        state_id, message = self._state(under_review) if under_review else (None, "")
        if state_id is None and under_review:
            error("state_under_review", under_review, message)
        located = self.reviews.locate(
            values={name: self._cell(cells, index, name) for name in self.review_fields},
            state_id=state_id,
            state_value=under_review,
        )
        for name, value, message in located.problems:
            error(name, value, message)
        state_id, session_id, session_number = located.state_id, located.session_id, located.session_number
        symbol_failed = any(name == "document_symbol" for name, _, _ in located.problems)
        if state_id is None and not under_review and not symbol_failed:
            if "state_under_review" in columns:
                error("state_under_review", "", "The state under review is empty.")
            else:
                error("document_symbol", "", "No document symbol, and it is what names the state under review here.")
        elif self.layout.name == UPR_INFO and (state_id, session_number) in self.misfiled:
            warn("state_under_review", under_review,
                 f"UPR Info files part of {self.misfiled[(state_id, session_number)]}'s session {session_number} "
                 "review under this name; kept as filed, since many rows repeat that review's recommendations "
                 "with another response.")  # fmt: skip

        text = self._cell(cells, index, "text")
        if not text:
            error("text", text, "The text is empty.")
        elif len(text) > TEXT_MAX:
            error("text", text, f"The text has {len(text):,} characters, over the limit of {TEXT_MAX:,}.")

        response_value = self._cell(cells, index, "response")
        kind = Recommendation.Kind.RECOMMENDATION
        response = RESPONSE_SYNONYMS.get(response_value.casefold())
        if response_value.casefold() == PLEDGE:
            kind, response = Recommendation.Kind.VOLUNTARY_PLEDGE, Recommendation.Response.NOT_APPLICABLE
        elif response is None:
            error("response", response_value, _RESPONSE_HELP)

        action_value = self._cell(cells, index, "action_category")
        action = whole_number(action_value) if action_value else None
        if action_value and not (action and 1 <= action <= 5):
            error("action_category", action_value, "Unknown action category; use 1 to 5, or leave it empty.")
            action = None

        recommending: list[int] = []
        states_value = self._cell(cells, index, "recommending_states")
        for name in cell_split(states_value, self.layout.separators.get("recommending_states")):
            if name.casefold() in UNKNOWN_STATE_WORDS:
                warn("recommending_states", name, "Recommending state unknown: imported without recommending state.")
                continue
            pk, message = self._state(name)
            if pk is None:
                error("recommending_states", name, message)
            elif pk not in recommending:
                recommending.append(pk)
        if kind == Recommendation.Kind.VOLUNTARY_PLEDGE and state_id is not None:
            if recommending and recommending != [state_id]:
                warn("recommending_states", states_value, "A pledge is the state's own; the pledging state is kept.")
            recommending = [state_id]

        issue_ids: set[int] = set()
        for name in cell_split(self._cell(cells, index, "issues"), self.layout.separators.get("issues")):
            pk = self.issues.get(_normalised(name))
            if pk is None:
                error("issues", name, "Unknown issue (see the list of 54 issues).")
            else:
                issue_ids.add(pk)

        if errors:
            return None, errors, warnings
        paragraph = self._cell(cells, index, "paragraph_ref")
        key = recommendation_natural_key(
            kind=kind, paragraph_ref=paragraph, text=text, recommending_state_ids=recommending
        )
        parsed = ParsedRow(
            row=number,
            state_id=state_id,
            session_id=session_id,
            kind=kind,
            recommending_state_ids=tuple(sorted(recommending)),
            text=text,
            paragraph_ref=paragraph,
            response=response,
            response_original=self._cell(cells, index, "response", raw=True)[:100],
            action_category=action,
            issue_ids=frozenset(issue_ids),
            natural_key=key,
        )
        return parsed, errors, warnings
