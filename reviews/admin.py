"""Admin for states, their groups, the UPR calendar and reviews."""

from django.contrib import admin
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import format_html

from recommendations.models import Recommendation
from reviews.models import Cycle, IntergovernmentalOrganisation, RegionalGroup, Review, Session, State, StateAlias
from uprtrax.admin_changes import DataChangedAdmin
from uprtrax.admin_paginator import LargeTableAdminMixin

admin.site.site_header = "uprtrax administration"
admin.site.site_title = "uprtrax administration"


@admin.register(RegionalGroup)
class RegionalGroupAdmin(DataChangedAdmin, admin.ModelAdmin):
    list_display = ("name", "code", "state_count")
    search_fields = ("name", "code")
    ordering = ("name",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(state_count=Count("states"))

    @admin.display(description="states", ordering="state_count")
    def state_count(self, obj):
        return obj.state_count


@admin.register(IntergovernmentalOrganisation)
class IntergovernmentalOrganisationAdmin(DataChangedAdmin, admin.ModelAdmin):
    list_display = ("acronym", "name", "state_count")
    search_fields = ("acronym", "name")
    ordering = ("acronym",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(state_count=Count("states"))

    @admin.display(description="member states", ordering="state_count")
    def state_count(self, obj):
        return obj.state_count


class StateAliasInline(admin.TabularInline):
    model = StateAlias
    fields = ("name", "normalised")
    readonly_fields = ("normalised",)
    extra = 1


@admin.register(State)
class StateAdmin(DataChangedAdmin, admin.ModelAdmin):
    list_display = ("short_name", "iso3", "name", "regional_group", "status")
    list_filter = ("regional_group", "status", "organisations")
    list_select_related = ("regional_group",)
    search_fields = ("short_name", "name", "=iso3", "aliases__name")
    search_help_text = "Name, official name, ISO3 code or another name of the state."
    ordering = ("short_name",)
    filter_horizontal = ("organisations",)
    inlines = (StateAliasInline,)


@admin.register(StateAlias)
class StateAliasAdmin(admin.ModelAdmin):
    list_display = ("name", "state", "normalised")
    list_select_related = ("state",)
    list_filter = ("state__regional_group",)
    search_fields = ("name", "normalised", "state__short_name", "=state__iso3")
    ordering = ("normalised",)
    readonly_fields = ("normalised",)
    autocomplete_fields = ("state",)


@admin.register(Cycle)
class CycleAdmin(DataChangedAdmin, admin.ModelAdmin):
    list_display = ("__str__", "start_date", "end_date", "session_count")
    search_fields = ("number__exact",)
    ordering = ("number",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(session_count=Count("sessions"))

    @admin.display(description="sessions", ordering="session_count")
    def session_count(self, obj):
        return obj.session_count


@admin.register(Session)
class SessionAdmin(DataChangedAdmin, admin.ModelAdmin):
    list_display = ("__str__", "cycle", "year", "start_date", "end_date", "review_count")
    list_filter = ("cycle", "year")
    list_select_related = ("cycle",)
    search_fields = ("number__exact", "year__exact")
    search_help_text = "Session number or year."
    ordering = ("-number",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(review_count=Count("reviews"))

    @admin.display(description="reviews", ordering="review_count")
    def review_count(self, obj):
        return obj.review_count


@admin.register(Review)
class ReviewAdmin(DataChangedAdmin, LargeTableAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "report_symbol", "adoption_date", "recommendation_count")
    list_filter = ("session__cycle", "session", "state__regional_group")
    list_select_related = ("state", "session")
    search_fields = ("state__short_name", "=state__iso3", "report_symbol", "session__number__exact")
    search_help_text = "State, ISO3 code, report symbol or session number."
    # Newest first, on the primary key's index.
    ordering = ("-id",)
    sortable_by = ("report_symbol", "adoption_date")
    autocomplete_fields = ("state", "session")

    def get_queryset(self, request):
        # A subquery, not a join: counted for the rows of the page only, on the review_id index.
        recommendations = (
            Recommendation.objects.filter(review=OuterRef("pk"))
            .order_by()
            .values("review")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return super().get_queryset(request).annotate(recommendation_count=Coalesce(Subquery(recommendations), 0))

    @admin.display(description="recommendations")
    def recommendation_count(self, obj):
        url = reverse("admin:recommendations_recommendation_changelist")
        return format_html('<a href="{}?review__id__exact={}">{}</a>', url, obj.pk, obj.recommendation_count)
