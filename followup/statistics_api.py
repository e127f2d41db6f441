"""The implementation statistics in the API, at /api/v1/statistics/: the latest snapshot (followup.snapshots).

    GET /statistics/?phase=mid_term&rule=majority&cycle=3&breakdown=issue
        phase      mid_term (default) or next_review
        rule       majority (default), lowest, highest, latest, non_state
        cycle      a cycle's number; all cycles when left out
        breakdown  only this breakdown under "by" (response, action_category, issue, sur_region, sur_state,
                   recommending_state, recommending_region, cycle, session); all when left out
    -> 200 {"phase", "rule", "cycle", "include_pledges", "computed_at", "duration_seconds", "inputs":
           {"recommendations", "assessments"}, "overall": G, "by": {breakdown: {group: G}}}, the shape of
           `manage.py compute_statistics --json`; a cycle without recommendations has figures of zero
       400 {"field": ["message naming the value"]} for an unknown phase, rule, cycle or breakdown
       503 {"detail"} with Retry-After before the first computation

Anyone may read it. The figures are as of `computed_at`: changes are counted about a minute after they are made.
"""

from rest_framework import serializers, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from followup.models import Assessment, StatisticsSnapshot
from followup.snapshots import snapshot_read
from followup.statistics import BREAKDOWNS, PHASES, RULES
from reviews.models import Cycle

RETRY_SECONDS = 60


def _choice(name: str, allowed: tuple[str, ...]) -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=allowed,
        required=False,
        error_messages={"invalid_choice": f"Unknown {name} “{{input}}”: use one of {', '.join(allowed)}."},
    )


class StatisticsQuerySerializer(serializers.Serializer):
    phase = _choice("phase", PHASES)
    rule = _choice("rule", RULES)
    breakdown = _choice("breakdown", BREAKDOWNS)
    cycle = serializers.CharField(required=False)

    def validate_cycle(self, text: str) -> int:
        if not text.isdecimal():
            raise serializers.ValidationError(f"A cycle is a number such as 3, not “{text[:20]}”.")
        value = int(text)
        if not Cycle.objects.filter(number=value).exists():
            numbers = ", ".join(str(n) for n in Cycle.objects.order_by("number").values_list("number", flat=True))
            raise serializers.ValidationError(f"There is no cycle {value}: the cycles are {numbers or 'none yet'}.")
        return value


class StatisticsViewSet(viewsets.ViewSet):
    """Implementation statistics: the latest snapshot for a phase, a consolidation rule and a cycle."""

    permission_classes = [AllowAny]

    def list(self, request):
        query = StatisticsQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        chosen = query.validated_data
        snapshot = snapshot_read(
            chosen.get("phase", Assessment.Phase.MID_TERM),
            chosen.get("rule", StatisticsSnapshot.Rule.MAJORITY),
            cycle=chosen.get("cycle"),
        )
        if snapshot is None:
            return Response(
                {"detail": "The statistics have not been computed yet: they are, a minute after data is imported or "
                           "assessed, and every night. Try again later."},
                status=503,
                headers={"Retry-After": str(RETRY_SECONDS)},
            )  # fmt: skip
        if "breakdown" in chosen:
            snapshot["by"] = {chosen["breakdown"]: snapshot["by"][chosen["breakdown"]]}
        return Response(snapshot)
