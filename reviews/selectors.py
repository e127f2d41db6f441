"""Reads for states, sessions and reviews."""

import datetime
import difflib
import functools
from collections.abc import Callable, Iterable
from dataclasses import astuple, dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Exists, F, Func, IntegerField, Max, Min, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from recommendations.models import Recommendation
from reviews.models import Cycle, RegionalGroup, Review, Session, State, StateAlias
from reviews.names import normalise_name


class UnknownState(State.DoesNotExist, ValueError):
    """No state goes by this name; the message suggests the closest known ones."""


class UnknownSession(Session.DoesNotExist, ValueError):
    """No session has this number; the message gives the known range."""


# --- Browsing pages: states, sessions and cycles with their recommendation counts --------------------------------

_RECOMMENDATION = Recommendation.Kind.RECOMMENDATION
_RESPONSES = (
    ("accepted", Recommendation.Response.ACCEPTED),
    ("noted", Recommendation.Response.NOTED),
    ("pending", Recommendation.Response.PENDING),
)
# Assessment.Status's values, lowest first; "" (not assessed) is the fifth implementation status.
_STATUSES = ("not_implemented", "partially_implemented", "fully_implemented", "no_information")


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


@dataclass(frozen=True)
class Tally:
    """Recommendations (never pledges) counted by response and by consolidated implementation status at mid-term.

    As in DOMAIN.md: assessed = a status other than "no information"; triggered action = partially or fully
    implemented, its percentage over the assessed; coverage = assessed over all.
    """

    total: int = 0
    accepted: int = 0
    noted: int = 0
    pending: int = 0
    not_implemented: int = 0
    partially_implemented: int = 0
    fully_implemented: int = 0
    no_information: int = 0

    @classmethod
    def of(cls, row) -> "Tally":
        """From a row annotated by _tally_counts() (a dict from values(), or a model instance)."""
        get = row.get if isinstance(row, dict) else functools.partial(getattr, row)
        return cls(*(get(f"n_{name}") or 0 for name in cls.__dataclass_fields__))

    def __add__(self, other: "Tally") -> "Tally":
        return Tally(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))

    @property
    def accepted_pct(self) -> float | None:
        return _percent(self.accepted, self.total)

    @property
    def triggered(self) -> int:
        return self.partially_implemented + self.fully_implemented

    @property
    def assessed(self) -> int:
        return self.triggered + self.not_implemented

    @property
    def not_assessed(self) -> int:
        return self.total - self.assessed

    @property
    def triggered_pct(self) -> float | None:
        return _percent(self.triggered, self.assessed)

    @property
    def coverage_pct(self) -> float | None:
        return _percent(self.assessed, self.total)


def _tally_counts(path: str = "") -> dict[str, Count]:
    """COUNT ... FILTER expressions for a Tally: over a queryset of recommendations (path "") or through a relation
    to them (path "recommendations__")."""

    def counted(**condition) -> Count:
        return Count(
            f"{path}id", filter=Q(**{f"{path}kind": _RECOMMENDATION}, **{path + k: v for k, v in condition.items()})
        )

    return {
        "n_total": counted(),
        **{f"n_{name}": counted(response=value) for name, value in _RESPONSES},
        **{f"n_{status}": counted(implementation_status=status) for status in _STATUSES},
    }


def _tallied(reviews: QuerySet[Review]) -> list[Review]:
    """The reviews, each with its recommendations counted in SQL (n_total, n_accepted, ...) and as `tally`, and
    `query`: the search page's parameters for its recommendations."""
    reviews = list(reviews.select_related("state", "session").annotate(**_tally_counts("recommendations__")))
    for review in reviews:
        review.tally = Tally.of(review)
        review.query = f"sur={review.state.iso3}&session={review.session.number}"  # the search page's parameters
    return reviews


def _cached[T](name: str, compute: Callable[[], T]) -> T:
    """Counts over the whole table (hundreds of milliseconds at a million recommendations) are kept in the cache
    until the data changes (recommendations.facets.data_version), at most SEARCH_CACHE_SECONDS (0: not cached)."""
    if not settings.SEARCH_CACHE_SECONDS:
        return compute()
    from recommendations.facets import data_version

    key = f"uprtrax:browse:{name}:{data_version()}"
    return cache.get_or_set(key, compute, timeout=settings.SEARCH_CACHE_SECONDS)


def _state_counts() -> dict[int, tuple[int, int]]:
    """State id -> (recommendations received, recommendations made): three grouped scans, no per-state subquery."""
    received = (
        Recommendation.objects.filter(kind=_RECOMMENDATION).values_list("review__state_id").annotate(n=Count("id"))
    )
    # Links to pledges are left out by a hashed uncorrelated IN (a few thousand pledges) rather than by joining
    # every link to its recommendation.
    pledges = Recommendation.objects.filter(kind=Recommendation.Kind.VOLUNTARY_PLEDGE).values("pk")
    made = Recommendation.recommending_states.through.objects.values_list("state_id").annotate(
        n=Count("id") - Count("id", filter=Q(recommendation__in=pledges))
    )
    received, made = dict(received.order_by()), dict(made.order_by())
    return {pk: (received.get(pk, 0), made.get(pk, 0)) for pk in received.keys() | made.keys()}


def browse_counts_warm() -> None:
    """Count the states' and the sessions' lists into the cache (each a scan of the whole table, about half a second
    at a million recommendations), so that no visitor waits for them after the data changed: for a task run after
    recommendations.facets.search_data_changed()."""
    _cached("state-counts", _state_counts)
    _cached("session-counts", _session_counts)


def state_list_with_counts() -> list[State]:
    """Every state, by regional group then name, with `n_received` and `n_made` recommendations."""
    counts = _cached("state-counts", _state_counts)
    states = list(State.objects.select_related("regional_group").order_by("regional_group__name", "short_name"))
    for state in states:
        state.n_received, state.n_made = counts.get(state.pk, (0, 0))
    return states


def state_get(*, iso3: str) -> State:
    """The state with this ISO3 code (exact, upper case), with its group and organisations.

    Raises State.DoesNotExist.
    """
    return State.objects.select_related("regional_group").prefetch_related("organisations").get(iso3=iso3)


def state_reviews_with_counts(*, state: State) -> list[Review]:
    """The state's reviews, oldest first, each with its recommendations counted by response and implementation."""
    return _tallied(Review.objects.filter(state=state).select_related("session__cycle").order_by("session__number"))


def _session_counts() -> dict[int, tuple[int, Tally]]:
    """Session number -> (states reviewed, Tally of its recommendations): two grouped queries, the second over the
    recommendations' own session_number (kept by the database) rather than through a join to their reviews."""
    reviews = dict(Review.objects.values_list("session__number").annotate(n=Count("id")).order_by())
    tallies = (
        Recommendation.objects.filter(kind=_RECOMMENDATION)
        .values("session_number")
        .annotate(**_tally_counts())
        .order_by()
    )
    tally_of = {row["session_number"]: Tally.of(row) for row in tallies}
    return {number: (n, tally_of.get(number, Tally())) for number, n in reviews.items()}


def session_list_with_counts() -> list[Session]:
    """Every session, in order, with its cycle, `n_reviews` (states reviewed) and `tally` (recommendations by
    response and implementation; also as `n_recommendations` and `n_accepted`) and `query` (its search parameters)."""
    counts = _cached("session-counts", _session_counts)
    sessions = list(Session.objects.select_related("cycle").order_by("number"))
    for session in sessions:
        session.n_reviews, session.tally = counts.get(session.number, (0, Tally()))
        session.n_recommendations, session.n_accepted = session.tally.total, session.tally.accepted
        session.query = f"session={session.number}"
    return sessions


def session_list_latest(*, limit: int = 5) -> QuerySet[Session]:
    """The most recent sessions that have at least one review recorded (counts only for those few rows)."""
    recommendations = Recommendation.objects.filter(kind=_RECOMMENDATION, review__session=OuterRef("pk"))
    return (
        Session.objects.select_related("cycle")
        .annotate(n_reviews=_count_of(Review.objects.filter(session=OuterRef("pk"))))
        .filter(n_reviews__gt=0)
        .annotate(
            n_recommendations=_count_of(recommendations),
            n_accepted=_count_of(recommendations.filter(response=Recommendation.Response.ACCEPTED)),
        )
        .order_by("-number")[:limit]
    )


def _count_of(queryset: QuerySet) -> Coalesce:
    """A correlated COUNT(*) subquery: counts rows without joining them into the outer query (no row blow-up)."""
    counted = queryset.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _with_sessions(cycle: Cycle, sessions: list[Session]) -> Cycle:
    """The cycle with its `sessions_counted`, their sums (`n_reviews`, `tally`) and its search parameters (`query`)."""
    cycle.sessions_counted = [session for session in sessions if session.cycle_id == cycle.pk]
    cycle.n_reviews = sum(session.n_reviews for session in cycle.sessions_counted)
    cycle.tally = sum((session.tally for session in cycle.sessions_counted), Tally())
    cycle.query = f"cycle={cycle.number}"
    return cycle


def cycle_list_with_counts() -> list[Cycle]:
    """Every cycle with its sessions and their counts (summed from the sessions' counts, not counted again)."""
    sessions = session_list_with_counts()
    return [_with_sessions(cycle, sessions) for cycle in Cycle.objects.order_by("number")]


def cycle_get(*, number: int) -> Cycle:
    """The cycle with this number. Raises Cycle.DoesNotExist."""
    return Cycle.objects.get(number=number)


def cycle_with_counts(*, number: int) -> Cycle:
    """The cycle with this number, its sessions and their counts. Raises Cycle.DoesNotExist."""
    return _with_sessions(cycle_get(number=number), session_list_with_counts())


def tally_total(items) -> Tally:
    """The sum of the items' `tally` (reviews, sessions): a table's total row, from counts already made."""
    return sum((item.tally for item in items), Tally())


def session_get(*, number: int) -> Session:
    """The session with this number, with its cycle. Raises UnknownSession (a Session.DoesNotExist)."""
    try:
        return Session.objects.select_related("cycle").get(number=number)
    except Session.DoesNotExist:
        bounds = Session.objects.aggregate(first=Min("number"), last=Max("number"))
        known = f"known sessions are {bounds['first']}–{bounds['last']}" if bounds["first"] else "no session is known"
        raise UnknownSession(f"Unknown session {number}: {known}.") from None


def review_tallies(*, review_ids: Iterable[int]) -> dict[int, Tally]:
    """Review id -> its recommendations counted by response and implementation: one grouped query over the
    recommendations of these reviews only (a page of the API's list), through their review_id index."""
    rows = (
        Recommendation.objects.filter(review_id__in=list(review_ids))
        .values("review_id")
        .annotate(**_tally_counts())
        .order_by()
    )
    return {row["review_id"]: Tally.of(row) for row in rows}


def session_reviews_with_counts(*, session: Session) -> list[Review]:
    """The states reviewed in a session, by name, each with its recommendations counted by response and
    implementation (`tally`)."""
    reviews = Review.objects.filter(session=session).select_related("state__regional_group")
    return _tallied(reviews.order_by("state__short_name"))


# --- Resolving names from source data ----------------------------------------------------------------------------

_SUGGESTIONS = 3
_SUGGESTION_CUTOFF = 0.6


@functools.cache
def state_index() -> dict[str, int]:
    """Every alias's normal form -> its state's id, for importers that resolve thousands of names.

    Cached for the process; reference_data_load() clears it. Call state_index.cache_clear() after changing
    aliases some other way.
    """
    return dict(StateAlias.objects.values_list("normalised", "state_id"))


def state_resolve(*, name: str) -> State:
    """The state that goes by this name, ISO3 code or alias, whatever its case, accents and punctuation.

    Raises UnknownState naming the value and suggesting the closest known states.
    """
    normalised = normalise_name(name)
    state = State.objects.select_related("regional_group").filter(aliases__normalised=normalised).first()
    if normalised and state is not None:
        return state
    raise UnknownState(f'Unknown state "{name}". {_state_suggestions(normalised)}')


def _state_suggestions(normalised: str) -> str:
    """Up to three states whose aliases are closest to the name (difflib ratio; a whole-word match ranks high)."""
    aliases = StateAlias.objects.values_list("normalised", "name", "state__short_name", "state__iso3")
    scored = []
    for alias, alias_name, short_name, iso3 in aliases:
        score = difflib.SequenceMatcher(None, normalised, alias).ratio()
        if normalised and (f" {normalised} " in f" {alias} " or f" {alias} " in f" {normalised} "):
            score = max(score, 0.8)
        if score >= _SUGGESTION_CUTOFF:
            reads = short_name if normalise_name(alias_name) in {normalise_name(short_name), iso3.casefold()} else None
            scored.append((-score, short_name, reads or f"{short_name} ({alias_name})"))
    suggestions: dict[str, str] = {}  # short name -> how it reads
    for _, short_name, reads in sorted(scored):
        suggestions.setdefault(short_name, reads)
    if not suggestions:
        return "No known state has a close name."
    return f"Did you mean: {', '.join(list(suggestions.values())[:_SUGGESTIONS])}?"


# --- A state's profile: as state under review and as recommending state ------------------------------------------

_TOP = 10


@dataclass
class Bar:
    """One row of a bar chart with its table: a label, a count, its share of the whole, and where to read them."""

    label: str
    count: int
    percent: float
    query: str  # the search page's parameters that list exactly these recommendations
    variant: str = ""


def _bars(rows: list[tuple[str, int, str, str]], total: int) -> list[Bar]:
    """Bars for the rows that count something (label, count, search parameters, style variant)."""
    return [Bar(label, n, _percent(n, total) or 0.0, query, variant) for label, n, query, variant in rows if n]


def _figure_counts(*, actions: bool = False, cycles=(), regions=()) -> dict[str, Count]:
    """COUNT ... FILTER expressions for one aggregate over a set of recommendations: total, by response and by
    implementation status; by action category, cycle and regional group of the state under review if asked."""
    counts = {"total": Count("id")}
    counts |= {f"response_{value}": Count("id", filter=Q(response=value)) for _name, value in _RESPONSES}
    counts |= {f"status_{s or 'none'}": Count("id", filter=Q(implementation_status=s)) for s in (*_STATUSES, "")}
    if actions:
        categories = Recommendation.ActionCategory.values
        counts |= {f"action_{value}": Count("id", filter=Q(action_category=value)) for value in categories}
    counts |= {f"cycle_{n}": Count("id", filter=Q(review__session__cycle__number=n)) for n in cycles}
    counts |= {f"region_{code}": Count("id", filter=Q(review__state__regional_group__code=code)) for code, _ in regions}
    return counts


def _tally_of(counts: dict[str, int]) -> Tally:
    return Tally(
        counts["total"],
        *(counts[f"response_{value}"] for _name, value in _RESPONSES),
        *(counts[f"status_{status}"] for status in _STATUSES),
    )


def _response_bars(counts: dict[str, int], base: str) -> list[Bar]:
    rows = [(Recommendation.Response(value).label, counts[f"response_{value}"], f"{base}&response={value}", value)
            for _name, value in _RESPONSES]  # fmt: skip
    return _bars(rows, counts["total"])


def _status_bars(counts: dict[str, int], base: str) -> list[Bar]:
    from followup.models import Assessment

    rows = [(label, counts[f"status_{value or 'none'}"], f"{base}&status={value or 'none'}", value or "none")
            for value, label in [*Assessment.Status.choices, ("", "Not assessed")]]  # fmt: skip
    return _bars(rows, counts["total"])


def _state_profile(state: State) -> dict:
    links = Recommendation.recommending_states.through.objects
    received = Recommendation.objects.filter(kind=_RECOMMENDATION, review__state=state)
    r = received.aggregate(**_figure_counts(actions=True))
    issues = (
        Recommendation.issues.through.objects.filter(recommendation__in=received)
        .values_list("issue__name", "issue__slug")
        .annotate(n=Count("id"))
        .order_by("-n", "issue__name")[:_TOP]
    )
    recommenders = (
        links.filter(recommendation__in=received)
        .values_list("state__short_name", "state__iso3")
        .annotate(n=Count("id"))
        .order_by("-n", "state__short_name")[:_TOP]
    )
    # What the state made: its links, read through the index on state_id, then each recommendation by its key.
    made = Recommendation.objects.filter(
        kind=_RECOMMENDATION, id__in=links.filter(state=state).values("recommendation")
    )
    cycles = list(Cycle.objects.order_by("number").values_list("number", flat=True))
    regions = list(RegionalGroup.objects.order_by("name").values_list("code", "name"))
    m = made.aggregate(**_figure_counts(cycles=cycles, regions=regions))
    to_states = (
        made.values_list("review__state__short_name", "review__state__iso3")
        .annotate(n=Count("id"))
        .order_by("-n", "review__state__short_name")[:_TOP]
    )
    sur, by = f"sur={state.iso3}", f"from={state.iso3}"
    action_rows = [(label, r[f"action_{value}"], f"{sur}&action={value}", "")
                   for value, label in Recommendation.ActionCategory.choices]  # fmt: skip
    region_rows = sorted(((name, m[f"region_{code}"], f"{by}&sur_region={code}", "") for code, name in regions),
                         key=lambda row: -row[1])  # fmt: skip
    return {
        "received": {
            "tally": _tally_of(r),
            "total": r["total"],
            "responses": _response_bars(r, sur),
            "statuses": _status_bars(r, sur),
            "actions": _bars(action_rows, r["total"]),
            "issues": _bars([(name, n, f"{sur}&issue={slug}", "") for name, slug, n in issues], r["total"]),
            "recommenders": _bars([(name, n, f"{sur}&from={iso3}", "") for name, iso3, n in recommenders], r["total"]),
        },
        "made": {
            "tally": _tally_of(m),
            "total": m["total"],
            "responses": _response_bars(m, by),
            "statuses": _status_bars(m, by),
            "cycles": _bars([(f"Cycle {n}", m[f"cycle_{n}"], f"{by}&cycle={n}", "") for n in cycles], m["total"]),
            "states": _bars([(name, n, f"{by}&sur={iso3}", "") for name, iso3, n in to_states], m["total"]),
            "regions": _bars(region_rows, m["total"]),
        },
    }


def state_profile(*, state: State) -> dict:
    """What a diplomat reads on a state's page, counted in SQL: as state under review, its recommendations by
    response, implementation at mid-term, action category (one aggregate), and its top issues and recommending
    states; as recommending state, the recommendations it made by response, implementation, cycle and regional group
    of the state under review (one aggregate), and the states it recommended most to. Each chart row is a Bar that
    links to exactly its recommendations on the search page. Seven queries over this state's recommendations only
    (through the indexes on review and on the links' state), kept in the cache until the data changes."""
    return _cached(f"state-profile:{state.pk}", lambda: _state_profile(state))


# --- Preparing a session: what its states received last time, and how far it was implemented ----------------------

SESSIONS_PER_CYCLE = 14  # since the second cycle; a state keeps its place from one cycle to the next


def session_next(*, today: datetime.date) -> Session | None:
    """The next Working Group session: the first that starts after today, or, where dates are not known, the first
    of this year or later with no recommendation recorded yet."""
    dated = Session.objects.filter(start_date__gt=today).order_by("number").first()
    if dated is not None:
        return dated
    recorded = Recommendation.objects.filter(review__session=OuterRef("pk"))
    return (
        Session.objects.filter(start_date__isnull=True, year__gte=today.year)
        .exclude(Exists(recorded))
        .order_by("number")
        .first()
    )


def session_preparation(*, session: Session) -> dict:
    """For each state reviewed in the session (those recorded, else those at the same place of the previous cycle):
    its previous review, the recommendations it received there by response, and their implementation at mid-term
    (triggered action = partially or fully implemented, over the assessed ones; coverage = assessed over all).
    Three or four queries."""
    states = list(Review.objects.filter(session=session).values_list("state_id", flat=True))
    source = "recorded"
    if not states:
        states = list(
            Review.objects.filter(session__number=session.number - SESSIONS_PER_CYCLE).values_list(
                "state_id", flat=True
            )
        )
        source = "previous_cycle" if states else "unknown"
    previous = (
        Review.objects.filter(state=OuterRef("pk"), session__number__lt=session.number)
        .order_by("-session__number")
        .values("id")[:1]
    )
    previous_ids = State.objects.filter(id__in=states).annotate(previous=Subquery(previous)).values("previous")
    reviews = {
        review.state_id: review
        for review in _tallied(Review.objects.filter(id__in=previous_ids).select_related("session__cycle"))
    }
    rows = []
    for state in State.objects.filter(id__in=states).select_related("regional_group").order_by("short_name"):
        review = reviews.get(state.pk)
        row = {"state": state, "review": review}
        if review is not None:
            tally = review.tally
            row |= {"tally": tally, "triggered": tally.triggered, "assessed": tally.assessed,
                    "triggered_pct": tally.triggered_pct, "coverage_pct": tally.coverage_pct}  # fmt: skip
        rows.append(row)
    return {"source": source, "rows": rows}
