"""Admin for issues and recommendations; the recommendation list is built for a million rows."""

from django.contrib import admin
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from followup.snapshots import statistics_changed
from recommendations.facets import search_data_changed
from recommendations.models import ImportMapping, ImportRun, Issue, Recommendation
from uprtrax.admin_changes import DataChangedAdmin
from uprtrax.admin_paginator import LargeTableAdminMixin


def _data_changed() -> None:
    transaction.on_commit(search_data_changed)
    transaction.on_commit(statistics_changed)


@admin.register(Issue)
class IssueAdmin(DataChangedAdmin, admin.ModelAdmin):
    list_display = ("name", "slug", "recommendations_link")
    search_fields = ("name", "slug")
    ordering = ("name",)
    prepopulated_fields = {"slug": ("name",)}

    # A link, not a count: counting 54 issues over millions of recommendation-issue rows costs more than it shows.
    @admin.display(description="recommendations")
    def recommendations_link(self, obj):
        url = reverse("admin:recommendations_recommendation_changelist")
        return format_html('<a href="{}?{}={}">list</a>', url, IssueListFilter.parameter_name, obj.pk)


class IssueListFilter(admin.SimpleListFilter):
    """By issue, with EXISTS rather than a join, so that the list needs no DISTINCT over a million rows."""

    title = "issue"
    parameter_name = "issue"

    def lookups(self, request, model_admin):
        return Issue.objects.values_list("pk", "name")

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return None
        if not value.isdecimal():
            return queryset.none()
        tagged = Recommendation.issues.through.objects.filter(recommendation_id=OuterRef("pk"), issue_id=int(value))
        return queryset.filter(Exists(tagged))


@admin.register(Recommendation)
class RecommendationAdmin(LargeTableAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "review",
        "paragraph_ref",
        "excerpt",
        "kind",
        "response",
        "action_category",
        "made_by",
        "assessments_link",
    )
    list_display_links = ("id", "paragraph_ref")
    list_select_related = ("review__state", "review__session")
    # Small tables only: a filter lists every value of its field.
    list_filter = (
        "kind",
        "response",
        "action_category",
        "review__session__cycle",
        "review__state__regional_group",
        IssueListFilter,
    )
    # Searching the text is a sequential scan of ILIKE '%…%' over every recommendation (about 5 s at 1M rows): it
    # runs only when a search is typed, never on opening the list. A trigram index would make it fast (later issue).
    search_fields = ("text", "paragraph_ref", "review__state__short_name", "review__report_symbol")
    search_help_text = (
        "A number alone finds that id. Otherwise words of the text, paragraph, state under review or report "
        "symbol: this reads every recommendation, allow a few seconds."
    )
    # Newest first, on the primary key's index; other columns would sort the whole table.
    ordering = ("-id",)
    sortable_by = ("id", "action_category")
    autocomplete_fields = ("review", "recommending_states", "issues")
    readonly_fields = ("created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("review", "kind", "paragraph_ref", "text", "recommending_states", "issues")}),
        ("Response", {"fields": ("response", "response_original", "action_category")}),
        ("Record", {"fields": ("created_at", "updated_at")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("recommending_states")

    # An edit here changes what the search and the statistics count: both are told once the change commits.
    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        _data_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        _data_changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        _data_changed()

    def get_search_results(self, request, queryset, search_term):
        # A number alone is an id: found on the primary key's index, without reading every text.
        if search_term.strip().isdecimal():
            return queryset.filter(pk=int(search_term)), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="text")
    def excerpt(self, obj):
        return Truncator(obj.text).chars(90)

    @admin.display(description="recommended by")
    def made_by(self, obj):
        return ", ".join(state.short_name for state in obj.recommending_states.all())

    # A link, not a count: no query per row.
    @admin.display(description="assessments")
    def assessments_link(self, obj):
        url = reverse("admin:followup_assessment_changelist")
        return format_html('<a href="{}?recommendation__id__exact={}">list</a>', url, obj.pk)


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    """Read-only: runs are written by the import service, never by hand."""

    list_display = ("started_at", "kind", "status", "dry_run", "file_name", "user", "duration")
    list_filter = ("kind", "status", "dry_run")
    search_fields = ("file_name", "sha256")
    date_hierarchy = "started_at"
    list_select_related = ("user",)
    # The stored upload is never served (no media URL): a link to it would lead nowhere.
    exclude = ("upload",)

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields if field.name != "upload"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ImportMapping)
class ImportMappingAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "created_by", "updated_at")
    list_filter = ("kind",)
    search_fields = ("name",)
    readonly_fields = ("created_by", "created_at", "updated_at")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
