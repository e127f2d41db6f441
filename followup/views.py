"""Public follow-up pages: the statistics overview."""

from django.shortcuts import render

from followup.selectors import statistics_overview


def statistics(request):
    return render(request, "followup/statistics.html", {"stats": statistics_overview()})
