"""Admin for users, organisations, memberships and assessments; the assessment list is built for millions of rows."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils.html import format_html

from followup.models import Assessment, Membership, Organisation, User
from uprtrax.admin_paginator import LargeTableAdminMixin


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ("user", "organisation", "role", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("user", "organisation")
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = (*BaseUserAdmin.list_display, "is_moderator")
    list_filter = ("is_staff", "is_moderator", "is_superuser", "is_active", "groups")
    fieldsets = (
        *BaseUserAdmin.fieldsets[:2],
        (
            BaseUserAdmin.fieldsets[2][0],
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_moderator",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                ),
            },
        ),
        *BaseUserAdmin.fieldsets[3:],
    )
    inlines = (MembershipInline,)


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "country", "member_count", "assessments_link")
    list_filter = ("kind", "country__regional_group")
    list_select_related = ("country",)
    search_fields = ("name", "slug")
    ordering = ("name",)
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("country",)
    readonly_fields = ("created_at",)
    inlines = (MembershipInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("memberships"))

    @admin.display(description="members", ordering="member_count")
    def member_count(self, obj):
        return obj.member_count

    # A link, not a count: an organisation may have made thousands of assessments.
    @admin.display(description="assessments")
    def assessments_link(self, obj):
        url = reverse("admin:followup_assessment_changelist")
        return format_html('<a href="{}?organisation__id__exact={}">list</a>', url, obj.pk)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organisation", "role", "created_at")
    list_filter = ("role", "organisation__kind")
    list_select_related = ("user", "organisation")
    search_fields = ("user__username", "user__email", "organisation__name")
    ordering = ("-id",)
    sortable_by = ("role", "created_at")
    autocomplete_fields = ("user", "organisation")
    readonly_fields = ("created_at",)


@admin.register(Assessment)
class AssessmentAdmin(LargeTableAdminMixin, admin.ModelAdmin):
    list_display = ("id", "recommendation", "organisation", "phase", "status", "visibility", "assessed_on", "version")
    list_select_related = ("recommendation__review__state", "recommendation__review__session", "organisation")
    # Small tables only: a filter lists every value of its field.
    list_filter = (
        "phase",
        "status",
        "visibility",
        "organisation__kind",
        "recommendation__response",
    )
    # No filter by cycle: newest-first assessments are the latest cycle's, so an older cycle's first page would walk
    # millions of rows backwards through four joins (10 s at 3M rows). Filter recommendations by cycle instead.
    # The comment is searched by a sequential scan (about 10 s at 3M rows), only when a search is typed.
    search_fields = ("organisation__name", "comment")
    search_help_text = (
        "A number alone finds that assessment id or recommendation id. Otherwise organisation or words of the "
        "comment: this reads every assessment, allow several seconds."
    )
    # Newest first, on the primary key's index; other columns would sort the whole table.
    ordering = ("-id",)
    sortable_by = ("id",)
    raw_id_fields = ("recommendation",)
    autocomplete_fields = ("organisation", "author")
    readonly_fields = ("version", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("recommendation", "organisation", "author", "phase")}),
        ("Assessment", {"fields": ("status", "comment", "evidence_url", "assessed_on", "visibility")}),
        ("Record", {"fields": ("version", "created_at", "updated_at")}),
    )

    def get_search_results(self, request, queryset, search_term):
        # A number alone is an id: found on the indexes, without reading every comment.
        if search_term.strip().isdecimal():
            number = int(search_term)
            return queryset.filter(Q(pk=number) | Q(recommendation_id=number)), False
        return super().get_search_results(request, queryset, search_term)

    def save_model(self, request, obj, form, change):
        if change:
            # An edit here is a new version too: a form still based on the old one must be refused.
            obj.version = F("version") + 1
        super().save_model(request, obj, form, change)
        if change:
            obj.refresh_from_db(fields=["version"])
