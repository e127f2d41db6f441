"""Rows -> the recommendations and organisations they name, for all rows at once: each touched review's
recommendations are loaded once (with their recommending states), never one query per row."""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models.functions import Lower

from followup import rules
from followup.imports.layout import IDENTITY, KINDS_HELP
from followup.imports.rows import COMPARED, Row
from followup.models import Organisation
from recommendations.imports.keys import text_normalise
from recommendations.imports.layouts import Layout
from recommendations.imports.problems import Problem
from recommendations.imports.runs import ImportReport
from recommendations.models import Recommendation
from reviews.models import Review, Session, State
from reviews.names import normalise_name
from reviews.selectors import state_index

CHUNK = 5000  # ids per IN (...) lookup
_K = Organisation.Kind


def chunks(items: Iterable, size: int = CHUNK) -> Iterator[list]:
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


class RecommendationFinder:
    """Finds each row's recommendation: by id, or by review, text (keys.text_normalise) and recommending states.

    Queries: the rows' ids, their reviews, and those reviews' recommendations and recommending states.
    """

    def __init__(self, rows: list[Row], layout: Layout):
        self.columns = layout.columns
        self.identity = ", ".join(self.columns.get(name, name) for name in IDENTITY)
        self.states = dict(State.objects.values_list("id", "short_name"))
        self.sessions = dict(Session.objects.values_list("id", "number"))
        self.by_id: dict[int, tuple[int, int, str]] = {}
        for chunk in chunks({r.recommendation_id for r in rows if r.recommendation_id is not None}):
            found = Recommendation.objects.filter(pk__in=chunk)
            for pk, state, session, text in found.values_list("id", "review__state_id", "review__session_id", "text"):
                self.by_id[pk] = (state, session, text_normalise(text))
        wanted = {(r.state_id, r.session_id) for r in rows if r.recommendation_id is None}
        reviews = Review.objects.filter(state_id__in={s for s, _ in wanted}, session_id__in={n for _, n in wanted})
        self.reviews = {
            (state, session): pk
            for pk, state, session in reviews.values_list("id", "state_id", "session_id")
            if (state, session) in wanted
        }
        # review -> normalised text -> [(recommendation, its recommending states)]
        self.texts: dict[int, dict[str, list[tuple[int, frozenset[int]]]]] = defaultdict(lambda: defaultdict(list))
        links: dict[int, set[int]] = defaultdict(set)
        for chunk in chunks(self.reviews.values(), 200):
            through = Recommendation.recommending_states.through.objects.filter(recommendation__review_id__in=chunk)
            for recommendation, state in through.values_list("recommendation_id", "state_id"):
                links[recommendation].add(state)
            found = Recommendation.objects.filter(review_id__in=chunk)
            for pk, review, text in found.values_list("id", "review_id", "text"):
                self.texts[review][text_normalise(text)].append((pk, frozenset(links[pk])))

    def find(self, row: Row) -> Problem | None:
        """Set row.recommendation_id and row.state_id; or leave the id None and return the problem."""
        if row.recommendation_id is not None:
            return self._by_id(row)
        names, sessions = self.states, self.sessions
        where = f"{names[row.state_id]}'s session {sessions[row.session_id]} review"
        review = self.reviews.get((row.state_id, row.session_id))
        if review is None:
            return Problem(row.row, self.identity,
                           f"{row.originals['state_under_review']}, session {row.originals['session']}",
                           f"No review of {names[row.state_id]} in session {sessions[row.session_id]} is recorded: "
                           "import its recommendations first.")  # fmt: skip
        candidates = self.texts[review].get(text_normalise(row.text), [])
        made_by = ""
        if row.recommending is not None:
            # The same states, else a recommendation they made with others (one row per state in some sources).
            exact = [c for c in candidates if c[1] == row.recommending]
            candidates = exact or [c for c in candidates if row.recommending <= c[1]]
            made_by = f" made by {'; '.join(sorted(names[s] for s in row.recommending))}"
        if not candidates:
            return Problem(row.row, self.identity, row.text, f"No recommendation of {where} has this text{made_by}.")
        if len(candidates) > 1:
            by = " / ".join("; ".join(sorted(names[s] for s in c[1])) or "unknown" for c in candidates)
            states_column = self.columns.get("recommending_states", "recommending_states")
            id_column = self.columns.get("recommendation_id", "recommendation_id")
            return Problem(row.row, self.identity, row.text,
                           f"{len(candidates)} recommendations of {where} have this text{made_by} (recommending "
                           f"states: {by}): give the recommending states (column {states_column}) or the "
                           f"recommendation id (column {id_column}).")  # fmt: skip
        row.recommendation_id = candidates[0][0]
        return None

    def _by_id(self, row: Row) -> Problem | None:
        found = self.by_id.get(row.recommendation_id)
        value = row.originals["recommendation_id"]
        if found is None:
            problem = Problem(row.row, self.columns["recommendation_id"], value, "No recommendation has this id.")
        elif row.state_id not in (None, found[0]) or row.session_id not in (None, found[1]):
            problem = Problem(row.row, self.identity, value,
                              f"Recommendation {row.recommendation_id} belongs to {self.states[found[0]]}'s session "
                              f"{self.sessions[found[1]]} review, not to this row's: check the id or the other "
                              "columns.")  # fmt: skip
        elif row.text and text_normalise(row.text) != found[2]:
            problem = Problem(row.row, self.identity, value, f"Recommendation {row.recommendation_id} has another "
                              "text than this row's: check the id or the text.")  # fmt: skip
        else:
            row.state_id = found[0]
            return None
        row.recommendation_id = None
        return problem


def recommendations_find(rows: list[Row], layout: Layout, report: ImportReport) -> None:
    finder = RecommendationFinder(rows, layout)
    for row in rows:
        if problem := finder.find(row):
            report.error(problem)


def dates_check(rows: list[Row], layout: Layout, report: ImportReport) -> None:
    """Each row's date against its review (followup.rules, as for the pages and the API): not before the review,
    and a mid-term assessment before the state's next review. Rows whose recommendation was not found are left to
    their own error."""
    found = [row for row in rows if row.recommendation_id is not None]
    reviews: dict[int, int] = {}
    for chunk in chunks({row.recommendation_id for row in found}):
        reviews.update(Recommendation.objects.filter(pk__in=chunk).values_list("pk", "review_id"))
    dates = rules.reviews_dates(set(reviews.values()))
    for row in found:
        try:
            rules.date_and_phase_check(row.assessed_on, row.phase, dates[reviews[row.recommendation_id]])
        except ValidationError as error:
            name = "phase" if error.code == "phase_dates" else "date"
            column = layout.columns.get(name, name)
            value = row.originals.get(name, "") or (row.phase if name == "phase" else row.assessed_on.isoformat())
            report.error(Problem(row.row, column, value, error.messages[0]))


@dataclass
class OrganisationRef:
    name: str
    kind: str
    pk: int | None = None  # None: created on commit
    country_id: int | None = None
    row: int = 0  # the first row that names it


def organisations_find(rows: list[Row], layout: Layout, report: ImportReport) -> dict[str, OrganisationRef]:
    """Organisations by case-folded name: the stored ones (one query) and the ones to create, kinds checked."""
    found: dict[str, OrganisationRef] = {}
    # SQL's lower() and Python's casefold() differ on a few letters (ß): query by lower(), key by casefold().
    for chunk in chunks({r.organisation.lower() for r in rows}):
        stored = Organisation.objects.annotate(lowered=Lower("name")).filter(lowered__in=chunk)
        for pk, name, kind in stored.values_list("id", "name", "kind"):
            found.setdefault(name.casefold(), OrganisationRef(name, kind, pk))
    column = layout.columns.get("organisation_kind", "organisation_kind")
    states = state_index()
    for row in rows:
        key = row.organisation.casefold()
        organisation = found.get(key)
        if organisation is None:
            if not row.kind:
                report.error(Problem(row.row, layout.columns["organisation"], row.organisation,
                                     f"Unknown organisation: to create it, give its kind ({KINDS_HELP}) in column "
                                     f"{column}."))  # fmt: skip
                continue
            # A state speaking for itself: the state its name resolves to, else the state under review.
            country = states.get(normalise_name(row.organisation), row.state_id) if row.kind == _K.STATE else None
            found[key] = OrganisationRef(row.organisation, row.kind, None, country, row.row)
            report.warning(Problem(row.row, layout.columns["organisation"], row.organisation,
                                   f"New organisation: created with the import, as {_K(row.kind).label}."))  # fmt: skip
        elif row.kind and row.kind != organisation.kind:
            first = f"row {organisation.row} says" if organisation.pk is None else "it is recorded as"
            report.error(Problem(row.row, column, row.originals["organisation_kind"],
                                 f'Organisation "{organisation.name}" is of another kind: {first} '
                                 f"{_K(organisation.kind).label}."))  # fmt: skip
    return found


def duplicates_drop(rows: list[Row], layout: Layout, report: ImportReport) -> list[Row]:
    """One row per recommendation, organisation and phase: exact repeats warned and dropped, others errors."""
    first: dict[tuple, Row] = {}
    kept = []
    for row in rows:
        if row.recommendation_id is None:
            continue
        key = (row.recommendation_id, row.organisation.casefold(), row.phase)
        other = first.setdefault(key, row)
        if other is row:
            kept.append(row)
        elif other.values() == row.values():
            report.warning(Problem(row.row, "", "", f"Exact duplicate of row {other.row}: imported once."))
        else:
            differs = next(n for n, a, b in zip(COMPARED, other.values(), row.values(), strict=True) if a != b)
            name = "date" if differs == "assessed_on" else differs
            report.error(Problem(row.row, layout.columns.get(name, name), row.originals[name],
                                 f"Same recommendation, organisation and phase as row {other.row}, with another "
                                 f'{name.replace("_", " ")} ("{other.originals[name][:60]}"): keep one of the '
                                 "two rows."))  # fmt: skip
    return kept
