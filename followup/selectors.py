"""Reads for follow-up: the statistics overview; an organisation's dashboard and export."""

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Count, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from followup import permissions
from followup.models import Assessment, Membership, Organisation, User
from recommendations.models import Recommendation
from reviews.models import Review

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


# --- "My organisation's work": the dashboard of one organisation, as one of its members sees it --------------------

DASHBOARD_CHANGES = 20  # latest changes shown
DASHBOARD_DRAFTS = 50  # the user's drafts shown (the total is given beside them)
DASHBOARD_REVIEWS = 100  # reviews to work on, the most recent first
COUNTRY_CYCLES = 2  # the organisation's country's reviews from its last two cycles

_WHAT = {  # history_change_reason (followup.services, imports) -> what happened, as the dashboard says it
    "recorded": "Recorded",
    "edited": "Edited",
    "recorded in bulk": "Recorded in bulk",
    "edited in bulk": "Edited in bulk",
    "imported": "Imported",
    "deleted": "Deleted",
    "restored": "Restored",
    "shown again": "Shown again by a moderator",
}
_DIFFED = (  # field, label, shown before -> after (else only named: long texts)
    ("status", "status", True),
    ("phase", "phase", True),
    ("visibility", "visibility", True),
    ("assessed_on", "date", True),
    ("comment", "comment", False),
    ("evidence_urls", "evidence links", False),
)
_LABELS = {
    "status": dict(Assessment.Status.choices),
    "phase": dict(Assessment.Phase.choices),
    "visibility": {"draft": "Draft", "organisation": "Organisation", "public": "Public"},
}


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str | None  # None: a long text, only named
    after: str | None


@dataclass(frozen=True)
class Change:
    """One entry of an assessment's history, for the dashboard's list of latest changes."""

    record: Any  # the historical record (Assessment.history.model), its recommendation and user loaded
    what: str
    fields: list[FieldChange]

    @property
    def assessment_id(self) -> int:
        return self.record.id


def memberships_of(*, user: User) -> list[Membership]:
    """The user's memberships with their organisations, by organisation name."""
    return list(Membership.objects.filter(user=user).select_related("organisation").order_by("organisation__name"))


def _organisation_assessments(*, user: User, organisation: Organisation) -> QuerySet[Assessment]:
    """The organisation's assessments this user may see (drafts: only their own), not deleted."""
    return permissions.visible_assessments(user).filter(organisation=organisation, deleted_at__isnull=True)


def organisation_counts(*, user: User, organisation: Organisation) -> dict[str, Any]:
    """What the organisation assessed, as the user may see it, in one query: assessments by status and phase, by
    visibility, those hidden by a moderator, and the recommendations and reviews they cover."""
    statuses, phases = Assessment.Status, Assessment.Phase
    counts = _organisation_assessments(user=user, organisation=organisation).aggregate(
        total=Count("id"),
        recommendations=Count("recommendation", distinct=True),
        reviews=Count("recommendation__review", distinct=True),
        hidden=Count("id", filter=Q(hidden_at__isnull=False)),
        **{f"phase:{phase}": Count("id", filter=Q(phase=phase)) for phase in phases.values},
        **{f"visibility:{value}": Count("id", filter=Q(visibility=value)) for value in Assessment.Visibility.values},
        **{
            f"{status}:{phase}": Count("id", filter=Q(status=status, phase=phase))
            for status in statuses.values
            for phase in phases.values
        },
    )
    by_status = [
        {
            "status": status,
            "label": label,
            "by_phase": [counts[f"{status}:{phase}"] for phase in phases.values],
            "total": sum(counts[f"{status}:{phase}"] for phase in phases.values),
        }
        for status, label in statuses.choices
    ]
    by_visibility = [
        {"visibility": value, "label": _LABELS["visibility"][value], "n": counts[f"visibility:{value}"]}
        for value in (Assessment.Visibility.PUBLIC, Assessment.Visibility.ORGANISATION, Assessment.Visibility.DRAFT)
    ]
    return {
        "total": counts["total"],
        "recommendations": counts["recommendations"],
        "reviews": counts["reviews"],
        "hidden": counts["hidden"],
        "phases": [{"phase": p, "label": label, "n": counts[f"phase:{p}"]} for p, label in phases.choices],
        "by_status": by_status,
        "by_visibility": by_visibility,
    }


def organisation_drafts(
    *, user: User, organisation: Organisation, limit: int = DASHBOARD_DRAFTS
) -> tuple[list[Assessment], int]:
    """The user's own drafts for the organisation, last edited first (at most `limit`), and how many there are."""
    drafts = _organisation_assessments(user=user, organisation=organisation).filter(
        author=user, visibility=Assessment.Visibility.DRAFT
    )
    shown = list(
        drafts.select_related("recommendation__review__state", "recommendation__review__session").order_by(
            "-updated_at", "-id"
        )[:limit]
    )
    total = len(shown) if len(shown) < limit else drafts.count()
    return shown, total


def _field_text(name: str, value: Any) -> str:
    if value is None or value == "":
        return "–"
    if name in _LABELS:
        return _LABELS[name].get(value, str(value))
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _change(record: Any, previous: Any | None) -> Change:
    reason = record.history_change_reason or ""
    if reason.startswith("hidden"):
        what = "Hidden by a moderator"
    elif record.history_type == "+" or previous is None:
        what = _WHAT.get(reason, "Recorded")
    else:
        what = _WHAT.get(reason, "Deleted" if record.history_type == "-" else "Edited")
    fields = []
    if previous is not None:
        for name, label, shown in _DIFFED:
            before, after = getattr(previous, name), getattr(record, name)
            if before != after:
                if shown:
                    fields.append(FieldChange(label, _field_text(name, before), _field_text(name, after)))
                else:
                    fields.append(FieldChange(label, None, None))
    return Change(record=record, what=what, fields=fields)


def organisation_changes(*, user: User, organisation: Organisation, limit: int = DASHBOARD_CHANGES) -> list[Change]:
    """The latest changes to the organisation's assessments that the user may see (deleted ones included: their
    deletion is a change), newest first: who, when, what happened and which fields changed. Two queries: the
    records (each with the id of its previous record, a subquery), then those previous records."""
    history = Assessment.history.model
    visible = permissions.visible_assessments(user).filter(organisation=organisation).values("id")
    earlier = history.objects.filter(id=OuterRef("id")).filter(
        Q(history_date__lt=OuterRef("history_date"))
        | Q(history_date=OuterRef("history_date"), history_id__lt=OuterRef("history_id"))
    )
    records = list(
        history.objects.filter(organisation_id=organisation.pk, id__in=visible)
        .select_related("history_user", "recommendation__review__state", "recommendation__review__session")
        .annotate(previous_id=Subquery(earlier.order_by("-history_date", "-history_id").values("history_id")[:1]))
        .order_by("-history_date", "-history_id")[:limit]
    )
    wanted = [record.previous_id for record in records if record.previous_id is not None]
    previous = history.objects.in_bulk(wanted) if wanted else {}
    return [_change(record, previous.get(record.previous_id)) for record in records]


def _country_cycles(organisation: Organisation) -> list[int]:
    """The last COUNTRY_CYCLES cycles in which the organisation's country was reviewed (none without a country)."""
    if organisation.country_id is None:
        return []
    cycles = (
        Review.objects.filter(state_id=organisation.country_id)
        .order_by("-session__cycle__number")
        .values_list("session__cycle__number", flat=True)
        .distinct()
    )
    return list(cycles[:COUNTRY_CYCLES])


def organisation_reviews(
    *, user: User, organisation: Organisation, limit: int = DASHBOARD_REVIEWS
) -> tuple[list[Review], bool]:
    """The reviews to work on: the organisation's country's reviews of the last two cycles in which the country was
    reviewed, then those where the organisation has assessments (that the user may see), the most recent first.
    Each with `total` (recommendations; voluntary pledges do not count), `assessed` (of those, the ones the
    organisation assessed at any phase), `open` (the others) and `percent` (assessed), counted by subqueries;
    `country` tells a country review.
    Returns at most `limit` reviews, and whether there are more. Three queries whatever the data."""
    assessments = _organisation_assessments(user=user, organisation=organisation)
    where = Q(id__in=assessments.values("recommendation__review_id"))
    if cycles := _country_cycles(organisation):
        where |= Q(state_id=organisation.country_id, session__cycle__number__in=cycles)
    recommendation = Recommendation.Kind.RECOMMENDATION
    total = (
        Recommendation.objects.filter(review=OuterRef("pk"), kind=recommendation)
        .order_by()
        .values("review")
        .annotate(n=Count("id"))
        .values("n")
    )
    assessed = (
        assessments.filter(recommendation__review=OuterRef("pk"), recommendation__kind=recommendation)
        .order_by()
        .values("recommendation__review")
        .annotate(n=Count("recommendation", distinct=True))
        .values("n")
    )
    reviews = list(
        Review.objects.filter(where)
        .select_related("state", "session__cycle")
        .annotate(
            total=Coalesce(Subquery(total), 0),
            assessed=Coalesce(Subquery(assessed), 0),
            elsewhere=Case(When(state_id=organisation.country_id, then=Value(0)), default=Value(1)),
        )
        .order_by("elsewhere", "-session__number", "state__short_name")[: limit + 1]
    )
    for review in reviews:
        review.open = max(review.total - review.assessed, 0)
        review.percent = _percent(review.assessed, review.total)
        review.country = review.state_id == organisation.country_id
    return reviews[:limit], len(reviews) > limit


def organisation_dashboard(*, user: User, organisation: Organisation) -> dict[str, Any]:
    """Everything the dashboard shows; the number of queries does not grow with the data."""
    drafts, drafts_total = organisation_drafts(user=user, organisation=organisation)
    reviews, more_reviews = organisation_reviews(user=user, organisation=organisation)
    return {
        "organisation": organisation,
        "role": permissions.roles(user).get(organisation.pk),
        "counts": organisation_counts(user=user, organisation=organisation),
        "drafts": drafts,
        "drafts_total": drafts_total,
        "changes": organisation_changes(user=user, organisation=organisation),
        "reviews": reviews,
        "more_reviews": more_reviews,
        "phases": Assessment.Phase.choices,
    }


def organisation_export(*, user: User, organisation: Organisation) -> QuerySet[Assessment]:
    """The organisation's assessments the user may see, not deleted, for the export: review by review (session,
    then state), recommendation by recommendation."""
    return _organisation_assessments(user=user, organisation=organisation).order_by(
        "recommendation__session_number", "recommendation__review_id", "recommendation_id", "phase"
    )
