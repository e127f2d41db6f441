"""Public follow-up pages: the implementation statistics, their CSV files and their methodology."""

from collections import OrderedDict

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.template.loader import render_to_string

from followup import selectors
from followup.snapshots import imports_running
from recommendations.exports import csv_lines
from recommendations.imports.templates_download import rows_neutralise

NOT_COMPUTED = (
    "The statistics have not been computed yet: they are, a minute after data is imported or assessed, and every "
    "night (or now, with `python manage.py compute_statistics --all`)."
)


TABLES_KEPT = 20  # rendered breakdowns kept per process (about 350 KB each)
_tables: OrderedDict[tuple, str] = OrderedDict()


def _tables_html(filters: selectors.StatisticsFilters, stats: dict) -> str:
    """The page's breakdowns, rendered once per snapshot and filters in this process: their ~500 rows take 25-30 ms
    to render, a lookup nothing. Kept in the process rather than the shared cache, so that a new release never
    serves the markup of the one before; a new computation has a new key."""
    key = (filters.phase, filters.rule, filters.cycle, stats["snapshot"]["computed_at"])
    html = _tables.get(key)
    if html is None:
        html = render_to_string("followup/includes/statistics_tables.html", {"filters": filters, "stats": stats})
        _tables[key] = html
        while len(_tables) > TABLES_KEPT:
            _tables.popitem(last=False)
    return html


def statistics(request):
    filters, errors = selectors.statistics_filters(request.GET)
    if errors:
        return render(request, "followup/statistics.html", {"filters": filters, "errors": errors}, status=400)
    stats = selectors.statistics_page(filters=filters)
    context = {
        "filters": filters,
        "stats": stats,
        "tables": _tables_html(filters, stats) if stats else "",
        "imports_running": imports_running(),
    }
    return render(request, "followup/statistics.html", context)


def statistics_csv(request, table: str):
    if table not in selectors.STATISTICS_TABLES:
        raise Http404(f"No statistics table “{table[:40]}”: use one of {', '.join(selectors.STATISTICS_TABLES)}.")
    filters, errors = selectors.statistics_filters(request.GET)
    if errors:
        problems = " ".join(error["message"] for error in errors)
        return HttpResponseBadRequest(f"Nothing exported: {problems}", content_type="text/plain; charset=utf-8")
    rows = selectors.statistics_table_rows(filters=filters, table=table)
    if rows is None:
        raise Http404(NOT_COMPUTED)
    response = HttpResponse("".join(csv_lines(rows_neutralise(rows))), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filters.filename(table)}"'
    return response


def statistics_methodology(request):
    filters, errors = selectors.statistics_filters(request.GET)
    context = {
        "filters": filters,
        "errors": [{"message": error["message"]} for error in errors],  # no form here to link to
        "rules": [
            {"value": value, "label": label, "definition": selectors.RULE_DEFINITIONS[value]}
            for value, label in selectors.RULE_LABELS.items()
        ],
        "delay_seconds": settings.STATISTICS_RECOMPUTE_DELAY,
    }
    return render(request, "followup/statistics_methodology.html", context, status=400 if errors else 200)
