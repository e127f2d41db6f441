"""Public pages for recommendations: the filtered list and one recommendation."""

from urllib.parse import urlencode

from django.http import FileResponse, Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from followup.assessing.views import recommendation_panel
from followup.bulk.selectors import may_assess_any
from followup.rules import BULK_MAX
from recommendations import exports, selectors
from recommendations.filters import RecommendationFilterSet
from recommendations.models import Recommendation
from uprtrax.pagecache import anonymous_page_cache

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@anonymous_page_cache
def recommendation_list(request):
    """The search page. An htmx request (a filter changed) gets only the results and facets to swap in."""
    page = selectors.recommendation_search(params=request.GET)
    htmx = request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"
    template = "recommendations/" + ("includes/search_results.html" if htmx else "recommendation_list.html")
    # Members get checkboxes and "assess at once" buttons (followup.bulk): no query for anonymous visitors.
    bulk = {"may_bulk_assess": may_assess_any(request.user), "bulk_max": BULK_MAX}
    response = render(request, template, {"page": page, "filterset": page.filterset, **bulk})
    patch_vary_headers(response, ["HX-Request"])
    if htmx:  # the address bar shows the search without the form's empty fields
        kept = [(name, value) for name, values in request.GET.lists() for value in values if value]
        response["HX-Push-Url"] = request.path + (f"?{urlencode(kept)}" if kept else "")
    return response


@anonymous_page_cache
def recommendation_detail(request, pk: int):
    try:
        recommendation = selectors.recommendation_detail(pk=pk)
    except Recommendation.DoesNotExist:
        raise Http404(f"No recommendation with number {pk}.") from None
    # For members, the panel recording their organisation's assessment; for moderators, their buttons.
    context = {"recommendation": recommendation, **recommendation_panel(request, recommendation)}
    return render(request, "recommendations/recommendation_detail.html", context)


def _export(request, extension: str):
    """The search's results as a file: the same parameters as the page, every matching row, streamed."""
    filterset = RecommendationFilterSet(request.GET, queryset=Recommendation.objects.all())
    if not filterset.is_valid():
        problems = "; ".join(
            f"{filterset.filters[name].label}: {' '.join(errors)}" for name, errors in filterset.errors.items()
        )
        return HttpResponseBadRequest(f"Nothing exported: {problems}", content_type="text/plain; charset=utf-8")
    rows = exports.export_rows(
        filterset.qs, reference=filterset.reference, base_url=request.build_absolute_uri("/")[:-1]
    )
    name = exports.export_filename(extension)
    if extension == "csv":
        response = StreamingHttpResponse(exports.csv_lines(rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    total = filterset.qs.count()
    if total > exports.XLSX_MAX_ROWS:
        message = f"{total:,} rows do not fit in one worksheet ({exports.XLSX_MAX_ROWS:,} at most): export CSV instead."
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
    return FileResponse(exports.xlsx_file(rows), as_attachment=True, filename=name, content_type=XLSX)


def recommendation_export_csv(request):
    return _export(request, "csv")


def recommendation_export_xlsx(request):
    return _export(request, "xlsx")
