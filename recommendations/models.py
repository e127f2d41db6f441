"""Recommendations made to a state under review, the themes they touch, and how the state responded."""

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from reviews.models import Review, State


class Issue(models.Model):
    """A theme of UPR Info's classic list of 54 ("Women's rights", "Torture and other CID treatment", ...)."""

    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Recommendation(models.Model):
    class Kind(models.TextChoices):
        RECOMMENDATION = "recommendation", "Recommendation"
        VOLUNTARY_PLEDGE = "voluntary_pledge", "Voluntary pledge"

    class Response(models.TextChoices):
        """The state's response, normalised. The source's own word is kept in response_original."""

        ACCEPTED = "accepted", "Accepted"  # the UN says "supported"
        NOTED = "noted", "Noted"  # includes the older "rejected"
        PENDING = "pending", "Pending"  # no response yet, or none that could be read
        NOT_APPLICABLE = "", "Not applicable"  # voluntary pledges are not answered

    class ActionCategory(models.IntegerChoices):
        """Edward McMahon's scale of the action a recommendation asks for, as UPR Info uses it."""

        MINIMAL = 1, "1 – Minimal action"
        CONTINUING = 2, "2 – Continuing action"
        CONSIDERING = 3, "3 – Considering action"
        GENERAL = 4, "4 – General action"
        SPECIFIC = 5, "5 – Specific action"

    # Indexed by rec_review_tally_idx (below), which also carries what a review's counts read.
    review = models.ForeignKey(Review, on_delete=models.PROTECT, related_name="recommendations", db_index=False)
    kind = models.CharField(max_length=20, choices=Kind, default=Kind.RECOMMENDATION)
    paragraph_ref = models.CharField(
        "paragraph", max_length=20, blank=True, help_text="Paragraph in the Working Group report, e.g. 136.12."
    )
    text = models.TextField()
    recommending_states = models.ManyToManyField(State, related_name="recommendations_made", blank=True)
    response = models.CharField(max_length=10, choices=Response, blank=True, default=Response.PENDING)
    response_original = models.CharField(
        "response as in the source", max_length=100, blank=True, help_text='e.g. "Supported", "Rejected".'
    )
    action_category = models.PositiveSmallIntegerField(choices=ActionCategory, null=True, blank=True)
    issues = models.ManyToManyField(Issue, related_name="recommendations", blank=True)
    natural_key = models.CharField(
        max_length=64,
        blank=True,
        default="",
        editable=False,
        help_text="sha256 of the import key (paragraph, or recommending states and normalised text).",
    )
    # Kept by the database for browsing (migration 0006): triggers fill session_number from the review and, on
    # PostgreSQL, search_vector from the text (English stemming, GIN-indexed); followup.status fills
    # implementation_status. Code never writes them.
    session_number = models.PositiveSmallIntegerField(
        null=True, blank=True, editable=False, help_text="The review's session number (for sorting by date)."
    )
    search_vector = SearchVectorField(null=True, blank=True, editable=False)
    implementation_status = models.CharField(
        "implementation status at mid-term",
        max_length=22,
        blank=True,
        default="",
        db_default="",
        editable=False,
        help_text="Consolidated status of the public mid-term assessments (majority, a tie to the lower status); "
        "empty when none.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["review_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(action_category__isnull=True) | Q(action_category__gte=1, action_category__lte=5),
                name="recommendation_action_category_1_to_5",
            ),
            models.CheckConstraint(condition=~Q(text=""), name="recommendation_text_not_empty"),
            models.CheckConstraint(
                condition=Q(kind="recommendation", response__in=["accepted", "noted", "pending"])
                | Q(kind="voluntary_pledge", response=""),
                name="recommendation_response_fits_kind",
            ),
            # A paragraph is cited once per report; several recommending states share one paragraph.
            models.UniqueConstraint(
                fields=["review", "paragraph_ref"],
                condition=~Q(paragraph_ref=""),
                name="recommendation_paragraph_unique",
            ),
            # Imports are idempotent: one recommendation per natural key within a review.
            models.UniqueConstraint(
                fields=["review", "natural_key"],
                condition=~Q(natural_key=""),
                name="recommendation_natural_key_unique",
            ),
        ]
        indexes = [
            # Statistics and facets by response within a kind ("accepted recommendations").
            models.Index(fields=["kind", "response"], name="rec_kind_response_idx"),
            # Facet and filter by action category.
            models.Index(fields=["action_category"], name="rec_action_category_idx"),
            # Newest session first, in the report's order within it (the search page's default order; read
            # backwards for oldest first).
            models.Index(fields=["-session_number", "id"], name="rec_session_desc_idx"),
            # Facet and filter by implementation status.
            models.Index(fields=["implementation_status"], name="rec_implementation_idx"),
            # A review's recommendations, and their counts by response and implementation without reading the rows
            # (reviews.selectors: an index-only scan).
            models.Index(
                fields=["review"],
                include=["id", "kind", "response", "implementation_status"],
                name="rec_review_tally_idx",
            ),
            # The GIN index on search_vector is PostgreSQL's only: migration 0006 creates it there.
        ]

    def __str__(self):
        ref = f" {self.paragraph_ref}" if self.paragraph_ref else f" #{self.pk}"
        return f"{self.review}{ref}"


class ImportRun(models.Model):
    """One import of a file (or its dry run): who, when, what, and what came of it."""

    class Kind(models.TextChoices):
        RECOMMENDATIONS = "recommendations", "Recommendations"
        ASSESSMENTS = "assessments", "Assessments"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        DRY_RUN = "dry_run", "Dry run"

    kind = models.CharField(max_length=20, choices=Kind, default=Kind.RECOMMENDATIONS)
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    dry_run = models.BooleanField(default=True, help_text="A preview: validate and count, write nothing.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="import_runs"
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    file_name = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    encoding = models.CharField(max_length=40, blank=True)
    sheet = models.CharField(max_length=100, blank=True)
    layout = models.CharField(max_length=20, blank=True, help_text="upr_info, canonical or mapping.")
    mapping = models.JSONField(default=dict, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    errors = models.JSONField(default=list, blank=True)
    duration = models.DurationField(null=True, blank=True)
    error_message = models.TextField(blank=True)
    # A job started from the page or the API: the uploaded file kept for the preview, the commit and a rerun
    # (media storage, never served), the options asked for, and the Celery task working on it.
    upload = models.FileField(upload_to="imports/%Y/%m/", blank=True, max_length=300)
    options = models.JSONField(
        default=dict, blank=True, help_text='Options asked for: {"encoding", "sheet", "mapping_name"}.'
    )
    task_id = models.CharField(max_length=50, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            # The admin's and a future import page's list of recent runs.
            models.Index(fields=["-started_at"], name="importrun_started_idx"),
        ]

    def __str__(self):
        return f"{self.file_name or 'import'} ({self.get_status_display()}, {self.started_at:%Y-%m-%d %H:%M})"


class ImportMapping(models.Model):
    """A saved column mapping (file column -> field, value synonyms, separators) to reuse for other files."""

    name = models.CharField(max_length=100, unique=True)
    # Presets are per kind: a mapping names the fields of one importer (recommendations or assessments).
    kind = models.CharField(max_length=20, choices=ImportRun.Kind, default=ImportRun.Kind.RECOMMENDATIONS)
    mapping = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="import_mappings"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name
