"""Admin for users, organisations, memberships and assessments; the assessment list is built for millions of rows."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from followup.models import (
    ApiToken,
    Assessment,
    DataDump,
    Invitation,
    Membership,
    Organisation,
    StatisticsRecompute,
    StatisticsSnapshot,
    User,
)
from followup.status import implementation_status_refresh
from uprtrax.admin_changes import DataChangedAdmin
from uprtrax.admin_paginator import LargeTableAdminMixin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Listed and shown, never added or changed here: their own pages and services write them."""

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


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
class OrganisationAdmin(DataChangedAdmin, admin.ModelAdmin):
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
class AssessmentAdmin(LargeTableAdminMixin, SimpleHistoryAdmin):
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
    readonly_fields = ("version", "created_at", "updated_at", "last_editor", "deleted_at", "deleted_by", "hidden_at",
                       "hidden_by", "hidden_reason")  # fmt: skip
    fieldsets = (
        (None, {"fields": ("recommendation", "organisation", "author", "phase")}),
        ("Assessment", {"fields": ("status", "comment", "evidence_urls", "assessed_on", "visibility")}),
        ("Record", {"fields": ("version", "created_at", "updated_at", "last_editor")}),
        ("Moderation", {"fields": ("deleted_at", "deleted_by", "hidden_at", "hidden_by", "hidden_reason")}),
    )

    def get_search_results(self, request, queryset, search_term):
        # A number alone is an id: found on the indexes, without reading every comment.
        if search_term.strip().isdecimal():
            number = int(search_term)
            return queryset.filter(Q(pk=number) | Q(recommendation_id=number)), False
        return super().get_search_results(request, queryset, search_term)

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            if change:
                # An edit here is a new version too: a form still based on the old one must be refused.
                obj.version = (
                    Assessment.objects.select_for_update().values_list("version", flat=True).get(pk=obj.pk) + 1
                )
            obj.last_editor = request.user
            super().save_model(request, obj, form, change)  # SimpleHistoryAdmin: the history names request.user
            implementation_status_refresh([obj.recommendation_id])


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ("email", "organisation", "role", "invited_by", "created_at", "expires_at", "accepted_at",
                    "revoked_at")  # fmt: skip
    list_select_related = ("organisation", "invited_by")
    search_fields = ("email", "organisation__name")
    exclude = ("token_hash",)

    def get_readonly_fields(self, request, obj=None):
        return [f for f in super().get_readonly_fields(request, obj) if f != "token_hash"]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ("name", "prefix", "user", "scope", "created_at", "last_used_at", "revoked_at")
    list_select_related = ("user",)
    search_fields = ("name", "prefix", "user__username")
    exclude = ("key_hash",)

    def get_readonly_fields(self, request, obj=None):
        return [f for f in super().get_readonly_fields(request, obj) if f != "key_hash"]


@admin.register(StatisticsSnapshot)
class StatisticsSnapshotAdmin(ReadOnlyAdmin):
    """What the statistics pages and the API read; the recompute job writes them (followup/snapshots.py), or
    `manage.py compute_statistics`."""

    list_display = ("phase", "rule", "cycle", "include_pledges", "recommendations", "assessments", "computed_at",
                    "duration_seconds")  # fmt: skip
    list_filter = ("phase", "rule", "cycle", "include_pledges")
    ordering = ("phase", "rule", "include_pledges", "cycle")


@admin.register(DataDump)
class DataDumpAdmin(ReadOnlyAdmin):
    """The public data dump's builds: the Celery job writes them (followup/dumps), or `manage.py build_dumps`. The
    newest succeeded one is served at /dumps/; its manifest is shown in full on its page. The Background jobs page
    (/admin/jobs/) shows them beside the other jobs."""

    list_display = ("started_at", "status", "trigger", "user", "finished_at", "data_as_of", "size",
                    "duration_seconds", "error_short")  # fmt: skip
    list_filter = ("status", "trigger")
    list_select_related = ("user",)
    ordering = ("-started_at", "-id")

    @admin.display(description="error")
    def error_short(self, dump):
        return dump.error[:120]


@admin.register(StatisticsRecompute)
class StatisticsRecomputeAdmin(ReadOnlyAdmin):
    """The statistics' recomputes (followup/jobs.py): queued by changes, nightly or by hand; a running one's worker
    stamps its heartbeat, and one whose worker stopped is marked failed by the reaper. The Background jobs page
    (/admin/jobs/) shows them beside the other jobs and queues one by hand."""

    list_display = ("queued_at", "status", "trigger", "user", "sent_at", "started_at", "finished_at", "duration",
                    "snapshots", "error_short")  # fmt: skip
    list_filter = ("status", "trigger")
    list_select_related = ("user",)
    ordering = ("-queued_at", "-id")

    @admin.display(description="error")
    def error_short(self, run):
        return run.error[:120]


@admin.register(Assessment.history.model)
class AssessmentHistoryAdmin(LargeTableAdminMixin, ReadOnlyAdmin):
    list_display = ("history_date", "history_type", "history_user", "history_change_reason", "id", "status",
                    "visibility", "version")  # fmt: skip
    list_select_related = ("history_user",)
    list_filter = ("history_type",)
    ordering = ("-history_id",)
    sortable_by = ()
