"""The one FilterSet for recommendations: it serves the search page, its facets, the exports and the API alike.

Every filter takes several values by repeating its parameter (`?sur=FRA&sur=DEU`): values of one filter are
alternatives (OR), filters combine (AND). Codes are those people see in URLs: ISO3 for states, group codes,
organisation acronyms, session and cycle numbers, issue slugs. An unknown value is a form error naming it, and the
result is empty, never the unfiltered list.
"""

from typing import ClassVar

import django_filters
from django import forms
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from followup.models import Assessment
from recommendations import search
from recommendations.facets import Reference, reference_load
from recommendations.models import Recommendation
from reviews.models import Session

QUERY_MAX_LENGTH = 300
VALUES_MAX = 50  # values of one filter; more is an error, not a slow query

STATUS_NONE = "none"
STATUS_CHOICES = [*[(value, label) for value, label in Assessment.Status.choices], (STATUS_NONE, "Not assessed")]
KIND_ANY = "any"
KIND_CHOICES = [*Recommendation.Kind.choices, (KIND_ANY, "Recommendations and pledges")]
RESPONSE_CHOICES = [
    (Recommendation.Response.ACCEPTED, "Accepted"),
    (Recommendation.Response.NOTED, "Noted"),
    (Recommendation.Response.PENDING, "Pending"),
]
ACTION_CHOICES = [(str(value), label) for value, label in Recommendation.ActionCategory.choices]
SORT_RELEVANCE, SORT_DATE, SORT_OLDEST, SORT_STATE = "relevance", "date", "oldest", "state"
SORT_CHOICES = [
    (SORT_RELEVANCE, "Relevance"),
    (SORT_DATE, "Newest first"),
    (SORT_OLDEST, "Oldest first"),
    (SORT_STATE, "State under review, A–Z"),
]


class CodesField(forms.MultipleChoiceField):
    """Several codes, each normalised (case, spaces) before it is checked; the message names the bad value."""

    def __init__(self, *, normalise=str.strip, invalid="Unknown value '%(value)s'.", **kwargs):
        self.normalise = normalise
        kwargs.setdefault("error_messages", {})["invalid_choice"] = invalid
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, str):  # a plain dict rather than a QueryDict: one value
            value = [value]
        values = [self.normalise(str(v)) for v in super().to_python(value)]
        values = [v for v in dict.fromkeys(values) if v]
        if len(values) > VALUES_MAX:
            raise forms.ValidationError(f"Choose at most {VALUES_MAX} values here ({len(values)} were given).")
        return values


class CodesFilter(django_filters.MultipleChoiceFilter):
    field_class = CodesField

    def __init__(self, *args, normalise=str.strip, invalid=None, **kwargs):
        kwargs["normalise"] = normalise
        if invalid:
            kwargs["invalid"] = invalid
        super().__init__(*args, **kwargs)


def _upper(value: str) -> str:
    return value.strip().upper()


def _lower(value: str) -> str:
    return value.strip().lower()


class RecommendationFilterForm(forms.Form):
    label_suffix = ""

    def clean_q(self):
        text = " ".join(self.cleaned_data.get("q", "").split())
        return text if any(c.isalnum() for c in text) else ""  # lone signs or quotes: no search at all


_LINK_STATES = Recommendation.recommending_states.through
_LINK_ISSUES = Recommendation.issues.through


def _sessions_id_ranges(numbers: list[int] | None = None) -> dict[int, tuple[int, int]]:
    """The lowest and highest recommendation id of each of these sessions (None: of every session), those without
    any left out: two steps down the session index per session."""
    table = Recommendation._meta.db_table
    if numbers is None:
        named, params = f"(SELECT number FROM {Session._meta.db_table})", []  # noqa: S608 (a model's table)
    else:
        named, params = "unnest(%s::int[])", [numbers]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT s.n, b.first, b.last FROM {named} s(n) CROSS JOIN LATERAL (SELECT
                    (SELECT id FROM {table} WHERE session_number = s.n ORDER BY id LIMIT 1) AS first,
                    (SELECT id FROM {table} WHERE session_number = s.n ORDER BY id DESC LIMIT 1) AS last) b
                WHERE b.first IS NOT NULL""",  # noqa: S608 (table names from the models)
            params,
        )
        return {number: (first, last) for number, first, last in cursor.fetchall()}


def _outer(spans) -> tuple[int, int]:
    """The smallest range holding all these (first, last) ranges."""
    return min(first for first, _ in spans), max(last for _, last in spans)


def _pure_ranges(chosen: list[tuple[int, int]], others: list[tuple[int, int]]) -> list[tuple[int, int]] | None:
    """The id ranges holding exactly the chosen sessions' recommendations: their own ranges, neighbours merged, when
    no other session's range meets any of them (an import writes a session's rows together, so that is the rule);
    None when another session's rows may lie among theirs."""
    if any(first <= other_last and other_first <= last for first, last in chosen for other_first, other_last in others):
        return None
    merged: list[tuple[int, int]] = []
    for first, last in sorted(chosen):
        if merged and not any(merged[-1][1] < other_first < first for other_first, _ in others):
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def sessions_filter(queryset: QuerySet, sessions: list[int], *, prefix: str = "") -> QuerySet:
    """Recommendations (or, with prefix "recommendation__", rows of theirs) of these sessions.

    On PostgreSQL, recommendations get the ids' range of those sessions beside the filter, as constants the planner
    sees: always true, it lets a list in id order start where those sessions' recommendations start instead of
    walking every older one. Rows of recommendations (assessments) are filtered by the ranges of recommendation ids
    that hold exactly those sessions (every session's range is read: _pure_ranges), without a join: a join to the
    recommendations misleads the planner, which cannot know that the session and the ids go together. Where another
    session's rows lie among theirs, they join, with the range beside it."""
    if connection.vendor != "postgresql" or not sessions:
        return queryset.filter(**{f"{prefix}session_number__in": sessions})
    if not prefix:
        queryset = queryset.filter(session_number__in=sessions)
        found = _sessions_id_ranges(sessions)
        if not found:
            return queryset
        first, last = _outer(found.values())
        return queryset.filter(id__gte=first, id__lte=last)
    ranges = _sessions_id_ranges()
    chosen = [ranges[number] for number in set(sessions) if number in ranges]
    if not chosen:
        return queryset.none()
    column = f"{prefix.removesuffix('__')}_id"
    pure = _pure_ranges(chosen, [span for number, span in ranges.items() if number not in sessions])
    if pure is None:
        first, last = _outer(chosen)
        bounds = {f"{column}__gte": first, f"{column}__lte": last}
        return queryset.filter(**{f"{prefix}session_number__in": sessions}, **bounds)
    condition = Q()
    for first, last in pure:
        condition |= Q(**{f"{column}__gte": first, f"{column}__lte": last})
    return queryset.filter(condition)


class RecommendationFilterSet(django_filters.FilterSet):
    """Text (`q`), state under review (`sur`) and its regional group (`sur_region`), recommending state (`from`),
    its group (`from_region`) and organisations (`org`), `session`, `cycle`, `response`, action category
    (`action`), `issue`, `kind`, implementation status at mid-term (`status`), and the order (`sort`).

    Without `kind` only recommendations are listed: voluntary pledges are shown only when asked for.
    """

    q = django_filters.CharFilter(
        method="filter_text",
        label="Search the text",
        max_length=QUERY_MAX_LENGTH,
        help_text='Words, "a phrase", -word to leave out.',
        error_messages={
            "max_length": "A search may hold at most %(limit_value)d characters (this one has %(show_value)d)."
        },
    )
    sur = CodesFilter(method="filter_sur", label="State under review", normalise=_upper, invalid=(
        "No state with code '%(value)s'."))  # fmt: skip
    sur_region = CodesFilter(method="filter_sur_region", label="Regional group (state under review)",
                             normalise=_upper, invalid="No regional group '%(value)s'.")  # fmt: skip
    # "from" is a Python keyword, so this filter is declared through the class namespace.
    locals()["from"] = CodesFilter(method="filter_from", label="Recommending state", normalise=_upper,
                                   invalid="No state with code '%(value)s'.")  # fmt: skip
    from_region = CodesFilter(method="filter_from_region", label="Regional group (recommending state)",
                              normalise=_upper, invalid="No regional group '%(value)s'.")  # fmt: skip
    org = CodesFilter(method="filter_org", label="Organisation (recommending state)", normalise=_upper,
                      invalid="No organisation '%(value)s'.")  # fmt: skip
    session = CodesFilter(method="filter_session", label="Session", invalid="No session number '%(value)s'.")
    cycle = CodesFilter(method="filter_cycle", label="Cycle", invalid="No cycle '%(value)s'.")
    response = CodesFilter(method="filter_response", label="Response", choices=RESPONSE_CHOICES, normalise=_lower,
                           invalid="No response '%(value)s': use accepted, noted or pending.")  # fmt: skip
    action = CodesFilter(method="filter_action", label="Action category", choices=ACTION_CHOICES,
                         invalid="No action category '%(value)s': use 1 to 5.")  # fmt: skip
    issue = CodesFilter(method="filter_issue", label="Issue", normalise=_lower, invalid="No issue '%(value)s'.")
    kind = django_filters.ChoiceFilter(method="filter_kind", choices=KIND_CHOICES, label="Kind",
                                       empty_label="Recommendations")  # fmt: skip
    status = CodesFilter(method="filter_status", label="Implementation at mid-term", choices=STATUS_CHOICES,
                         normalise=_lower, invalid="No implementation status '%(value)s'.")  # fmt: skip
    sort = django_filters.ChoiceFilter(method="filter_sort", choices=SORT_CHOICES, label="Sort by")

    # Facet name -> the filters it shows (a facet's counts leave out that facet's own filter: see facets.py).
    FACETS: ClassVar[tuple[str, ...]] = (
        "sur", "sur_region", "from", "from_region", "org", "session", "cycle", "response", "action", "issue",
        "status",
    )  # fmt: skip

    class Meta:
        model = Recommendation
        fields: ClassVar[list[str]] = []
        form = RecommendationFilterForm

    def __init__(self, data=None, *args, reference: Reference | None = None, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.reference = reference or reference_load()
        ref = self.reference
        # Functions (which deepcopy() passes as they are, unlike bound methods): read when a value is checked, so
        # that the form's fields do not copy some 200 states twice on every request.
        choices = {
            "sur": lambda: ref.state_choices(),
            "from": lambda: ref.state_choices(),
            "sur_region": lambda: ref.region_choices(),
            "from_region": lambda: ref.region_choices(),
            "org": lambda: ref.organisation_choices(),
            "session": lambda: ref.session_choices(),
            "cycle": lambda: ref.cycle_choices(),
            "issue": lambda: ref.issue_choices(),
        }
        for name, values in choices.items():
            self.filters[name].extra["choices"] = values

    # --- What was asked ------------------------------------------------------------------------------------------

    @property
    def text(self) -> str:
        return self.form.cleaned_data.get("q", "") if self.is_valid() else ""

    @property
    def order(self) -> str:
        """The order in force: what was asked, else relevance for a text search and newest first otherwise."""
        asked = self.form.cleaned_data.get("sort") if self.is_valid() else ""
        if asked == SORT_RELEVANCE and not self.text:
            asked = ""
        return asked or (SORT_RELEVANCE if self.text else SORT_DATE)

    def base_queryset(self) -> QuerySet[Recommendation]:
        """The recommendations matching the text and kind alone, before any facet (valid FilterSets only)."""
        queryset = self.filter_text(self.queryset, "q", self.text)
        return self.filter_kind(
            queryset, "kind", self.form.cleaned_data.get("kind") or Recommendation.Kind.RECOMMENDATION
        )

    def without(self, name: str) -> "RecommendationFilterSet":
        """The same search without one filter (for that filter's own facet counts)."""
        data = self.data.copy()
        data.pop(name, None)
        return type(self)(data, queryset=self.queryset, reference=self.reference)

    # --- Filtering -----------------------------------------------------------------------------------------------

    @property
    def qs(self) -> QuerySet[Recommendation]:
        if self.is_bound and not self.is_valid():
            return self.queryset.none()
        return super().qs

    def filter_queryset(self, queryset: QuerySet[Recommendation]) -> QuerySet[Recommendation]:
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("kind"):
            queryset = queryset.filter(kind=Recommendation.Kind.RECOMMENDATION)
        return self._ordered(queryset)

    def _ordered(self, queryset: QuerySet[Recommendation]) -> QuerySet[Recommendation]:
        sort = self.order
        if sort == SORT_RELEVANCE:
            return search.text_rank_order(queryset, self.text)
        # Newest session first, in the report's order within it; oldest first is exactly the reverse (one index).
        newest = ("-session_number", "id")
        if sort == SORT_OLDEST:
            return queryset.order_by("session_number", "-id")
        if sort == SORT_STATE:
            return queryset.order_by("review__state__short_name", *newest)
        return queryset.order_by(*newest)

    def _ids(self, kind: str, values: list[str]) -> list[int]:
        return self.reference.ids(kind, values)

    def filter_text(self, queryset, name, value):
        return search.text_filter(queryset, value) if value else queryset

    def filter_sur(self, queryset, name, value: list[str]):  # the hint types the OpenAPI parameter
        return queryset.filter(review__state_id__in=self._ids("state", value))

    def filter_sur_region(self, queryset, name, value: list[str]):  # the hint types the OpenAPI parameter
        return queryset.filter(review__state__regional_group_id__in=self._ids("region", value))

    def filter_from(self, queryset, name, value: list[str]):  # the hint types the OpenAPI parameter
        links = _LINK_STATES.objects.filter(recommendation_id=OuterRef("pk"), state_id__in=self._ids("state", value))
        return queryset.filter(Exists(links))

    def filter_from_region(self, queryset, name, value: list[str]):  # the hint types the OpenAPI parameter
        states = self.reference.states_in_regions(self._ids("region", value))
        links = _LINK_STATES.objects.filter(recommendation_id=OuterRef("pk"), state_id__in=states)
        return queryset.filter(Exists(links))

    def filter_org(self, queryset, name, value: list[str]):  # the hint types the OpenAPI parameter
        states = self.reference.states_in_organisations(self._ids("organisation", value))
        links = _LINK_STATES.objects.filter(recommendation_id=OuterRef("pk"), state_id__in=states)
        return queryset.filter(Exists(links))

    def filter_session(self, queryset, name, value: list[str]):  # the hint types the OpenAPI parameter
        return sessions_filter(queryset, [int(v) for v in value])

    def filter_cycle(self, queryset, name, value: list[str]):  # the hint types the OpenAPI parameter
        return sessions_filter(queryset, self.reference.sessions_in_cycles([int(v) for v in value]))

    def filter_response(self, queryset, name, value):
        return queryset.filter(response__in=value)

    def filter_action(self, queryset, name, value):
        return queryset.filter(action_category__in=[int(v) for v in value])

    def filter_issue(self, queryset, name, value: list[str]):  # the hint types the OpenAPI parameter
        links = _LINK_ISSUES.objects.filter(recommendation_id=OuterRef("pk"), issue_id__in=self._ids("issue", value))
        return queryset.filter(Exists(links))

    def filter_status(self, queryset, name, value):
        return queryset.filter(implementation_status__in=["" if v == STATUS_NONE else v for v in value])

    def filter_kind(self, queryset, name, value):
        return queryset if value == KIND_ANY else queryset.filter(kind=value)

    def filter_sort(self, queryset, name, value):
        return queryset  # applied last, in _ordered
