"""Reads for moderators: the hidden and deleted assessments."""

from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce, Greatest

from followup.models import Assessment

SHOWS = {"all": "All", "hidden": "Hidden", "deleted": "Deleted"}
_FILTERS = {
    "all": Q(hidden_at__isnull=False) | Q(deleted_at__isnull=False),
    "hidden": Q(hidden_at__isnull=False),
    "deleted": Q(deleted_at__isnull=False),
}


def moderation_queue(*, show: str = "all") -> QuerySet[Assessment]:
    """Hidden and/or deleted assessments, the latest hidden or deleted first, with what the queue shows of each."""
    return (
        Assessment.objects.filter(_FILTERS.get(show, _FILTERS["all"]))
        .select_related(
            "recommendation__review__state", "recommendation__review__session", "organisation", "hidden_by",
            "deleted_by",
        )
        # Either date may be empty: each stands in for the other.
        .annotate(flagged_at=Greatest(Coalesce("hidden_at", "deleted_at"), Coalesce("deleted_at", "hidden_at")))
        .order_by("-flagged_at", "-pk")
    )  # fmt: skip


def moderation_counts() -> dict[str, int]:
    """How many assessments each tab of the queue lists: three counts, each read from the partial indexes of hidden
    and deleted assessments (one aggregate with filters would read every assessment)."""
    return {name: Assessment.objects.filter(condition).count() for name, condition in _FILTERS.items()}
