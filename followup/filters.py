"""The one FilterSet for assessments: the API's list (/api/v1/assessments/), and any page or export that lists them.

Every filter but the dates and `mine` takes several values by repeating its parameter (`?status=not_implemented&
status=partially_implemented`): values of one filter are alternatives (OR), filters combine (AND). An unknown value
is an error naming it (400 in the API), never the unfiltered list.
"""

import datetime
from typing import ClassVar

import django_filters
from django import forms
from django.db import connection
from django.db.models import QuerySet

from followup import permissions
from followup.forms import IsoDateField
from followup.models import Assessment, Organisation
from recommendations.facets import Reference, reference_load
from recommendations.filters import VALUES_MAX, CodesFilter, sessions_filter


def _upper(value: str) -> str:
    return value.strip().upper()


def _lower(value: str) -> str:
    return value.strip().lower()


class IdsField(forms.Field):
    """Several whole numbers (repeated parameter); the message names the value that is not one."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        if value in (None, "", []):
            return []
        values = [value] if isinstance(value, str | int) else list(value)
        ids = []
        for raw in values:
            text = str(raw).strip()
            if not text.isdigit() or len(text) > 12:
                raise forms.ValidationError(f"“{text[:40]}” is not an id: give a whole number.", code="invalid")
            ids.append(int(text))
        if len(ids) > VALUES_MAX:
            raise forms.ValidationError(f"Give at most {VALUES_MAX} values here ({len(ids)} were given).")
        return list(dict.fromkeys(ids))


class ValuesFilter(CodesFilter):
    """CodesFilter without DISTINCT: an assessment's filters follow single-valued relations, never multiplying rows."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("distinct", False)
        super().__init__(*args, **kwargs)


class IdsFilter(django_filters.Filter):
    field_class = IdsField

    def filter(self, qs, value):
        return qs.filter(**{f"{self.field_name}__in": value}) if value else qs


class IsoDateFilter(django_filters.DateFilter):
    field_class = IsoDateField


class FlagField(forms.Field):
    """1, true or yes; 0, false, no or nothing. Anything else is an error naming it."""

    def to_python(self, value):
        text = str(value if value is not None else "").strip().lower()
        if text in ("", "0", "false", "no", "off"):
            return False
        if text in ("1", "true", "yes", "on"):
            return True
        raise forms.ValidationError(f"“{text[:20]}” is not a yes or no: give 1 or 0.", code="invalid")


class FlagFilter(django_filters.Filter):
    field_class = FlagField


DATES_BOUNDED_DAYS = 4000  # a range of dates over more days than this is not bounded (its rows start early anyway)


# The bound a list's order starts from, for a range of dates: the column and whether the order descends.
_DATES_BOUND = {
    "recommendation": ("recommendation_id", False),
    "-recommendation": ("recommendation_id", True),
    "id": ("id", False),
    "-id": ("id", True),
}


def _dates_bound(after: datetime.date | None, before: datetime.date | None, column: str, descending: bool):
    """The lowest (or, `descending`, the highest) `column` (recommendation_id or id) among the assessments made in
    this range of dates: one step down assessment_date_rec_idx or assessment_date_id_idx per day. False when no
    assessment lies in the range; None when the range covers more than DATES_BOUNDED_DAYS days of assessments."""
    table = Assessment._meta.db_table
    if column not in ("recommendation_id", "id"):
        raise ValueError(column)
    edge, way = ("MAX", "DESC") if descending else ("MIN", "ASC")
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH span AS (SELECT GREATEST(%s::date, MIN(assessed_on)) AS first,
                                     LEAST(%s::date, MAX(assessed_on)) AS last FROM {table})
                SELECT span.last - span.first, {edge}(b.edge)
                FROM span LEFT JOIN LATERAL generate_series(span.first, span.last, interval '1 day') d(day)
                    ON span.last - span.first <= %s
                LEFT JOIN LATERAL (SELECT {column} AS edge FROM {table} WHERE assessed_on = d.day::date
                                   ORDER BY {column} {way} LIMIT 1) b ON true
                GROUP BY 1""",  # noqa: S608 (table name from the model, column and order from the code)
            [after, before, DATES_BOUNDED_DAYS],
        )
        days, bound = cursor.fetchone()
    if days is None or days < 0 or (days <= DATES_BOUNDED_DAYS and bound is None):
        return False
    return bound


class AssessmentFilterSet(django_filters.FilterSet):
    """`recommendation` (id), `organisation` (slug), `organisation_kind`, `status`, `phase`, `visibility`, `sur`
    (ISO3 of the state under review), `session` and `cycle` (numbers), `assessed_after` and `assessed_before`
    (dates, YYYY-MM-DD, both included), `mine=1` (the requester's organisations only)."""

    recommendation = IdsFilter(field_name="recommendation_id", label="Recommendation (id)")
    organisation = ValuesFilter(method="filter_organisation", label="Organisation (slug)", normalise=_lower,
                               invalid="No organisation '%(value)s'.")  # fmt: skip
    organisation_kind = ValuesFilter(field_name="organisation__kind", label="Kind of organisation",
                                    choices=Organisation.Kind.choices, normalise=_lower,
                                    invalid="No kind of organisation '%(value)s'.")  # fmt: skip
    status = ValuesFilter(field_name="status", label="Status", choices=Assessment.Status.choices, normalise=_lower,
                         invalid="No status '%(value)s'.")  # fmt: skip
    phase = ValuesFilter(field_name="phase", label="Phase", choices=Assessment.Phase.choices, normalise=_lower,
                        invalid="No phase '%(value)s'.")  # fmt: skip
    visibility = ValuesFilter(field_name="visibility", label="Visibility", choices=Assessment.Visibility.choices,
                             normalise=_lower, invalid="No visibility '%(value)s'.")  # fmt: skip
    sur = ValuesFilter(method="filter_sur", label="State under review (ISO3)", normalise=_upper,
                      invalid="No state with code '%(value)s'.")  # fmt: skip
    session = ValuesFilter(method="filter_session", label="Session", invalid="No session number '%(value)s'.")
    cycle = ValuesFilter(method="filter_cycle", label="Cycle", invalid="No cycle '%(value)s'.")
    assessed_after = IsoDateFilter(field_name="assessed_on", lookup_expr="gte",
                                               label="Assessed on or after")  # fmt: skip
    assessed_before = IsoDateFilter(field_name="assessed_on", lookup_expr="lte",
                                                label="Assessed on or before")  # fmt: skip
    mine = FlagFilter(method="filter_mine", label="My organisations' only")

    # Filters whose values are named from the reference tables (loaded only when one of them is used).
    REFERENCE_FILTERS: ClassVar[dict[str, str]] = {"sur": "state", "session": "session", "cycle": "cycle"}

    class Meta:
        model = Assessment
        fields: ClassVar[list[str]] = []

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        self._reference: Reference | None = None
        self._organisation_slugs: list[tuple[str, str]] | None = None
        self._organisation_ids: dict[str, int] = {}
        # Read when a value is checked, so that a list without these filters reads no reference table.
        self.filters["sur"].extra["choices"] = lambda: self.reference.state_choices()
        self.filters["session"].extra["choices"] = lambda: self.reference.session_choices()
        self.filters["cycle"].extra["choices"] = lambda: self.reference.cycle_choices()
        self.filters["organisation"].extra["choices"] = lambda: self._organisation_choices()

    @property
    def reference(self) -> Reference:
        if self._reference is None:
            self._reference = reference_load()
        return self._reference

    def _organisation_choices(self):
        # Only the slugs asked for are looked up, once: an unknown one is then an invalid choice, named in the error.
        if self._organisation_slugs is not None:
            return self._organisation_slugs
        asked = self.data.getlist("organisation") if hasattr(self.data, "getlist") else self.data.get("organisation")
        asked = asked if isinstance(asked, list | tuple) else [asked] if asked else []
        slugs = {_lower(str(slug)) for slug in asked[: VALUES_MAX + 1]}
        found = Organisation.objects.filter(slug__in=slugs).order_by().values_list("slug", "id")
        self._organisation_ids = dict(found)
        self._organisation_slugs = [(slug, slug) for slug in self._organisation_ids]
        return self._organisation_slugs

    @property
    def qs(self) -> QuerySet[Assessment]:
        if self.is_bound and not self.is_valid():
            return self.queryset.none()
        return super().qs

    def filter_queryset(self, queryset: QuerySet[Assessment]) -> QuerySet[Assessment]:
        """The filters; with a range of dates on PostgreSQL, also where the assessments made then start in the
        list's order (`ordering`: the lowest or highest recommendation id, or assessment id), as a constant the
        planner sees (always true): the list starts there instead of walking every older row (dates follow the
        reviews, and ids the dates they were entered)."""
        queryset = super().filter_queryset(queryset)
        after, before = (self.form.cleaned_data.get(name) for name in ("assessed_after", "assessed_before"))
        if connection.vendor != "postgresql" or not (after or before):
            return queryset
        ordering = self.data.get("ordering", "") if hasattr(self.data, "get") else ""
        column, descending = _DATES_BOUND.get(str(ordering).strip() or "recommendation", _DATES_BOUND["recommendation"])
        bound = _dates_bound(after, before, column, descending)
        if bound is False:
            return queryset.none()
        if bound is None:
            return queryset
        return queryset.filter(**{f"{column}__{'lte' if descending else 'gte'}": bound})

    def filter_organisation(self, queryset, name, value):
        # By id, not through a join on the slug: the planner then knows how many rows each organisation has (a
        # small one is read through its index, not looked for along the list's order).
        if not value:
            return queryset
        self._organisation_choices()
        return queryset.filter(organisation_id__in=[self._organisation_ids[slug] for slug in value])

    def filter_sur(self, queryset, name, value: list[str]):  # the hint types the OpenAPI parameter
        if not value:
            return queryset
        return queryset.filter(recommendation__review__state_id__in=self.reference.ids("state", value))

    def filter_session(self, queryset, name, value: list[str]):  # the hint types the OpenAPI parameter
        return sessions_filter(queryset, [int(v) for v in value], prefix="recommendation__") if value else queryset

    def filter_cycle(self, queryset, name, value: list[str]):  # the hint types the OpenAPI parameter
        if not value:
            return queryset
        sessions = self.reference.sessions_in_cycles([int(v) for v in value])
        return sessions_filter(queryset, sessions, prefix="recommendation__")

    def filter_mine(self, queryset, name, value: bool):  # the hint types the OpenAPI parameter
        if not value:
            return queryset
        user = getattr(self.request, "user", None)
        mine = list(permissions.roles(user)) if user is not None else []
        return queryset.filter(organisation_id__in=mine)
