"""Reads for follow-up: the statistics overview."""

from typing import Any

from django.db.models import Count, Q

from followup.models import Assessment
from recommendations.models import Recommendation

TRIGGERED_ACTION = (Assessment.Status.PARTIALLY_IMPLEMENTED, Assessment.Status.FULLY_IMPLEMENTED)


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _response_row(*, total: int, accepted: int, noted: int, pending: int) -> dict[str, Any]:
    return {
        "total": total,
        "accepted": accepted,
        "noted": noted,
        "pending": pending,
        "percent_accepted": _percent(accepted, total),
    }


def _responses_by_cycle() -> dict[str, Any]:
    rows = (
        Recommendation.objects.filter(kind=Recommendation.Kind.RECOMMENDATION)
        .values("review__session__cycle__number")
        .annotate(
            total=Count("id"),
            accepted=Count("id", filter=Q(response=Recommendation.Response.ACCEPTED)),
            noted=Count("id", filter=Q(response=Recommendation.Response.NOTED)),
            pending=Count("id", filter=Q(response=Recommendation.Response.PENDING)),
        )
        .order_by("review__session__cycle__number")
    )
    cycles = [
        {
            "cycle": row["review__session__cycle__number"],
            **_response_row(total=row["total"], accepted=row["accepted"], noted=row["noted"], pending=row["pending"]),
        }
        for row in rows
    ]
    keys = ("total", "accepted", "noted", "pending")
    overall = _response_row(**{key: sum(row[key] for row in cycles) for key in keys})
    return {"cycles": cycles, "overall": overall}


def _action_categories() -> list[dict[str, Any]]:
    rows = (
        Recommendation.objects.filter(kind=Recommendation.Kind.RECOMMENDATION)
        .values("action_category")
        .annotate(n=Count("id"))
        .order_by("action_category")
    )
    counts = {row["action_category"]: row["n"] for row in rows}
    total = sum(counts.values())
    labels = dict(Recommendation.ActionCategory.choices)
    ordered = [*labels, None] if None in counts else list(labels)
    return [
        {
            "category": category,
            "label": labels.get(category, "Not categorised"),
            "n": counts.get(category, 0),
            "percent": _percent(counts.get(category, 0), total),
        }
        for category in ordered
    ]


def _mid_term_statuses() -> list[dict[str, Any]]:
    rows = Assessment.objects.public().filter(phase=Assessment.Phase.MID_TERM).values("status").annotate(n=Count("id"))
    counts = {row["status"]: row["n"] for row in rows}
    total = sum(counts.values())
    return [
        {"status": value, "label": label, "n": counts.get(value, 0), "percent": _percent(counts.get(value, 0), total)}
        for value, label in Assessment.Status.choices
    ]


def _mid_term_implementation(*, totals: dict[str, int]) -> dict[str, Any]:
    """Per response and overall: recommendations, those assessed at mid-term, those that triggered action.

    Assessed: at least one public mid-term assessment other than "no information".
    Triggered action: at least one public mid-term assessment of partial or full implementation.
    Counted from the assessments' side (distinct recommendations), which reads only assessed recommendations;
    `totals` gives all recommendations per response.
    """
    rows = (
        Assessment.objects.public()
        .filter(phase=Assessment.Phase.MID_TERM, recommendation__kind=Recommendation.Kind.RECOMMENDATION)
        .values("recommendation__response")
        .annotate(
            assessed=Count("recommendation", distinct=True, filter=~Q(status=Assessment.Status.NO_INFORMATION)),
            triggered=Count("recommendation", distinct=True, filter=Q(status__in=TRIGGERED_ACTION)),
        )
        .order_by()
    )
    counts = {row["recommendation__response"]: row for row in rows}
    by_response = []
    for response, label in Recommendation.Response.choices:
        total = totals.get(response, 0)
        if not total:
            continue
        assessed = counts.get(response, {}).get("assessed", 0)
        triggered = counts.get(response, {}).get("triggered", 0)
        by_response.append(
            {
                "response": response,
                "label": label,
                "total": total,
                "assessed": assessed,
                "triggered": triggered,
                "percent_triggered": _percent(triggered, assessed),
                "percent_coverage": _percent(assessed, total),
            }
        )
    total = sum(row["total"] for row in by_response)
    n_assessed = sum(row["assessed"] for row in by_response)
    n_triggered = sum(row["triggered"] for row in by_response)
    return {
        "by_response": by_response,
        "total": total,
        "assessed": n_assessed,
        "triggered": n_triggered,
        "percent_triggered": _percent(n_triggered, n_assessed),
        "percent_coverage": _percent(n_assessed, total),
    }


def statistics_overview() -> dict[str, Any]:
    """The public overview, computed in SQL (four grouped queries): responses per cycle, action categories,
    public mid-term assessments by status, and the share of assessed recommendations that triggered action."""
    responses = _responses_by_cycle()
    overall = responses["overall"]
    totals = {response: overall[response] for response in ("accepted", "noted", "pending")}
    return {
        "responses": responses,
        "action_categories": _action_categories(),
        "mid_term_statuses": _mid_term_statuses(),
        "mid_term": _mid_term_implementation(totals=totals),
    }
