"""Public pages for recommendations: the filtered list and one recommendation."""

from urllib.parse import urlencode

from django.http import Http404
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from recommendations import selectors
from recommendations.models import Recommendation


def recommendation_list(request):
    """The search page. An htmx request (a filter changed) gets only the results and facets to swap in."""
    page = selectors.recommendation_search(params=request.GET)
    htmx = request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"
    template = "recommendations/" + ("includes/search_results.html" if htmx else "recommendation_list.html")
    response = render(request, template, {"page": page, "filterset": page.filterset})
    patch_vary_headers(response, ["HX-Request"])
    if htmx:  # the address bar shows the search without the form's empty fields
        kept = [(name, value) for name, values in request.GET.lists() for value in values if value]
        response["HX-Push-Url"] = request.path + (f"?{urlencode(kept)}" if kept else "")
    return response


def recommendation_detail(request, pk: int):
    try:
        recommendation = selectors.recommendation_detail(pk=pk)
    except Recommendation.DoesNotExist:
        raise Http404(f"No recommendation with number {pk}.") from None
    return render(request, "recommendations/recommendation_detail.html", {"recommendation": recommendation})
