"""The organisations that assess implementation, at /api/v1/organisations/: what their public page shows (name,
kind, country, website), never their members or anyone's email. Their public assessments are at
/api/v1/assessments/?organisation=<slug>."""

import functools
from typing import ClassVar

import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.reverse import reverse

from followup.models import Organisation
from recommendations.facets import Reference, reference_load
from recommendations.filters import CodesFilter
from reviews.api import StateBriefSerializer
from uprtrax.api_links import IdentityLink
from uprtrax.api_lists import OrderedListMixin, OrderingBackend, Pages
from uprtrax.pagecache import AnonymousCachedReads


class OrganisationSerializer(serializers.ModelSerializer):
    url = IdentityLink(view_name="api:organisation-detail", lookup_field="slug")
    page = serializers.SerializerMethodField(help_text="The organisation's page on the site.")
    country = StateBriefSerializer(read_only=True, allow_null=True, help_text="Where it is based, if known.")
    assessments_url = serializers.SerializerMethodField(help_text="Its public assessments in the API.")

    class Meta:
        model = Organisation
        fields = ["url", "slug", "name", "kind", "country", "website", "page", "assessments_url"]

    def get_page(self, organisation: Organisation) -> str:
        return self.context["request"].build_absolute_uri(f"/organisations/{organisation.slug}/")

    def get_assessments_url(self, organisation: Organisation) -> str:
        base = reverse("api:assessment-list", request=self.context["request"])
        return f"{base}?organisation={organisation.slug}"


def _lower(value: str) -> str:
    return value.strip().lower()


def _upper(value: str) -> str:
    return value.strip().upper()


class OrganisationFilterSet(django_filters.FilterSet):
    """`kind` (cso, nhri, state, un_agency, academic, other) and `country` (ISO3); several values by repeating a
    parameter. An unknown value is an error naming it."""

    kind = CodesFilter(field_name="kind", label="Kind", choices=Organisation.Kind.choices, normalise=_lower,
                       invalid="No kind of organisation '%(value)s'.", distinct=False)  # fmt: skip
    country = CodesFilter(method="filter_country", label="Country (ISO3)", normalise=_upper,
                          invalid="No state with code '%(value)s'.", distinct=False)  # fmt: skip

    class Meta:
        model = Organisation
        fields: ClassVar[list[str]] = []

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        # Read when a value is checked: a list without `country` loads no reference table.
        self.filters["country"].extra["choices"] = lambda: self.reference.state_choices()

    @functools.cached_property
    def reference(self) -> Reference:
        return reference_load()

    def filter_country(self, queryset, name, value: list[str]):  # the hint types the OpenAPI parameter
        return queryset.filter(country_id__in=self.reference.ids("state", value)) if value else queryset


@extend_schema_view(
    list=extend_schema(
        summary="Organisations",
        description="The organisations that assess implementation (civil society, national human rights "
        "institutions, UN agencies, states, ...): their public details. Filters: `kind`, `country`.",
    ),
    retrieve=extend_schema(
        summary="One organisation",
        description="By slug: `/organisations/ligue-des-droits/`.",
        parameters=[OpenApiParameter("slug", str, OpenApiParameter.PATH, description="The organisation's slug.")],
    ),
)
class OrganisationViewSet(AnonymousCachedReads, OrderedListMixin, viewsets.ReadOnlyModelViewSet):
    """Organisations that assess implementation, by slug, with their public details; their public assessments are
    at /api/v1/assessments/?organisation=<slug>."""

    queryset = Organisation.objects.select_related("country")
    serializer_class = OrganisationSerializer
    filterset_class = OrganisationFilterSet
    filter_backends = [DjangoFilterBackend, OrderingBackend]
    pagination_class = Pages
    lookup_field = "slug"
    orderings = {"name": ("name",), "-name": ("-name",)}
    ordering_default = "name"
