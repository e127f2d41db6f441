"""Read-only API for the reference data of reviews: regional groups, intergovernmental organisations, cycles,
sessions, states, and the reviews themselves (one state in one session, with its recommendations counted)."""

import functools
from typing import ClassVar

import django_filters
from django.db.models import Count, Prefetch
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, viewsets
from rest_framework.reverse import reverse

from recommendations.facets import Reference, reference_load
from recommendations.filters import CodesFilter
from reviews.models import Cycle, IntergovernmentalOrganisation, RegionalGroup, Review, Session, State
from reviews.selectors import Tally, review_tallies
from uprtrax.api_fields import FieldSelectionMixin, SelectableFieldsSerializerMixin, fields_parameters
from uprtrax.api_links import IdentityLink
from uprtrax.api_lists import OrderedListMixin, OrderingBackend, Pages, both_ways
from uprtrax.pagecache import AnonymousCachedReads


def _path(name: str, description: str, kind: type = str) -> OpenApiParameter:
    return OpenApiParameter(name, kind, OpenApiParameter.PATH, description=description)


def _reference_schema(listed: tuple[str, str], one: tuple[str, str], key: OpenApiParameter):
    """The OpenAPI summary and description of a reference list and of one of its items, with its path parameter."""
    return extend_schema_view(
        list=extend_schema(summary=listed[0], description=listed[1]),
        retrieve=extend_schema(summary=one[0], description=one[1], parameters=[key]),
    )


# --- Serializers ----------------------------------------------------------------------------------------------------


class RegionalGroupSerializer(serializers.ModelSerializer):
    url = IdentityLink(view_name="api:regionalgroup-detail", lookup_field="code")
    state_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = RegionalGroup
        fields = ["url", "code", "name", "state_count"]


class RegionalGroupBriefSerializer(serializers.ModelSerializer):
    url = IdentityLink(view_name="api:regionalgroup-detail", lookup_field="code")

    class Meta:
        model = RegionalGroup
        fields = ["url", "code", "name"]


class IntergovernmentalOrganisationSerializer(serializers.ModelSerializer):
    class Meta:
        model = IntergovernmentalOrganisation
        fields = ["acronym", "name"]


class StateBriefSerializer(serializers.ModelSerializer):
    url = IdentityLink(view_name="api:state-detail", lookup_field="iso3")

    class Meta:
        model = State
        fields = ["url", "iso3", "short_name"]


class IntergovernmentalOrganisationDetailSerializer(serializers.ModelSerializer):
    url = IdentityLink(view_name="api:intergovernmentalorganisation-detail", lookup_field="acronym")
    states = StateBriefSerializer(many=True, read_only=True, help_text="Its member states, by name.")

    class Meta:
        model = IntergovernmentalOrganisation
        fields = ["url", "acronym", "name", "states"]


class StateSerializer(serializers.ModelSerializer):
    url = IdentityLink(view_name="api:state-detail", lookup_field="iso3")
    regional_group = RegionalGroupBriefSerializer(read_only=True)
    organisations = IntergovernmentalOrganisationSerializer(many=True, read_only=True)

    class Meta:
        model = State
        fields = ["url", "iso3", "short_name", "name", "status", "regional_group", "organisations"]


class CycleSerializer(serializers.ModelSerializer):
    url = IdentityLink(view_name="api:cycle-detail", lookup_field="number")
    sessions = serializers.SlugRelatedField(slug_field="number", many=True, read_only=True)

    class Meta:
        model = Cycle
        fields = ["url", "number", "start_date", "end_date", "sessions"]


class SessionSerializer(serializers.ModelSerializer):
    url = IdentityLink(view_name="api:session-detail", lookup_field="number")
    cycle = serializers.SlugRelatedField(slug_field="number", read_only=True)
    states_reviewed = serializers.SerializerMethodField(help_text="ISO3 codes of the states reviewed, by name.")

    class Meta:
        model = Session
        fields = ["url", "number", "cycle", "year", "start_date", "end_date", "states_reviewed"]

    def get_states_reviewed(self, session: Session) -> list[str]:
        return [review.state.iso3 for review in session.reviews.all()]


class ResponseCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="Recommendations (voluntary pledges are not counted).")
    accepted = serializers.IntegerField()
    noted = serializers.IntegerField()
    pending = serializers.IntegerField()


class ReviewSerializer(SelectableFieldsSerializerMixin, serializers.ModelSerializer):
    url = IdentityLink(view_name="api:review-detail")
    state = StateBriefSerializer(read_only=True)
    session = serializers.IntegerField(source="session.number", read_only=True)
    cycle = serializers.IntegerField(source="session.cycle.number", read_only=True)
    year = serializers.IntegerField(source="session.year", read_only=True)
    mid_term_date = serializers.DateField(
        read_only=True,
        allow_null=True,  # no adoption date, no mid-term date (schemathesis found the null the schema did not allow)
        help_text="About two and a half years after adoption: when mid-term assessments are due.",
    )
    recommendations = serializers.SerializerMethodField(help_text="Its recommendations counted by response.")
    recommendations_url = serializers.SerializerMethodField(help_text="Its recommendations in the API.")

    class Meta:
        model = Review
        fields = [
            "id", "url", "state", "session", "cycle", "year", "report_symbol", "adoption_date", "mid_term_date",
            "recommendations", "recommendations_url",
        ]  # fmt: skip

    @extend_schema_field(ResponseCountsSerializer)
    def get_recommendations(self, review: Review) -> dict:
        tally = self.context.get("tallies", {}).get(review.pk, Tally())
        return {"total": tally.total, "accepted": tally.accepted, "noted": tally.noted, "pending": tally.pending}

    def get_recommendations_url(self, review: Review) -> str:
        base = reverse("api:recommendation-list", request=self.context["request"])
        return f"{base}?sur={review.state.iso3}&session={review.session.number}"


# --- Filters --------------------------------------------------------------------------------------------------------


class StateFilterSet(django_filters.FilterSet):
    regional_group = django_filters.CharFilter(
        field_name="regional_group__code", lookup_expr="iexact", label="Regional group's code, in any case (WEOG)."
    )

    class Meta:
        model = State
        fields = ["regional_group", "status"]


class SessionFilterSet(django_filters.FilterSet):
    cycle = django_filters.NumberFilter(field_name="cycle__number", label="Cycle's number.")
    year = django_filters.NumberFilter(label="Year of the session.")

    class Meta:
        model = Session
        fields = ["cycle", "year"]


def _upper(value: str) -> str:
    return value.strip().upper()


class ReviewFilterSet(django_filters.FilterSet):
    """`state` (ISO3), `regional_group` (its code), `session` and `cycle` (numbers); several values by repeating a
    parameter. An unknown value is an error naming it."""

    state = CodesFilter(method="filter_state", label="State under review (ISO3)", normalise=_upper,
                        invalid="No state with code '%(value)s'.", distinct=False)  # fmt: skip
    regional_group = CodesFilter(method="filter_regional_group", label="Regional group", normalise=_upper,
                                 invalid="No regional group '%(value)s'.", distinct=False)  # fmt: skip
    session = CodesFilter(method="filter_session", label="Session", invalid="No session number '%(value)s'.",
                          distinct=False)  # fmt: skip
    cycle = CodesFilter(method="filter_cycle", label="Cycle", invalid="No cycle '%(value)s'.", distinct=False)

    REFERENCE: ClassVar[dict[str, str]] = {"state": "state", "regional_group": "region", "session": "session",
                                           "cycle": "cycle"}  # fmt: skip

    class Meta:
        model = Review
        fields: ClassVar[list[str]] = []

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        for name, kind in self.REFERENCE.items():
            # Read when a value is checked: a list without these filters loads no reference table.
            self.filters[name].extra["choices"] = lambda kind=kind: getattr(self.reference, f"{kind}_choices")()

    @functools.cached_property
    def reference(self) -> Reference:
        return reference_load()

    def filter_state(self, queryset, name, value: list[str]):  # the hint types the OpenAPI parameter
        return queryset.filter(state_id__in=self.reference.ids("state", value)) if value else queryset

    def filter_regional_group(self, queryset, name, value: list[str]):  # the hint types the OpenAPI parameter
        regions = self.reference.ids("region", value)
        return queryset.filter(state__regional_group_id__in=regions) if value else queryset

    def filter_session(self, queryset, name, value: list[str]):  # the hint types the OpenAPI parameter
        return queryset.filter(session__number__in=[int(v) for v in value]) if value else queryset

    def filter_cycle(self, queryset, name, value: list[str]):  # the hint types the OpenAPI parameter
        return queryset.filter(session__cycle__number__in=[int(v) for v in value]) if value else queryset


# --- Views ----------------------------------------------------------------------------------------------------------


class ReferenceViewSet(AnonymousCachedReads, OrderedListMixin, viewsets.ReadOnlyModelViewSet):
    """A small list: numbered pages with a count, `ordering` from the view's names, and its FilterSet if any."""

    pagination_class = Pages
    filter_backends = [DjangoFilterBackend, OrderingBackend]


@_reference_schema(
    ("Regional groups", "The five UN regional groups, with their states counted."),
    ("One regional group", "By code, in any case: `/regional-groups/WEOG/`."),
    _path("code", "The group's code, in any case: Africa, Asia, EEG, GRULAC, WEOG."),
)
class RegionalGroupViewSet(ReferenceViewSet):
    """The five UN regional groups, by code (`/regional-groups/WEOG/`), with how many states each has."""

    queryset = RegionalGroup.objects.annotate(state_count=Count("states"))
    serializer_class = RegionalGroupSerializer
    lookup_field = "code__iexact"
    lookup_url_kwarg = "code"
    orderings = {**both_ways("name", "name"), **both_ways("code", "code")}
    ordering_default = "name"


@_reference_schema(
    (
        "Intergovernmental organisations",
        "Organisations that states belong to (AU, EU, OIC, OIF, ...), with their member states: the "
        "values of the recommendations' `org` filter.",
    ),
    ("One intergovernmental organisation", "By acronym, in any case: `/intergovernmental-organisations/eu/`."),
    _path("acronym", "The organisation's acronym, in any case (AU, EU, OIC…)."),
)
class IntergovernmentalOrganisationViewSet(ReferenceViewSet):
    """Intergovernmental organisations of states, by acronym (`/intergovernmental-organisations/EU/`), with their
    member states; filter the recommendations they made with `?org=EU`."""

    queryset = IntergovernmentalOrganisation.objects.prefetch_related(
        Prefetch("states", State.objects.order_by("short_name"))
    )
    serializer_class = IntergovernmentalOrganisationDetailSerializer
    lookup_field = "acronym__iexact"
    lookup_url_kwarg = "acronym"
    orderings = {**both_ways("acronym", "acronym"), **both_ways("name", "name", "acronym")}
    ordering_default = "acronym"


@_reference_schema(
    ("Cycles", "The UPR's cycles, with the numbers of their sessions."),
    ("One cycle", "By number: `/cycles/4/`."),
    _path("number", "The cycle's number.", int),
)
class CycleViewSet(ReferenceViewSet):
    """UPR cycles, by number, with the numbers of their sessions."""

    queryset = Cycle.objects.prefetch_related(Prefetch("sessions", Session.objects.order_by("number")))
    serializer_class = CycleSerializer
    lookup_field = "number"
    orderings = both_ways("number", "number")
    ordering_default = "number"


@_reference_schema(
    ("Sessions", "Working Group sessions, with the states they reviewed."),
    ("One session", "By number: `/sessions/45/`."),
    _path("number", "The Working Group session's number.", int),
)
class SessionViewSet(ReferenceViewSet):
    """Working Group sessions, by number; filter with `?cycle=2` or `?year=2012`."""

    queryset = Session.objects.select_related("cycle").prefetch_related(
        Prefetch("reviews", Review.objects.select_related("state").order_by("state__short_name"))
    )
    serializer_class = SessionSerializer
    filterset_class = SessionFilterSet
    lookup_field = "number"
    orderings = both_ways("number", "number")
    ordering_default = "number"


@_reference_schema(
    ("States", "UN member and observer states, with their regional group and intergovernmental organisations."),
    ("One state", "By ISO 3166-1 alpha-3 code, in any case: `/states/fra/`."),
    _path("iso3", "The state's ISO 3166-1 alpha-3 code, in any case."),
)
class StateViewSet(ReferenceViewSet):
    """States, by ISO3 code in any case (`/states/fra/`); filter with `?regional_group=WEOG` or `?status=observer`."""

    queryset = State.objects.select_related("regional_group").prefetch_related(
        Prefetch("organisations", IntergovernmentalOrganisation.objects.order_by("acronym"))
    )
    serializer_class = StateSerializer
    filterset_class = StateFilterSet
    lookup_field = "iso3__iexact"
    lookup_url_kwarg = "iso3"
    orderings = {**both_ways("name", "short_name"), **both_ways("iso3", "iso3")}
    ordering_default = "name"


_REVIEW_EXAMPLE = {
    "id": 512,
    "url": "https://uprtrax.example/api/v1/reviews/512/",
    "state": {"url": "https://uprtrax.example/api/v1/states/FRA/", "iso3": "FRA", "short_name": "France"},
    "session": 43,
    "cycle": 4,
    "year": 2023,
    "report_symbol": "A/HRC/54/5",
    "adoption_date": "2023-09-27",
    "mid_term_date": "2026-03-28",
    "recommendations": {"total": 297, "accepted": 256, "noted": 41, "pending": 0},
    "recommendations_url": "https://uprtrax.example/api/v1/recommendations/?sur=FRA&session=43",
}


@extend_schema_view(
    list=extend_schema(
        summary="Reviews",
        description="Reviews: one state under review in one session, with its Working Group report and its "
        "recommendations counted by response. Filters: `state`, `regional_group`, `session`, `cycle` (several "
        "values by repeating a parameter).",
        parameters=fields_parameters(ReviewSerializer, "state,session,report_symbol"),
        examples=[OpenApiExample("France in session 43", value=_REVIEW_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        summary="One review",
        description="A review by its id.",
        parameters=fields_parameters(ReviewSerializer, "state,session,recommendations"),
    ),
)
class ReviewViewSet(FieldSelectionMixin, ReferenceViewSet):
    """Reviews, by id: one state in one session, its report, its dates and its recommendations counted by response
    (for the rows of the page, in one query). Filter with `?state=FRA`, `?session=43`, `?cycle=4`,
    `?regional_group=WEOG`."""

    serializer_class = ReviewSerializer
    filterset_class = ReviewFilterSet
    orderings = {
        "session": ("session__number", "state__short_name"),
        "-session": ("-session__number", "state__short_name"),
        "state": ("state__short_name", "session__number"),
        "id": ("id",),
    }
    ordering_default = "session"

    def get_queryset(self):
        related = ["session__cycle"] if self.wants("cycle") else ["session"]
        if self.wants("state", "recommendations_url"):
            related.append("state")
        return Review.objects.select_related(*related)

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        if page is not None and self.wants("recommendations"):
            self._tallies = review_tallies(review_ids=[review.pk for review in page])
        return page

    def get_object(self):
        review = super().get_object()
        if self.wants("recommendations"):
            self._tallies = review_tallies(review_ids=[review.pk])
        return review

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "tallies": getattr(self, "_tallies", {})}
