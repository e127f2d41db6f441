"""Who follows up (users, organisations, memberships) and what they say (assessments)."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

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


class Assessment(models.Model):
    """One organisation's statement on how far one recommendation was implemented, at one phase."""

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
    phase = models.CharField(max_length=12, choices=Phase, default=Phase.MID_TERM)
    status = models.CharField(max_length=22, choices=Status)
    comment = models.TextField(blank=True)
    evidence_url = models.URLField("source or evidence", max_length=500, blank=True)
    assessed_on = models.DateField("date of the assessment")
    visibility = models.CharField(max_length=12, choices=Visibility, default=Visibility.DRAFT)
    # Optimistic locking: a save must name the version it was based on; a stale one is refused.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["recommendation_id", "organisation_id", "phase"]
        constraints = [
            models.UniqueConstraint(
                fields=["recommendation", "organisation", "phase"], name="assessment_one_per_org_and_phase"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="assessment_version_positive"),
        ]
        indexes = [
            # Consolidated status per recommendation and phase (statistics), public ones first.
            models.Index(fields=["phase", "recommendation", "status"], name="assessment_phase_rec_idx"),
            # An organisation's own work list ("my organisation's assessments").
            models.Index(fields=["organisation", "phase", "-assessed_on"], name="assessment_org_phase_idx"),
        ]

    def __str__(self):
        return f"{self.organisation} on {self.recommendation_id}: {self.get_status_display()}"
