"""Read-only API for recommendations and their themes: /api/v1/recommendations/ and /api/v1/issues/.

The recommendations endpoint takes exactly the search page's parameters (one FilterSet serves the page, the export
and the API). Without a text search the list is paged by cursor (newest first by id), so that a page deep in a
million rows costs as little as the first; with one, by relevance in numbered pages, up to a stated depth.
"""

from django.db.models import Prefetch
from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination

from followup.models import Assessment
from recommendations.filters import SORT_RELEVANCE, RecommendationFilterSet
from recommendations.models import Issue, Recommendation
from reviews.models import State

PAGE_SIZE_MAX = 100


class IssueSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:issue-detail", lookup_field="slug")

    class Meta:
        model = Issue
        fields = ["url", "slug", "name"]


class IssueViewSet(viewsets.ReadOnlyModelViewSet):
    """UPR Info's issues (themes), by slug: `/issues/womens-rights/`."""

    queryset = Issue.objects.order_by("name")
    serializer_class = IssueSerializer
    lookup_field = "slug"


# --- Recommendations ------------------------------------------------------------------------------------------------


class StateBriefSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:state-detail", lookup_field="iso3")

    class Meta:
        model = State
        fields = ["url", "iso3", "short_name"]


class IssueBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Issue
        fields = ["slug", "name"]


class AssessmentPublicSerializer(serializers.ModelSerializer):
    organisation = serializers.CharField(source="organisation.name")
    organisation_kind = serializers.CharField(source="organisation.kind")

    class Meta:
        model = Assessment
        fields = ["organisation", "organisation_kind", "phase", "status", "comment", "evidence_urls", "assessed_on"]


class RecommendationSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:recommendation-detail")
    page = serializers.SerializerMethodField(help_text="The recommendation's page on the site.")
    state_under_review = StateBriefSerializer(source="review.state")
    session = serializers.IntegerField(source="review.session.number")
    cycle = serializers.IntegerField(source="review.session.cycle.number")
    year = serializers.IntegerField(source="review.session.year")
    report_symbol = serializers.CharField(source="review.report_symbol")
    recommending_states = StateBriefSerializer(many=True)
    issues = IssueBriefSerializer(many=True)

    class Meta:
        model = Recommendation
        fields = [
            "id", "url", "page", "state_under_review", "session", "cycle", "year", "report_symbol", "kind",
            "paragraph_ref", "text", "recommending_states", "response", "response_original", "action_category",
            "issues", "implementation_status",
        ]  # fmt: skip

    def get_page(self, recommendation: Recommendation) -> str:
        return self.context["request"].build_absolute_uri(f"/recommendations/{recommendation.pk}/")


class RecommendationDetailSerializer(RecommendationSerializer):
    assessments = AssessmentPublicSerializer(many=True, source="public_assessments")

    class Meta(RecommendationSerializer.Meta):
        fields = [*RecommendationSerializer.Meta.fields, "assessments"]


class NewestFirstCursor(CursorPagination):
    """Newest first by id: the next page starts after the last id seen, whatever the depth."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = PAGE_SIZE_MAX

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        # DRF checks the cursor's form, not its position: an id that is not a number is a bad cursor, not a crash.
        if cursor is not None and cursor.position is not None and not str(cursor.position).isdigit():
            raise NotFound(self.invalid_cursor_message)
        return cursor


class RankedPages(PageNumberPagination):
    """Numbered pages of a ranked text search, up to MAX_PAGE pages deep (narrow the search to go further)."""

    page_size_query_param = "page_size"
    max_page_size = PAGE_SIZE_MAX
    MAX_PAGE = 200

    def paginate_queryset(self, queryset, request, view=None):
        page = request.query_params.get(self.page_query_param, "1")
        if page.isdigit() and int(page) > self.MAX_PAGE:
            raise ValidationError(
                {"page": [f"Ranked results go {self.MAX_PAGE} pages deep: narrow the search, or export the results."]}
            )
        return super().paginate_queryset(queryset, request, view)


def _page_size_check(request) -> None:
    raw = request.query_params.get("page_size")
    if raw is not None and (not raw.isdigit() or not 1 <= int(raw) <= PAGE_SIZE_MAX):
        raise ValidationError({"page_size": [f"A page holds 1 to {PAGE_SIZE_MAX} recommendations, not “{raw[:20]}”."]})


class RecommendationViewSet(viewsets.ReadOnlyModelViewSet):
    """Recommendations and voluntary pledges, with the search page's filters: `q` (full text: words, "a phrase",
    -word), `sur`, `sur_region`, `from`, `from_region`, `org`, `session`, `cycle`, `response`, `action`, `issue`,
    `status`, `kind`, `sort`; several values by repeating a parameter. Without `q`: newest first, paged by cursor
    (follow `next`); with `q`: by relevance, in numbered pages. `page_size` up to 100."""

    serializer_class = RecommendationSerializer
    filterset_class = RecommendationFilterSet

    def get_queryset(self):
        queryset = Recommendation.objects.select_related("review__state", "review__session__cycle").prefetch_related(
            Prefetch("recommending_states", State.objects.order_by("short_name")),
            Prefetch("issues", Issue.objects.order_by("name")),
        )
        if self.action == "retrieve":
            public = Assessment.objects.public().select_related("organisation")
            queryset = queryset.prefetch_related(
                Prefetch(
                    "assessments", public.order_by("assessed_on", "organisation__name"), to_attr="public_assessments"
                )
            )
        return queryset

    def filter_queryset(self, queryset):
        # The search's filters (and its default of recommendations only) choose lists, not one by its id: a
        # voluntary pledge is found by its id too.
        return queryset if self.action == "retrieve" else super().filter_queryset(queryset)

    def get_serializer_class(self):
        return RecommendationDetailSerializer if self.action == "retrieve" else RecommendationSerializer

    @property
    def paginator(self):
        if not hasattr(self, "_paginator"):
            ranked = self.request.query_params.get("q", "").strip() and self.request.query_params.get(
                "sort", SORT_RELEVANCE
            ) in ("", SORT_RELEVANCE)
            self._paginator = RankedPages() if ranked else NewestFirstCursor()
        return self._paginator

    def list(self, request, *args, **kwargs):
        _page_size_check(request)
        return super().list(request, *args, **kwargs)
