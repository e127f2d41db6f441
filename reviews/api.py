"""Read-only API for the reference data of reviews: regional groups, cycles, sessions and states."""

import django_filters
from django.db.models import Count, Prefetch
from rest_framework import serializers, viewsets

from reviews.models import Cycle, IntergovernmentalOrganisation, RegionalGroup, Review, Session, State

# --- Serializers ----------------------------------------------------------------------------------------------------


class RegionalGroupSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:regionalgroup-detail", lookup_field="code")
    state_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = RegionalGroup
        fields = ["url", "code", "name", "state_count"]


class RegionalGroupBriefSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:regionalgroup-detail", lookup_field="code")

    class Meta:
        model = RegionalGroup
        fields = ["url", "code", "name"]


class IntergovernmentalOrganisationSerializer(serializers.ModelSerializer):
    class Meta:
        model = IntergovernmentalOrganisation
        fields = ["acronym", "name"]


class StateSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:state-detail", lookup_field="iso3")
    regional_group = RegionalGroupBriefSerializer(read_only=True)
    organisations = IntergovernmentalOrganisationSerializer(many=True, read_only=True)

    class Meta:
        model = State
        fields = ["url", "iso3", "short_name", "name", "status", "regional_group", "organisations"]


class CycleSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:cycle-detail", lookup_field="number")
    sessions = serializers.SlugRelatedField(slug_field="number", many=True, read_only=True)

    class Meta:
        model = Cycle
        fields = ["url", "number", "start_date", "end_date", "sessions"]


class SessionSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:session-detail", lookup_field="number")
    cycle = serializers.SlugRelatedField(slug_field="number", read_only=True)
    states_reviewed = serializers.SerializerMethodField(help_text="ISO3 codes of the states reviewed, by name.")

    class Meta:
        model = Session
        fields = ["url", "number", "cycle", "year", "start_date", "end_date", "states_reviewed"]

    def get_states_reviewed(self, session: Session) -> list[str]:
        return [review.state.iso3 for review in session.reviews.all()]


# --- Filters --------------------------------------------------------------------------------------------------------


class StateFilterSet(django_filters.FilterSet):
    regional_group = django_filters.CharFilter(field_name="regional_group__code", lookup_expr="iexact")

    class Meta:
        model = State
        fields = ["regional_group", "status"]


class SessionFilterSet(django_filters.FilterSet):
    cycle = django_filters.NumberFilter(field_name="cycle__number")

    class Meta:
        model = Session
        fields = ["cycle", "year"]


# --- Views ----------------------------------------------------------------------------------------------------------


class RegionalGroupViewSet(viewsets.ReadOnlyModelViewSet):
    """The five UN regional groups, by code (`/regional-groups/WEOG/`), with how many states each has."""

    queryset = RegionalGroup.objects.annotate(state_count=Count("states")).order_by("name")
    serializer_class = RegionalGroupSerializer
    lookup_field = "code__iexact"
    lookup_url_kwarg = "code"


class CycleViewSet(viewsets.ReadOnlyModelViewSet):
    """UPR cycles, by number, with the numbers of their sessions."""

    queryset = Cycle.objects.prefetch_related(Prefetch("sessions", Session.objects.order_by("number")))
    serializer_class = CycleSerializer
    lookup_field = "number"


class SessionViewSet(viewsets.ReadOnlyModelViewSet):
    """Working Group sessions, by number; filter with `?cycle=2` or `?year=2012`."""

    queryset = (
        Session.objects.select_related("cycle")
        .prefetch_related(Prefetch("reviews", Review.objects.select_related("state").order_by("state__short_name")))
        .order_by("number")
    )
    serializer_class = SessionSerializer
    filterset_class = SessionFilterSet
    lookup_field = "number"


class StateViewSet(viewsets.ReadOnlyModelViewSet):
    """States, by ISO3 code in any case (`/states/fra/`); filter with `?regional_group=WEOG` or `?status=observer`."""

    queryset = (
        State.objects.select_related("regional_group")
        .prefetch_related(Prefetch("organisations", IntergovernmentalOrganisation.objects.order_by("acronym")))
        .order_by("short_name")
    )
    serializer_class = StateSerializer
    filterset_class = StateFilterSet
    lookup_field = "iso3__iexact"
    lookup_url_kwarg = "iso3"
