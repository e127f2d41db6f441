"""Read-only API for recommendations and their themes: /api/v1/recommendations/ and /api/v1/issues/.

The recommendations endpoint takes exactly the search page's parameters (one FilterSet serves the page, the export
and the API). Without a text search the list is paged by cursor, in one of four orders (`ordering`: `-session`, the
default, `session`, `-id`, `id`), each served by an index, so that a page deep in a million rows costs as little as
the first; with one, by relevance in numbered pages, up to a stated depth. `fields`/`omit` choose the fields shown
(uprtrax.api_fields).
"""

from django.db.models import Prefetch, QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError

from followup.models import Assessment
from recommendations.bitmaps import Bitmaps, bitmap_total, bitmaps_current, page_ids, search_bitmap
from recommendations.facets import reference_load
from recommendations.filters import SORT_DATE, SORT_OLDEST, SORT_RELEVANCE, SORT_STATE, RecommendationFilterSet
from recommendations.models import Issue, Recommendation
from recommendations.selectors import links_attach, links_read
from reviews.api import StateBriefSerializer
from reviews.models import Review
from uprtrax.api_fields import FieldSelectionMixin, SelectableFieldsSerializerMixin, fields_parameters
from uprtrax.api_links import IdentityLink
from uprtrax.api_lists import (
    ORDERING_PARAM,
    KeysetCursorPagination,
    OrderedListMixin,
    OrderingBackend,
    Pages,
    ordering_description,
)
from uprtrax.pagecache import AnonymousCachedReads


class IssueSerializer(serializers.ModelSerializer):
    url = IdentityLink(view_name="api:issue-detail", lookup_field="slug")

    class Meta:
        model = Issue
        fields = ["url", "slug", "name"]


@extend_schema_view(
    list=extend_schema(summary="Issues (themes)", description="UPR Info's 54 issues, by name."),
    retrieve=extend_schema(
        summary="One issue",
        description="An issue by its slug: `/issues/womens-rights/`.",
        parameters=[OpenApiParameter("slug", str, OpenApiParameter.PATH, description="The issue's slug.")],
    ),
)
class IssueViewSet(AnonymousCachedReads, OrderedListMixin, viewsets.ReadOnlyModelViewSet):
    """UPR Info's issues (themes), by slug: `/issues/womens-rights/`."""

    queryset = Issue.objects.all()
    serializer_class = IssueSerializer
    lookup_field = "slug"
    pagination_class = Pages
    filter_backends = [OrderingBackend]
    orderings = {"name": ("name",), "-name": ("-name",)}
    ordering_default = "name"


# --- Recommendations ------------------------------------------------------------------------------------------------


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


class RecommendationSerializer(SelectableFieldsSerializerMixin, serializers.ModelSerializer):
    url = IdentityLink(view_name="api:recommendation-detail")
    page = serializers.SerializerMethodField(help_text="The recommendation's page on the site.")
    state_under_review = StateBriefSerializer(source="review.state")
    # The session's number is kept on the recommendation itself (a database trigger): no join to read it.
    session = serializers.IntegerField(source="session_number")
    cycle = serializers.IntegerField(source="review.session.cycle.number")
    year = serializers.IntegerField(source="review.session.year")
    report_symbol = serializers.CharField(source="review.report_symbol")
    # By name, from the id arrays on the row and the reference data in memory (recommendations.selectors.links_read).
    recommending_states = StateBriefSerializer(many=True, source="states_shown")
    issues = IssueBriefSerializer(many=True, source="issues_shown")

    class Meta:
        model = Recommendation
        fields = [
            "id", "url", "page", "state_under_review", "session", "cycle", "year", "report_symbol", "kind",
            "paragraph_ref", "text", "recommending_states", "response", "response_original", "action_category",
            "issues", "implementation_status",
        ]  # fmt: skip

    def get_page(self, recommendation: Recommendation) -> str:
        site = self.context.get("_site")
        if site is None:
            site = self.context["_site"] = self.context["request"].build_absolute_uri("/")
        return f"{site}recommendations/{recommendation.pk}/"


class RecommendationDetailSerializer(RecommendationSerializer):
    assessments = AssessmentPublicSerializer(many=True, source="public_assessments")

    class Meta(RecommendationSerializer.Meta):
        fields = [*RecommendationSerializer.Meta.fields, "assessments"]


class RankedPages(Pages):
    """Numbered pages of a ranked text search, up to MAX_PAGE pages deep (narrow the search to go further)."""

    MAX_PAGE = 200

    def paginate_queryset(self, queryset, request, view=None):
        page = request.query_params.get(self.page_query_param, "1")
        if page.isdigit() and int(page) > self.MAX_PAGE:
            raise ValidationError(
                {"page": [f"Ranked results go {self.MAX_PAGE} pages deep: narrow the search, or export the results."]}
            )
        if view is not None:
            queryset = view.ranked_rows(queryset)
        return super().paginate_queryset(queryset, request, view)


class RankedRows:
    """A ranked search's matches as Django's Paginator reads a list (their count, and the rows of a slice), found
    and ordered by the search page's bitmaps and word index (recommendations.bitmaps) instead of PostgreSQL ranking
    every match: the same rows in the same order, a page's rows then read by id."""

    def __init__(self, filterset: RecommendationFilterSet, maps: Bitmaps, rows: QuerySet[Recommendation]):
        self.filterset, self.maps, self.rows, self.model = filterset, maps, rows, rows.model
        self.matches = search_bitmap(filterset, maps)

    def count(self) -> int:
        return bitmap_total(self.matches)

    def __getitem__(self, part: slice) -> list[Recommendation]:
        start = part.start or 0
        ids = page_ids(self.filterset, self.maps, self.matches, start, part.stop - start)
        found = self.rows.in_bulk(ids)
        return [found[pk] for pk in ids if pk in found]


# Orders of the cursor pages, each read from an index: rec_session_desc_idx (session_number descending, id) forwards
# or backwards, or the primary key. The search page's sort=date and sort=oldest are -session and session.
ORDERINGS = {
    "-session": ("-session_number", "id"),
    "session": ("session_number", "-id"),
    "-id": ("-id",),
    "id": ("id",),
}
# Filters that select few rows, which may all lie far along the order's index (a state's reviews, an old session, a
# rare issue): their rows are read through the filter's own index and sorted, instead of looked for along the order
# (uprtrax.api_lists: sorted_after_filtering). A state under review or a session naming at most REVIEWS_SORTED
# reviews (a state has one per cycle, a session about fifteen; about 1,300 rows each at a million recommendations);
# an issue or a recommending state with at most LINKS_SORTED links (counted up to that bound, in its index).
REVIEWS_SORTED = 24
LINKS_SORTED = 20_000
_LINKS = {
    "issue": (Recommendation.issues.through, "issue__slug__in", str.lower),
    "from": (Recommendation.recommending_states.through, "state__iso3__in", str.upper),
}
SORT_ORDERINGS = {SORT_DATE: "-session", SORT_OLDEST: "session"}

_LIST_PARAMETERS = [
    OpenApiParameter(
        "page",
        OpenApiTypes.INT,
        description="With a text search (`q`) ranked by relevance: the page number, 1 to 200 (the list has a count "
        "and numbered pages then, instead of a cursor).",
    ),
    OpenApiParameter(
        ORDERING_PARAM,
        OpenApiTypes.STR,
        enum=list(ORDERINGS),
        description=ordering_description(ORDERINGS, "-session")
        + " `-session`: newest session first, each session in the report's order (the search page's "
        "`sort=date`); `session`: the reverse (`sort=oldest`); `-id` and `id`: by entry, newest or oldest first "
        "(to download everything, and later what was added since). Given with `q`, the results are in this order "
        "rather than by "
        "relevance. The search page's `sort=state` is not offered: filter by state (`sur`) instead.",
    ),
]


@extend_schema_view(
    list=extend_schema(
        summary="Recommendations",
        description="Recommendations and voluntary pledges with the search page's filters; several values by "
        "repeating a parameter (`?sur=FRA&sur=DEU`: either). Without `q`: paged by cursor (follow `next`), in the "
        "`ordering` asked for. With `q`: by relevance, in numbered pages (`page`), with a `count`.",
        parameters=[*_LIST_PARAMETERS, *fields_parameters(RecommendationSerializer, "id,text,response")],
        examples=[
            OpenApiExample(
                "Accepted recommendations to France on torture",
                description="GET /api/v1/recommendations/?sur=FRA&issue=torture-and-other-cid-treatment&"
                "response=accepted&fields=id,session,text",
                value={
                    "id": 103,
                    "session": 43,
                    "text": "Ratify the Optional Protocol to the Convention against Torture",
                },
                response_only=True,
            )
        ],
    ),
    retrieve=extend_schema(
        summary="One recommendation",
        description="A recommendation or voluntary pledge by its id, with its public assessments.",
        parameters=fields_parameters(RecommendationDetailSerializer, "id,text,assessments"),
    ),
)
class RecommendationViewSet(AnonymousCachedReads, FieldSelectionMixin, OrderedListMixin, viewsets.ReadOnlyModelViewSet):
    """Recommendations and voluntary pledges, with the search page's filters: `q` (full text: words, "a phrase",
    -word), `sur`, `sur_region`, `from`, `from_region`, `org`, `session`, `cycle`, `response`, `action`, `issue`,
    `status`, `kind`, `sort`; several values by repeating a parameter. Without `q`: in the `ordering` asked for
    (newest session first by default), paged by cursor (follow `next`); with `q`: by relevance, in numbered pages.
    `page_size` up to 100; `fields`/`omit` to choose the fields."""

    serializer_class = RecommendationSerializer
    filterset_class = RecommendationFilterSet
    filter_backends = [DjangoFilterBackend, OrderingBackend]
    pagination_class = KeysetCursorPagination  # what the schema describes; `paginator` picks per request
    orderings = ORDERINGS
    ordering_default = "-session"

    def get_queryset(self):
        queryset = Recommendation.objects.defer("search_vector", "natural_key")
        related = []
        if self.wants("state_under_review"):
            related.append("review__state")
        if self.wants("cycle"):
            related.append("review__session__cycle")
        elif self.wants("year"):
            related.append("review__session")
        elif self.wants("report_symbol"):
            related.append("review")
        if related:
            queryset = queryset.select_related(*related)
        if self._wants_links():
            queryset = links_read(queryset)
        if self.action == "retrieve" and self.wants("assessments"):
            public = Assessment.objects.public().select_related("organisation")
            queryset = queryset.prefetch_related(
                Prefetch(
                    "assessments", public.order_by("assessed_on", "organisation__name"), to_attr="public_assessments"
                )
            )
        return queryset

    def _wants_links(self) -> bool:
        return self.wants("recommending_states") or self.wants("issues")

    def paginate_queryset(self, queryset):
        rows = super().paginate_queryset(queryset)
        if rows is not None and self._wants_links():
            links_attach(rows, reference_load())
        return rows

    def get_object(self):
        row = super().get_object()
        if self._wants_links():
            links_attach([row], reference_load())
        return row

    def _ranked(self) -> bool:
        params = self.request.query_params
        return bool(
            params.get("q", "").strip()
            and not params.get(ORDERING_PARAM, "").strip()
            and params.get("sort", SORT_RELEVANCE) in ("", SORT_RELEVANCE)
        )

    def ordering_name(self) -> str:
        """`ordering`, else the search page's `sort` where it has an index (date, oldest), else the default."""
        params = self.request.query_params
        sort = params.get("sort", "").strip()
        if params.get(ORDERING_PARAM, "").strip() or sort not in (SORT_DATE, SORT_OLDEST, SORT_STATE):
            return super().ordering_name()
        if sort == SORT_STATE:
            raise ValidationError({
                "sort": ["The API does not sort by state under review: filter by it (sur=FRA), or give an ordering: "
                         f"{', '.join(self.orderings)}."]
            })  # fmt: skip
        return SORT_ORDERINGS[sort]

    def filter_queryset(self, queryset):
        # The search's filters (and its default of recommendations only) choose lists, not one by its id: a
        # voluntary pledge is found by its id too. A ranked search keeps the FilterSet's order (relevance).
        if self.action == "retrieve":
            return queryset
        backends = [DjangoFilterBackend] if self._ranked() else self.filter_backends
        for backend in backends:
            queryset = backend().filter_queryset(self.request, queryset, self)
        if self._ranked():
            return queryset
        reviews = self._reviews_named()
        if reviews is not None:
            queryset = queryset.filter(review_id__in=reviews)
        # Read by uprtrax.api_lists.KeysetCursorPagination.
        self.sorted_after_filtering = reviews is not None or self._links_few()
        return queryset

    def _codes(self, name: str, normalise=str.strip) -> list[str]:
        return [normalise(value.strip()) for value in self.request.query_params.getlist(name) if value.strip()]

    def _reviews_named(self) -> list[int] | None:
        """The reviews that `sur` and `session` narrow the list to (checked by the FilterSet), when they are few; a
        session alone only for the id orders (the session orders find a session's rows in their own index)."""
        states, sessions = self._codes("sur", str.upper), [int(value) for value in self._codes("session")]
        if not (states or (sessions and self.ordering_name() in ("-id", "id"))):
            return None
        reviews = Review.objects.all()
        if states:
            reviews = reviews.filter(state__iso3__in=states)
        if sessions:
            reviews = reviews.filter(session__number__in=sessions)
        ids = list(reviews.order_by().values_list("id", flat=True)[: REVIEWS_SORTED + 1])
        return ids if len(ids) <= REVIEWS_SORTED else None

    def _links_few(self) -> bool:
        """Whether `issue` or `from` names values with few links (at most LINKS_SORTED, counted up to that)."""
        for name, (links, lookup, normalise) in _LINKS.items():
            codes = self._codes(name, normalise)
            if (
                codes
                and links.objects.filter(**{lookup: codes}).values("pk")[: LINKS_SORTED + 1].count() <= LINKS_SORTED
            ):
                return True
        return False

    def ranked_rows(self, queryset: QuerySet[Recommendation]) -> QuerySet[Recommendation] | RankedRows:
        """The matches of a ranked search from the search's bitmaps when this process has the current ones (on
        PostgreSQL, unless SEARCH_BITMAPS is off); else `queryset`, which PostgreSQL ranks."""
        filterset = RecommendationFilterSet(self.request.query_params, queryset=queryset)
        if not filterset.is_valid():
            return queryset
        maps = bitmaps_current(filterset.reference)
        return queryset if maps is None else RankedRows(filterset, maps, self.get_queryset())

    def get_serializer_class(self):
        return RecommendationDetailSerializer if self.action == "retrieve" else RecommendationSerializer

    @property
    def paginator(self):
        if not hasattr(self, "_paginator"):
            ranked = getattr(self, "request", None) is not None and self._ranked()
            self._paginator = RankedPages() if ranked else KeysetCursorPagination()
        return self._paginator
