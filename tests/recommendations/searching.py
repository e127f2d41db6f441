"""Helpers of the search tests."""

from django.http import QueryDict

from recommendations.facets import reference_load
from recommendations.filters import RecommendationFilterSet
from recommendations.models import Recommendation


def filterset_for(params: dict) -> RecommendationFilterSet:
    """A valid FilterSet of the search for `params` (a value or a list of values per name)."""
    query = QueryDict(mutable=True)
    for name, values in params.items():
        query.setlist(name, values if isinstance(values, list) else [values])
    filterset = RecommendationFilterSet(query, queryset=Recommendation.objects.all(), reference=reference_load())
    assert filterset.is_valid(), filterset.errors
    return filterset
