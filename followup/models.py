"""Who follows up (users, organisations, memberships, invitations, API tokens), what they say (assessments, with
their history), and what is made of it for everyone (statistics snapshots, public data dumps)."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from simple_history.models import HistoricalRecords

from recommendations.models import Recommendation
from reviews.models import State


class User(AbstractUser):
    """A person with an account. Project-wide roles: staff (admin site) and moderators."""

    is_moderator = models.BooleanField(
        default=False, help_text="May hide and restore public assessments, never rewrite them."
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.UniqueConstraint(Lower("email"), condition=~Q(email=""), name="user_email_unique_ci"),
        ]


class Organisation(models.Model):
    """A stakeholder that assesses implementation: a CSO, an NHRI, a UN agency, a state, ..."""

    class Kind(models.TextChoices):
        STATE = "state", "State"
        CSO = "cso", "Civil society organisation"
        NHRI = "nhri", "National human rights institution"
        UN_AGENCY = "un_agency", "UN agency"
        ACADEMIC = "academic", "Academic"
        OTHER = "other", "Other"

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    kind = models.CharField(max_length=12, choices=Kind)
    country = models.ForeignKey(
        State, on_delete=models.PROTECT, null=True, blank=True, related_name="organisations_based_here"
    )
    website = models.URLField(blank=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="organisations")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            # A state speaking for itself must say which state it is.
            models.CheckConstraint(
                condition=~Q(kind="state") | Q(country__isnull=False), name="organisation_state_has_country"
            ),
        ]

    def __str__(self):
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", "Member"
        EDITOR = "editor", "Organisation editor"
        ADMIN = "admin", "Organisation admin"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation__name", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation"], name="membership_once_per_organisation"),
        ]

    def __str__(self):
        return f"{self.user} in {self.organisation} ({self.get_role_display()})"


class AssessmentQuerySet(models.QuerySet):
    def alive(self):
        """Not deleted (a deleted assessment waits for a moderator, who may restore it)."""
        return self.filter(deleted_at__isnull=True)

    def public(self):
        """What the public sees and what the figures count: public, neither deleted nor hidden by a moderator."""
        return self.filter(visibility=Assessment.Visibility.PUBLIC, deleted_at__isnull=True, hidden_at__isnull=True)


# The SQL of AssessmentQuerySet.public(), for the statements written by hand (consolidated status, statistics).
PUBLIC_SQL = "visibility = 'public' AND deleted_at IS NULL AND hidden_at IS NULL"


class Assessment(models.Model):
    """One organisation's statement on how far one recommendation was implemented, at one phase.

    Every change is kept (`history`, django-simple-history: who, when, the whole record before and after). Deleting
    sets `deleted_at` (a moderator can restore it); a moderator hides a public assessment with a reason, never
    changes its words.
    """

    class Phase(models.TextChoices):
        MID_TERM = "mid_term", "Mid-term"
        NEXT_REVIEW = "next_review", "Next review"

    class Status(models.TextChoices):
        # Declared from lowest to highest: consolidation rules ("ties go to the lower status") rely on it.
        NOT_IMPLEMENTED = "not_implemented", "Not implemented"
        PARTIALLY_IMPLEMENTED = "partially_implemented", "Partially implemented"
        FULLY_IMPLEMENTED = "fully_implemented", "Fully implemented"
        NO_INFORMATION = "no_information", "No information"

    class Visibility(models.TextChoices):
        DRAFT = "draft", "Draft (only its author)"
        ORGANISATION = "organisation", "Visible to the organisation"
        PUBLIC = "public", "Public"

    recommendation = models.ForeignKey(Recommendation, on_delete=models.CASCADE, related_name="assessments")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="assessments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="assessments"
    )
    last_editor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    phase = models.CharField(max_length=12, choices=Phase, default=Phase.MID_TERM)
    status = models.CharField(max_length=22, choices=Status)
    comment = models.TextField(blank=True)
    evidence_urls = models.JSONField(
        "sources or evidence", default=list, blank=True, help_text="Web addresses (http or https), one per line."
    )
    assessed_on = models.DateField("date of the assessment")
    visibility = models.CharField(max_length=12, choices=Visibility, default=Visibility.DRAFT)
    # Optimistic locking: a save must name the version it was based on; a stale one is refused.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    hidden_reason = models.TextField(blank=True)

    objects = AssessmentQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["recommendation_id", "organisation_id", "phase"]
        constraints = [
            models.UniqueConstraint(
                fields=["recommendation", "organisation", "phase"], name="assessment_one_per_org_and_phase"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="assessment_version_positive"),
            models.CheckConstraint(
                condition=Q(hidden_at__isnull=True) | ~Q(hidden_reason=""), name="assessment_hidden_has_reason"
            ),
        ]
        indexes = [
            # Consolidated status per recommendation and phase (statistics), public ones first.
            models.Index(fields=["phase", "recommendation", "status"], name="assessment_phase_rec_idx"),
            # Assessments of a range of dates: the first and last recommendation (and assessment) of each day, so
            # that a list in either order starts where that range's rows start (followup.filters).
            models.Index(fields=["assessed_on", "recommendation"], name="assessment_date_rec_idx"),
            models.Index(fields=["assessed_on", "id"], name="assessment_date_id_idx"),
            # An organisation's own work list ("my organisation's assessments").
            models.Index(fields=["organisation", "phase", "-assessed_on"], name="assessment_org_phase_idx"),
            # The moderation queue: the few hidden and deleted ones among millions.
            models.Index(fields=["hidden_at"], condition=Q(hidden_at__isnull=False), name="assessment_hidden_idx"),
            models.Index(fields=["deleted_at"], condition=Q(deleted_at__isnull=False), name="assessment_deleted_idx"),
        ]

    def __str__(self):
        return f"{self.organisation} on {self.recommendation_id}: {self.get_status_display()}"


class Invitation(models.Model):
    """An organisation admin's invitation to join the organisation, sent by email as a link with a secret token.

    Only the token's SHA-256 is stored. An invitation is used once, expires, and can be revoked; there is no other
    way into an organisation (no open self-registration).
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Membership.Role, default=Membership.Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="invitations_sent"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.email} to {self.organisation}"


class ApiToken(models.Model):
    """A personal API token: shown once when created, stored as its SHA-256, revocable. Scopes: read, or read and
    write the user's organisations' assessments."""

    class Scope(models.TextChoices):
        READ = "read", "Read"
        WRITE_ASSESSMENTS = "write_assessments", "Read, and write my organisations' assessments"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="The token's first characters, to recognise it.")
    key_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=20, choices=Scope, default=Scope.READ)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"


class StatisticsSnapshot(models.Model):
    """The implementation statistics for one phase and consolidation rule as last computed (followup.statistics,
    followup.snapshots): what the statistics pages and the API read. One row per phase, rule, pledges setting and
    cycle (0: all cycles), replaced together by each recompute."""

    class Rule(models.TextChoices):
        MAJORITY = "majority", "Majority (a tie goes to the lower status)"
        LOWEST = "lowest", "Lowest status given"
        HIGHEST = "highest", "Highest status given"
        LATEST = "latest", "Latest assessment"
        NON_STATE = "non_state", "Majority of non-state stakeholders"

    phase = models.CharField(max_length=11, choices=Assessment.Phase)
    rule = models.CharField(max_length=9, choices=Rule)
    include_pledges = models.BooleanField(default=False)
    cycle = models.PositiveSmallIntegerField(default=0, help_text="The cycle's number; 0: all cycles.")
    figures = models.JSONField(help_text='{"overall": G, "by": {breakdown: {group: G}}} (followup.statistics).')
    recommendations = models.PositiveIntegerField(help_text="Recommendations counted.")
    assessments = models.PositiveIntegerField(help_text="Assessments that decided their statuses.")
    computed_at = models.DateTimeField(help_text="When the data it counts was read.")
    duration_seconds = models.FloatField(help_text="How long the recompute that made it took (every phase and rule).")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["phase", "rule", "include_pledges", "cycle"], name="statistics_snapshot_unique"
            )
        ]

    def __str__(self):
        return f"Statistics {self.phase} {self.rule} cycle {self.cycle or 'all'} at {self.computed_at:%Y-%m-%d %H:%M}"


class JobTrigger(models.TextChoices):
    """Why a background job (a statistics recompute, a data dump) ran."""

    CHANGE = "change", "Data changed"
    NIGHTLY = "nightly", "Nightly (Celery beat)"
    ADMIN = "admin", "By hand (admin)"
    COMMAND = "command", "By hand (command line)"
    RETRY = "retry", "Again, after its worker stopped"


class StatisticsRecompute(models.Model):
    """One recompute of the statistics' snapshots (followup/jobs.py): why and by whom, when, and what came of it.

    Queued by a change (followup.snapshots.statistics_changed), by hand or nightly; at most one is queued at a time,
    so that it covers every change until it starts. A running one stamps heartbeat_at; the reaper marks one whose
    stamp is too old failed (its worker was killed; the snapshots it was replacing stay whole)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    status = models.CharField(max_length=10, choices=Status, default=Status.QUEUED)
    trigger = models.CharField(max_length=10, choices=JobTrigger, default=JobTrigger.CHANGE)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="Who asked for it (by hand in the admin); empty when automatic.",
    )  # fmt: skip
    queued_at = models.DateTimeField(default=timezone.now)
    not_before = models.DateTimeField(null=True, blank=True, help_text="When it is due (a change waits a little).")
    sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When the broker took its task; empty: not yet (the broker was down)."
    )
    task_id = models.CharField(max_length=50, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="Stamped while it runs.")
    finished_at = models.DateTimeField(null=True, blank=True)
    snapshots = models.PositiveIntegerField(default=0, help_text="Snapshots stored.")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-queued_at", "-id"]
        constraints = [
            # One queued recompute covers every change until it starts.
            models.UniqueConstraint(
                fields=["status"], condition=Q(status="queued"), name="statisticsrecompute_one_queued"
            ),
        ]
        indexes = [
            # The admin's list and the Background jobs page: the latest first.
            models.Index(fields=["-queued_at"], name="statisticsrecompute_queued_idx"),
        ]

    def __str__(self):
        return f"Statistics recompute {self.queued_at:%Y-%m-%d %H:%M} ({self.get_status_display()})"

    @property
    def duration(self):
        return self.finished_at - self.started_at if self.started_at and self.finished_at else None


class DataDump(models.Model):
    """One build of the public data dump (followup/dumps): CSV files per table and one JSON Lines file, gzipped,
    under MEDIA_ROOT/dumps/<directory>/. The latest succeeded build is what /dumps/<name> serves and
    /api/v1/dumps/ describes; the few before it stay on disk (UPRTRAX_DUMPS_KEEP), older ones are removed. A
    running build stamps heartbeat_at; the reaper marks one whose stamp is too old failed (followup/jobs.py)."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        REMOVED = "removed", "Removed (its files deleted, a newer one kept)"

    status = models.CharField(max_length=10, choices=Status, default=Status.RUNNING)
    trigger = models.CharField(max_length=10, choices=JobTrigger, default=JobTrigger.NIGHTLY)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="Who asked for it (by hand in the admin); empty when automatic.",
    )  # fmt: skip
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="Stamped while it runs.")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    data_as_of = models.DateTimeField(null=True, blank=True, help_text="The moment of the data it holds.")
    directory = models.CharField(max_length=100, blank=True, help_text="Its folder under MEDIA_ROOT/dumps/.")
    rows = models.JSONField(default=dict, blank=True, help_text="Rows per table.")
    size = models.PositiveBigIntegerField(default=0, help_text="Bytes of its files, compressed.")
    manifest = models.JSONField(default=dict, blank=True, help_text="What /api/v1/dumps/ shows (manifest.json).")
    duration_seconds = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            # What is served must exist whole: a succeeded dump names its folder and when it finished.
            models.CheckConstraint(
                condition=~Q(status="succeeded") | (Q(finished_at__isnull=False) & ~Q(directory="")),
                name="datadump_succeeded_is_complete",
            ),
        ]

    def __str__(self):
        return f"Data dump {self.started_at:%Y-%m-%d %H:%M} ({self.get_status_display()})"
