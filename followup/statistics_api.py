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
       400 `validation_error` naming the unknown phase, rule, cycle or breakdown (uprtrax.api_errors' shape)
       503 `not_ready` with Retry-After before the first computation

Anyone may read it. The figures are as of `computed_at`: changes are counted about a minute after they are made.
"""

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer
from rest_framework import serializers, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from followup.snapshots import cycle_check, snapshot_read
from followup.statistics import BREAKDOWNS, DEFAULT_PHASE, DEFAULT_RULE, PHASES, RULES, UnknownFilter
from uprtrax.api_errors import NotReady, errors

RETRY_SECONDS = 60


def _choice(name: str, allowed: tuple[str, ...], help_text: str) -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=allowed,
        required=False,
        help_text=help_text,
        error_messages={"invalid_choice": f"Unknown {name} “{{input}}”: use one of {', '.join(allowed)}."},
    )


class StatisticsQuerySerializer(serializers.Serializer):
    phase = _choice(
        "phase", PHASES, "mid_term (the default): assessments before the state's next review; next_review: at it."
    )
    rule = _choice(
        "rule",
        RULES,
        "How one recommendation's assessments make one status: majority (the default; a tie goes to the lower "
        "status), lowest, highest, latest, or non_state (the majority of non-state stakeholders).",
    )
    breakdown = _choice("breakdown", BREAKDOWNS, "Only this breakdown under `by`; all of them when left out.")
    cycle = serializers.CharField(
        required=False, help_text="A cycle's number (1 to 4): that cycle's recommendations only; all when left out."
    )

    def validate_cycle(self, text: str) -> int:
        if not text.isdecimal():
            raise serializers.ValidationError(f"A cycle is a number such as 3, not “{text[:20]}”.")
        try:
            cycle_check(int(text))
        except UnknownFilter as error:
            raise serializers.ValidationError(str(error)) from None
        return int(text)


# --- The answer's shape, for the OpenAPI schema --------------------------------------------------------------------


class FiguresSerializer(serializers.Serializer):
    recommendations = serializers.IntegerField(help_text="Recommendations in the group.")
    assessed = serializers.IntegerField(help_text='Of them, those with a status ("no information" says nothing).')
    not_implemented = serializers.IntegerField()
    partially_implemented = serializers.IntegerField()
    fully_implemented = serializers.IntegerField()
    triggered_action_pct = serializers.FloatField(
        allow_null=True, help_text="Partially or fully implemented, in % of the assessed; null when none is."
    )
    fully_implemented_pct = serializers.FloatField(allow_null=True, help_text="In % of the assessed.")
    coverage_pct = serializers.FloatField(allow_null=True, help_text="Assessed, in % of the recommendations.")


class InputsSerializer(serializers.Serializer):
    recommendations = serializers.IntegerField()
    assessments = serializers.IntegerField(help_text="Public assessments counted.")


@extend_schema_serializer(many=False)  # the viewset's `list` answers one object, not a list
class StatisticsSerializer(serializers.Serializer):
    phase = serializers.ChoiceField(choices=PHASES)
    rule = serializers.ChoiceField(choices=RULES)
    cycle = serializers.IntegerField(allow_null=True, help_text="null: all cycles.")
    include_pledges = serializers.BooleanField(help_text="Voluntary pledges counted (never, in the API).")
    computed_at = serializers.DateTimeField(help_text="When the figures were computed: changes after are not in.")
    duration_seconds = serializers.FloatField(allow_null=True)
    inputs = InputsSerializer()
    overall = FiguresSerializer()
    by = serializers.DictField(
        child=serializers.DictField(child=FiguresSerializer()),
        help_text="Breakdown (response, action_category, issue, sur_region, sur_state, recommending_state, "
        "recommending_region, cycle, session) → group → figures.",
    )


_FIGURES = {"recommendations": 412, "assessed": 160, "not_implemented": 38, "partially_implemented": 81,
            "fully_implemented": 41, "triggered_action_pct": 76.2, "fully_implemented_pct": 25.6,
            "coverage_pct": 38.8}  # fmt: skip


class StatisticsViewSet(viewsets.ViewSet):
    """Implementation statistics: the latest snapshot for a phase, a consolidation rule and a cycle."""

    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="statistics_read",
        summary="Implementation statistics",
        description="What share of the assessed recommendations triggered action (partially or fully implemented), "
        "overall and by breakdown, as of the latest computation (about a minute after a change, and nightly). Only "
        "public assessments count. A cycle without recommendations has figures of zero.",
        parameters=[StatisticsQuerySerializer],
        responses={200: StatisticsSerializer, **errors(400, 503)},
        examples=[
            OpenApiExample(
                "Mid-term, majority rule, cycle 3, by response",
                value={
                    "phase": "mid_term",
                    "rule": "majority",
                    "cycle": 3,
                    "include_pledges": False,
                    "computed_at": "2025-03-01T02:30:04.120000+00:00",
                    "duration_seconds": 1.84,
                    "inputs": {"recommendations": 412, "assessments": 301},
                    "overall": _FIGURES,
                    "by": {"response": {"accepted": _FIGURES}},
                },
                response_only=True,
            )
        ],
    )
    def list(self, request):
        query = StatisticsQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        chosen = query.validated_data
        snapshot = snapshot_read(
            chosen.get("phase", DEFAULT_PHASE),
            chosen.get("rule", DEFAULT_RULE),
            cycle=chosen.get("cycle"),
        )
        if snapshot is None:
            raise NotReady(
                "The statistics have not been computed yet: they are, a minute after data is imported or assessed, "
                "and every night. Try again later.",
                wait=RETRY_SECONDS,
            )
        if "breakdown" in chosen:
            snapshot["by"] = {chosen["breakdown"]: snapshot["by"][chosen["breakdown"]]}
        return Response(snapshot)
