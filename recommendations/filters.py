"""The one FilterSet for recommendations: it serves the HTML list, the API and exports alike."""

import django_filters
from django import forms
from django.db.models import QuerySet
from django_filters.fields import ModelChoiceField

from recommendations.models import Issue, Recommendation
from reviews.models import Session, State


class StateCodeField(ModelChoiceField):
    """A state given by its ISO 3166-1 alpha-3 code, in any case; listed by short name in the form."""

    default_error_messages = {"invalid_choice": "No state with code '%(value)s'."}

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().upper()
        return super().to_python(value)

    def label_from_instance(self, obj: State) -> str:
        return obj.short_name


class SessionNumberField(ModelChoiceField):
    default_error_messages = {"invalid_choice": "No session number '%(value)s'."}

    def label_from_instance(self, obj: Session) -> str:
        return f"Session {obj.number} ({obj.year})"


class IssueSlugField(ModelChoiceField):
    default_error_messages = {"invalid_choice": "No issue '%(value)s'."}


class RecommendationFilterForm(forms.Form):
    label_suffix = ""


class StateCodeFilter(django_filters.ModelChoiceFilter):
    field_class = StateCodeField


class SessionNumberFilter(django_filters.ModelChoiceFilter):
    field_class = SessionNumberField


class IssueSlugFilter(django_filters.ModelChoiceFilter):
    field_class = IssueSlugField


class RecommendationFilterSet(django_filters.FilterSet):
    """Filters by text, state under review (`sur`), recommending state (`from`), session, response, issue, kind.

    Without `kind` only recommendations are listed: voluntary pledges are not recommendations and are shown
    only when asked for. An invalid filter (an unknown state code, say) yields no results and a form error,
    never the unfiltered list.
    """

    KIND_ANY = "any"

    q = django_filters.CharFilter(method="filter_text", label="Text contains")
    sur = StateCodeFilter(
        field_name="review__state",
        to_field_name="iso3",
        queryset=State.objects.all(),
        label="State under review",
        empty_label="Any state",
    )
    # "from" is a Python keyword, so this filter is declared through the class namespace.
    locals()["from"] = StateCodeFilter(
        field_name="recommending_states",
        to_field_name="iso3",
        queryset=State.objects.all(),
        label="Recommending state",
        empty_label="Any state",
    )
    session = SessionNumberFilter(
        field_name="review__session",
        to_field_name="number",
        queryset=Session.objects.all(),
        label="Session",
        empty_label="Any session",
    )
    response = django_filters.ChoiceFilter(
        choices=[
            (Recommendation.Response.ACCEPTED, "Accepted"),
            (Recommendation.Response.NOTED, "Noted"),
            (Recommendation.Response.PENDING, "Pending"),
        ],
        label="Response",
        empty_label="Any response",
    )
    issue = IssueSlugFilter(
        field_name="issues", to_field_name="slug", queryset=Issue.objects.all(), label="Issue", empty_label="Any issue"
    )
    kind = django_filters.ChoiceFilter(
        method="filter_kind",
        choices=[
            (Recommendation.Kind.VOLUNTARY_PLEDGE, "Voluntary pledges"),
            (KIND_ANY, "Recommendations and pledges"),
        ],
        label="Kind",
        empty_label="Recommendations",
    )

    class Meta:
        model = Recommendation
        fields: list[str] = []
        form = RecommendationFilterForm

    @property
    def qs(self) -> QuerySet[Recommendation]:
        if self.is_bound and not self.is_valid():
            return self.queryset.none()
        return super().qs

    def filter_queryset(self, queryset: QuerySet[Recommendation]) -> QuerySet[Recommendation]:
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("kind"):
            queryset = queryset.filter(kind=Recommendation.Kind.RECOMMENDATION)
        return queryset

    def filter_text(self, queryset: QuerySet[Recommendation], name: str, value: str) -> QuerySet[Recommendation]:
        return queryset.filter(text__icontains=value.strip())

    def filter_kind(self, queryset: QuerySet[Recommendation], name: str, value: str) -> QuerySet[Recommendation]:
        if value == self.KIND_ANY:
            return queryset
        return queryset.filter(kind=value)
