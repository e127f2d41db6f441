"""Public pages for recommendations: the filtered list and one recommendation."""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render

from recommendations import selectors
from recommendations.filters import RecommendationFilterSet
from recommendations.models import Recommendation

PAGE_SIZE = 25


def recommendation_list(request):
    filterset = RecommendationFilterSet(request.GET, queryset=selectors.recommendation_list())
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "recommendations/recommendation_list.html", {"filterset": filterset, "page": page})


def recommendation_detail(request, pk: int):
    try:
        recommendation = selectors.recommendation_detail(pk=pk)
    except Recommendation.DoesNotExist:
        raise Http404(f"No recommendation with number {pk}.") from None
    return render(request, "recommendations/recommendation_detail.html", {"recommendation": recommendation})
