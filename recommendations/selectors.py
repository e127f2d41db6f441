"""Reads for recommendations: the browsing list, one recommendation, and the home page's headline figures."""

from django.core.cache import cache
from django.db.models import Count, Prefetch, Q, QuerySet

from followup.models import Assessment
from recommendations.models import Issue, Recommendation
from reviews.models import Review

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
    assessments = Assessment.objects.filter(visibility=Assessment.Visibility.PUBLIC).aggregate(total=Count("id"))
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
    """One recommendation with its states, issues and public assessments (as `public_assessments`).

    Raises Recommendation.DoesNotExist for an unknown id.
    """
    public_assessments = (
        Assessment.objects.filter(visibility=Assessment.Visibility.PUBLIC)
        .select_related("organisation")
        .order_by("phase", "-assessed_on", "organisation__name")
    )
    return (
        Recommendation.objects.select_related("review__state__regional_group", "review__session__cycle")
        .prefetch_related(
            "recommending_states",
            "issues",
            Prefetch("assessments", queryset=public_assessments, to_attr="public_assessments"),
        )
        .get(pk=pk)
    )
