"""Reads for recommendations: the browsing list, one recommendation, and the home page's headline figures."""

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import QueryDict

from followup.models import Assessment
from recommendations import search
from recommendations.bitmaps import bitmap_counts, bitmaps_current
from recommendations.facets import ROW_ARRAYS, Facet, Reference, cache_key, facet_counts
from recommendations.filters import RecommendationFilterSet
from recommendations.models import Issue, Recommendation
from reviews.models import Review, State

# Bump the version whenever the shape of the cached dict changes: old entries are then simply ignored.
HEADLINE_COUNTS_CACHE_KEY = "uprtrax:headline-counts"
HEADLINE_COUNTS_CACHE_VERSION = 1
HEADLINE_COUNTS_CACHE_SECONDS = 60


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def headline_counts_compute() -> dict[str, int | float | None]:
    """The figures on the home page, straight from the database: one aggregate query per table."""
    recommendations = Recommendation.objects.filter(kind=Recommendation.Kind.RECOMMENDATION).aggregate(
        total=Count("id"),
        accepted=Count("id", filter=Q(response=Recommendation.Response.ACCEPTED)),
    )
    reviews = Review.objects.aggregate(
        states=Count("state", distinct=True),
        sessions=Count("session", distinct=True),
    )
    assessments = Assessment.objects.public().aggregate(total=Count("id"))
    return {
        "recommendations": recommendations["total"],
        "accepted": recommendations["accepted"],
        "percent_accepted": _percent(recommendations["accepted"], recommendations["total"]),
        "states_reviewed": reviews["states"],
        "sessions": reviews["sessions"],
        "assessments": assessments["total"],
    }


def headline_counts() -> dict[str, int | float | None]:
    """The home page's figures, cached for a minute: they change only when data is imported or assessed."""
    return cache.get_or_set(
        HEADLINE_COUNTS_CACHE_KEY,
        headline_counts_compute,
        timeout=HEADLINE_COUNTS_CACHE_SECONDS,
        version=HEADLINE_COUNTS_CACHE_VERSION,
    )


def issue_list() -> QuerySet[Issue]:
    """UPR Info's issues, by name."""
    return Issue.objects.order_by("name")


def recommendation_list() -> QuerySet[Recommendation]:
    """Every recommendation and pledge, newest session first, with what a list row shows fetched in bulk.

    Filtering (text, states, session, response, issue, kind) is the job of recommendations.filters.
    """
    return (
        Recommendation.objects.select_related("review__state", "review__session__cycle")
        .prefetch_related("recommending_states", "issues")
        .order_by("-review__session__number", "review__state__short_name", "id")
    )


def recommendation_detail(*, pk: int) -> Recommendation:
    """One recommendation with its review (state, group, session, cycle), its recommending states with their regional
    group, its issues, and its public assessments oldest first with their organisation (as `public_assessments`).
    Four queries.

    Raises Recommendation.DoesNotExist for an unknown id.
    """
    public_assessments = (
        Assessment.objects.public().select_related("organisation").order_by("assessed_on", "organisation__name")
    )
    return (
        Recommendation.objects.select_related("review__state__regional_group", "review__session__cycle")
        .prefetch_related(
            Prefetch("recommending_states", State.objects.select_related("regional_group").order_by("short_name")),
            Prefetch("issues", Issue.objects.order_by("name")),
            Prefetch("assessments", queryset=public_assessments, to_attr="public_assessments"),
        )
        .get(pk=pk)
    )


# --- Search ---------------------------------------------------------------------------------------------------------

PAGE_SIZES = (25, 50, 100)
PAGE_SIZE_DEFAULT = 25
PAGE_MAX = 1_000_000  # beyond any real list; larger numbers are read as this one (then as the last page)


@dataclass
class SearchPage:
    """One page of a search, with everything the page, its facets and its pagination show."""

    filterset: RecommendationFilterSet
    recommendations: list[Recommendation]
    total: int
    facets: dict[str, Facet]
    number: int
    page_size: int
    notices: list[str] = field(default_factory=list)

    @property
    def chosen(self) -> list[tuple[Facet, object]]:
        """The facet values in force, for the "remove this filter" links."""
        return [(facet, value) for facet in self.facets.values() for value in facet.selected]

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.page_size + 1 if self.total else 0

    @property
    def end_index(self) -> int:
        return min(self.number * self.page_size, self.total)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


def _positive_int(raw: str | None, *, name: str, notices: list[str]) -> int | None:
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        notices.append(f"{name} “{str(raw)[:20]}” is not a number: showing the first page.")
        return None
    if value < 1:
        notices.append(f"{name} {value} does not exist: showing the first page.")
        return None
    return value


def recommendation_search(*, params: QueryDict) -> SearchPage:
    """A page of recommendations for the search page's parameters (filters as in RecommendationFilterSet, `page`,
    `per_page`): the recommendations of the page with their snippets as `headline`, the total and the facets.

    About eight queries whatever the data: the reference tables, facets and total in one statement, the page's ids,
    the page's rows with their states and issues, and the snippets.
    """
    notices: list[str] = []
    filterset = RecommendationFilterSet(params, queryset=Recommendation.objects.all())
    page_size = _positive_int(params.get("per_page"), name="Page size", notices=notices) or PAGE_SIZE_DEFAULT
    if page_size not in PAGE_SIZES:
        notices.append(f"Pages hold {', '.join(map(str, PAGE_SIZES))} recommendations: showing {PAGE_SIZE_DEFAULT}.")
        page_size = PAGE_SIZE_DEFAULT
    number = min(_positive_int(params.get("page"), name="Page", notices=notices) or 1, PAGE_MAX)
    if not filterset.is_valid():
        return SearchPage(filterset, [], 0, {}, 1, page_size, notices)
    if problem := search.text_problem(filterset.text):
        notices.append(problem)
    offset = (number - 1) * page_size
    bitmaps = bitmaps_current(filterset.reference)
    if bitmaps is not None:  # every count and the page's ids from the facet bitmaps
        counted = bitmap_counts(filterset, bitmaps, page=(offset, page_size))
    else:
        key = cache_key(filterset) if settings.SEARCH_CACHE_SECONDS else ""
        counted = cache.get(key) if key else None
        if counted is None:
            counted = facet_counts(filterset, page=(offset, page_size))
            if key:
                cache.set(key, replace(counted, page_ids=None), timeout=settings.SEARCH_CACHE_SECONDS)
    page = SearchPage(filterset, [], counted.total, counted.facets, number, page_size, notices)
    ids = counted.page_ids
    if number > page.num_pages:
        notices.append(f"There is no page {number:,}: the last page is {page.num_pages:,}.")
        page.number = page.num_pages
        if counted.page_offset != (page.number - 1) * page_size:
            ids = None
    if ids is None:
        offset = (page.number - 1) * page_size
        ids = list(filterset.qs.values_list("id", flat=True)[offset : offset + page_size])
    page.recommendations = _page_rows(ids, filterset.reference)
    headlines = search.text_headlines(ids, filterset.text)
    for recommendation in page.recommendations:
        recommendation.headline = headlines.get(recommendation.pk)
    return page


def _page_rows(ids: list[int], reference: Reference) -> list[Recommendation]:
    """The page's recommendations in the order of `ids`, each with `states_shown` and `issues_shown` (by name)."""
    rows = Recommendation.objects.filter(id__in=ids).select_related("review__state", "review__session__cycle")
    found = links_read(rows).in_bulk()
    links_attach(found.values(), reference)
    return [found[pk] for pk in ids if pk in found]


def links_read(rows: QuerySet[Recommendation]) -> QuerySet[Recommendation]:
    """`rows` with what links_attach needs: on PostgreSQL the recommending states' and issues' id arrays kept on
    each row (migration 0007), no further query; elsewhere two prefetch queries."""
    if connection.vendor == "postgresql":
        return rows.annotate(state_ids=ROW_ARRAYS["from_ids"], issue_id_list=ROW_ARRAYS["issue_ids"])
    return rows.prefetch_related(
        Prefetch("recommending_states", State.objects.only("iso3", "short_name").order_by("short_name")),
        Prefetch("issues", Issue.objects.order_by("name")),
    )


def links_attach(rows: Iterable[Recommendation], reference: Reference) -> None:
    """Give each row (read through links_read) `states_shown` and `issues_shown`, by name: on PostgreSQL from its
    id arrays and the reference data already in memory."""
    for row in rows:
        if hasattr(row, "state_ids"):
            states = (reference.states[pk] for pk in row.state_ids or () if pk in reference.states)
            issues = (reference.issues[pk] for pk in row.issue_id_list or () if pk in reference.issues)
            row.states_shown = sorted(states, key=lambda state: state.short_name)
            row.issues_shown = sorted(issues, key=lambda issue: issue.name)
        else:
            row.states_shown, row.issues_shown = list(row.recommending_states.all()), list(row.issues.all())
