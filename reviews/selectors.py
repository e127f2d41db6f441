"""Reads for states, sessions and reviews."""

import datetime
import difflib
import functools
from dataclasses import dataclass

from django.db.models import Count, Exists, F, Func, IntegerField, Max, Min, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from recommendations.models import Recommendation
from reviews.models import Cycle, Review, Session, State, StateAlias
from reviews.names import normalise_name


class UnknownState(State.DoesNotExist, ValueError):
    """No state goes by this name; the message suggests the closest known ones."""


class UnknownSession(Session.DoesNotExist, ValueError):
    """No session has this number; the message gives the known range."""


# --- Browsing pages: states and sessions with their recommendation counts ----------------------------------------

_RECOMMENDATION = Recommendation.Kind.RECOMMENDATION
_RESPONSES = (
    ("accepted", Recommendation.Response.ACCEPTED),
    ("noted", Recommendation.Response.NOTED),
    ("pending", Recommendation.Response.PENDING),
)


def _count_of(queryset: QuerySet) -> Coalesce:
    """A correlated COUNT(*) subquery: counts rows without joining them into the outer query (no row blow-up)."""
    counted = queryset.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _with_response_counts(reviews: QuerySet[Review]) -> QuerySet[Review]:
    """Annotate reviews with their recommendations counted by response (a single join, so counts stay true)."""
    is_recommendation = Q(recommendations__kind=_RECOMMENDATION)
    counts = {
        f"n_{name}": Count("recommendations", filter=is_recommendation & Q(recommendations__response=value))
        for name, value in _RESPONSES
    }
    return reviews.annotate(n_total=Count("recommendations", filter=is_recommendation), **counts)


def state_list_with_counts() -> QuerySet[State]:
    """Every state, ordered by regional group then name, with recommendations received and made (correlated
    counts, so that the two never multiply each other's rows)."""
    received = Recommendation.objects.filter(kind=_RECOMMENDATION, review__state=OuterRef("pk"))
    # Links to pledges are left out through an uncorrelated NOT IN, which PostgreSQL hashes once for all states,
    # instead of joining every link to its recommendation once per state (0.5 s on 50,000 links).
    pledges = Recommendation.objects.filter(kind=Recommendation.Kind.VOLUNTARY_PLEDGE).values("pk")
    made = Recommendation.recommending_states.through.objects.filter(state=OuterRef("pk")).exclude(
        recommendation__in=pledges
    )
    return (
        State.objects.select_related("regional_group")
        .annotate(n_received=_count_of(received), n_made=_count_of(made))
        .order_by("regional_group__name", "short_name")
    )


def state_get(*, iso3: str) -> State:
    """The state with this ISO3 code (exact, upper case), with its group and organisations.

    Raises State.DoesNotExist.
    """
    return State.objects.select_related("regional_group").prefetch_related("organisations").get(iso3=iso3)


def state_reviews_with_counts(*, state: State) -> QuerySet[Review]:
    """The state's reviews, oldest first, each with its recommendations counted by response."""
    reviews = Review.objects.filter(state=state).select_related("session__cycle").order_by("session__number")
    return _with_response_counts(reviews)


def state_recommendations_made_counts(*, state: State) -> dict[str, int]:
    """How the recommendations this state made to others were answered: total, accepted, noted, pending."""
    counts = {name: Count("id", filter=Q(response=value)) for name, value in _RESPONSES}
    return Recommendation.objects.filter(kind=_RECOMMENDATION, recommending_states=state).aggregate(
        total=Count("id"), **counts
    )


def session_list_with_counts() -> QuerySet[Session]:
    """Every session, in order, with the number of states reviewed and of recommendations (total, accepted)."""
    recommendations = Recommendation.objects.filter(kind=_RECOMMENDATION, review__session=OuterRef("pk"))
    return (
        Session.objects.select_related("cycle")
        .annotate(
            n_reviews=_count_of(Review.objects.filter(session=OuterRef("pk"))),
            n_recommendations=_count_of(recommendations),
            n_accepted=_count_of(recommendations.filter(response=Recommendation.Response.ACCEPTED)),
        )
        .order_by("number")
    )


def session_list_latest(*, limit: int = 5) -> QuerySet[Session]:
    """The most recent sessions that have at least one review recorded."""
    return session_list_with_counts().filter(n_reviews__gt=0).order_by("-number")[:limit]


def cycle_get(*, number: int) -> Cycle:
    """The cycle with this number. Raises Cycle.DoesNotExist."""
    return Cycle.objects.get(number=number)


def session_get(*, number: int) -> Session:
    """The session with this number, with its cycle. Raises UnknownSession (a Session.DoesNotExist)."""
    try:
        return Session.objects.select_related("cycle").get(number=number)
    except Session.DoesNotExist:
        bounds = Session.objects.aggregate(first=Min("number"), last=Max("number"))
        known = f"known sessions are {bounds['first']}–{bounds['last']}" if bounds["first"] else "no session is known"
        raise UnknownSession(f"Unknown session {number}: {known}.") from None


def session_reviews_with_counts(*, session: Session) -> QuerySet[Review]:
    """The states reviewed in a session, by name, each with its recommendations counted by response."""
    reviews = Review.objects.filter(session=session).select_related("state__regional_group")
    return _with_response_counts(reviews.order_by("state__short_name"))


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
    return [
        Bar(label, n, round(100 * n / total, 1) if total else 0.0, query, variant) for label, n, query, variant in rows
    ]


def _status_bars(queryset: QuerySet[Recommendation], base: str) -> list[Bar]:
    from followup.models import Assessment

    counts = dict(queryset.values_list("implementation_status").annotate(n=Count("id")).order_by())
    labels = [*Assessment.Status.choices, ("", "Not assessed")]
    rows = [
        (label, counts.get(value, 0), f"{base}&status={value or 'none'}", value or "none") for value, label in labels
    ]
    return _bars([row for row in rows if row[1]], sum(counts.values()))


def _response_bars(queryset: QuerySet[Recommendation], base: str) -> list[Bar]:
    counts = dict(queryset.values_list("response").annotate(n=Count("id")).order_by())
    rows = [(label, counts.get(value, 0), f"{base}&response={value}", value) for _name, value in _RESPONSES
            for label in [Recommendation.Response(value).label]]  # fmt: skip
    return _bars([row for row in rows if row[1]], sum(counts.values()))


def state_profile(*, state: State) -> dict:
    """What a diplomat reads on a state's page, counted in SQL (a dozen grouped queries, each over one state's
    recommendations through an index): as state under review, its recommendations by response, action category,
    implementation at mid-term, issue and recommending state; as recommending state, the recommendations it made by
    response, implementation, cycle, state under review and regional group."""
    links = Recommendation.recommending_states.through.objects
    received = Recommendation.objects.filter(kind=_RECOMMENDATION, review__state=state)
    received_total = received.count()
    sur = f"sur={state.iso3}"
    actions = dict(received.values_list("action_category").annotate(n=Count("id")).order_by())
    action_rows = [(label, actions.get(value, 0), f"{sur}&action={value}", "") for value, label in
                   Recommendation.ActionCategory.choices if actions.get(value)]  # fmt: skip
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
    made = Recommendation.objects.filter(
        kind=_RECOMMENDATION, id__in=links.filter(state=state).values("recommendation")
    )
    made_total = made.count()
    by = f"from={state.iso3}"
    to_states = (
        made.values_list("review__state__short_name", "review__state__iso3")
        .annotate(n=Count("id"))
        .order_by("-n", "review__state__short_name")[:_TOP]
    )
    to_regions = (
        made.values_list("review__state__regional_group__name", "review__state__regional_group__code")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    cycles = (
        made.values_list("review__session__cycle__number")
        .annotate(n=Count("id"))
        .order_by("review__session__cycle__number")
    )
    return {
        "received": {
            "total": received_total,
            "responses": _response_bars(received, sur),
            "actions": _bars(action_rows, received_total),
            "statuses": _status_bars(received, sur),
            "issues": _bars([(name, n, f"{sur}&issue={slug}", "") for name, slug, n in issues], received_total),
            "recommenders": _bars(
                [(name, n, f"{sur}&from={iso3}", "") for name, iso3, n in recommenders], received_total
            ),
        },
        "made": {
            "total": made_total,
            "responses": _response_bars(made, by),
            "statuses": _status_bars(made, by),
            "cycles": _bars([(f"Cycle {c}", n, f"{by}&cycle={c}", "") for c, n in cycles], made_total),
            "states": _bars([(name, n, f"{by}&sur={iso3}", "") for name, iso3, n in to_states], made_total),
            "regions": _bars(
                [(name, n, f"{by}&sur_region={code.upper()}", "") for name, code, n in to_regions], made_total
            ),
        },
    }


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
    Three queries."""
    from followup.models import Assessment

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
    status = {s: Count("recommendations", filter=Q(recommendations__kind=_RECOMMENDATION,
                                                 recommendations__implementation_status=s))
              for s in Assessment.Status.values}  # fmt: skip
    reviews = {
        review.state_id: review
        for review in _with_response_counts(
            Review.objects.filter(id__in=previous_ids).select_related("session__cycle")
        ).annotate(**{f"n_{s}": c for s, c in status.items()})
    }
    rows = []
    for state in State.objects.filter(id__in=states).select_related("regional_group").order_by("short_name"):
        review = reviews.get(state.pk)
        row = {"state": state, "review": review}
        if review is not None:
            triggered = review.n_partially_implemented + review.n_fully_implemented
            assessed = triggered + review.n_not_implemented
            row |= {
                "triggered": triggered,
                "assessed": assessed,
                "triggered_pct": round(100 * triggered / assessed, 1) if assessed else None,
                "coverage_pct": round(100 * assessed / review.n_total, 1) if review.n_total else None,
            }
        rows.append(row)
    return {"source": source, "rows": rows}
