"""States, their groups, the UPR calendar (cycles, sessions) and reviews."""

import datetime

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper

from reviews.names import normalise_name

# UPR Info's mid-term assessments fall about two and a half years after the review's adoption.
MID_TERM_AFTER = datetime.timedelta(days=913)


class RegionalGroup(models.Model):
    """One of the five UN regional groups."""

    code = models.SlugField(max_length=10, unique=True, help_text="UPR Info's short form, e.g. GRULAC.")
    name = models.CharField(max_length=80, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class IntergovernmentalOrganisation(models.Model):
    """An organisation that states belong to (AU, EU, OIC, OIF, ...), as UPR Info's *-Org columns name them."""

    acronym = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=150)

    class Meta:
        ordering = ["acronym"]
        verbose_name = "intergovernmental organisation"

    def __str__(self):
        return self.acronym


class State(models.Model):
    class Status(models.TextChoices):
        MEMBER = "member", "UN member state"
        OBSERVER = "observer", "Observer state"

    iso3 = models.CharField("ISO 3166-1 alpha-3", max_length=3, unique=True)
    name = models.CharField("official name", max_length=150, unique=True)
    short_name = models.CharField(max_length=80, unique=True)
    regional_group = models.ForeignKey(RegionalGroup, on_delete=models.PROTECT, related_name="states")
    status = models.CharField(max_length=10, choices=Status, default=Status.MEMBER)
    organisations = models.ManyToManyField(IntergovernmentalOrganisation, blank=True, related_name="states")

    class Meta:
        ordering = ["short_name"]
        constraints = [
            models.CheckConstraint(condition=Q(iso3__regex=r"^[A-Z]{3}$"), name="state_iso3_three_capitals"),
        ]

    def __str__(self):
        return self.short_name


class StateAlias(models.Model):
    """Another name under which a state appears in source data ("DPR Korea", "Swaziland", "CIV", ...).

    The normalised form is unique, so that any name resolves to exactly one state.
    """

    state = models.ForeignKey(State, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=150)
    normalised = models.CharField(max_length=150, unique=True, editable=False)

    class Meta:
        ordering = ["normalised"]
        verbose_name_plural = "state aliases"

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.normalised = normalise_name(self.name)
        super().save(*args, **kwargs)


class Cycle(models.Model):
    number = models.PositiveSmallIntegerField(unique=True)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True, help_text="Empty while the cycle runs.")

    class Meta:
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(condition=Q(number__gte=1), name="cycle_number_positive"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="cycle_ends_after_start",
            ),
        ]

    def __str__(self):
        return f"Cycle {self.number}"


class Session(models.Model):
    """A two-week Working Group session; dates stay empty where they are not known for sure."""

    number = models.PositiveSmallIntegerField(unique=True)
    cycle = models.ForeignKey(Cycle, on_delete=models.PROTECT, related_name="sessions")
    year = models.PositiveSmallIntegerField()
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(condition=Q(number__gte=1), name="session_number_positive"),
            models.CheckConstraint(
                condition=Q(start_date__isnull=True, end_date__isnull=True)
                | Q(start_date__isnull=False, end_date__isnull=False, end_date__gte=F("start_date")),
                name="session_dates_both_or_none_in_order",
            ),
        ]

    def __str__(self):
        return f"Session {self.number}"


class Review(models.Model):
    """One state under review in one session; its outcome is a Working Group report."""

    state = models.ForeignKey(State, on_delete=models.PROTECT, related_name="reviews")
    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="reviews")
    report_symbol = models.CharField(
        "Working Group report", max_length=40, blank=True, help_text="UN document symbol, e.g. A/HRC/28/12."
    )
    adoption_date = models.DateField(
        null=True, blank=True, help_text="Adoption of the outcome by the Human Rights Council plenary."
    )

    class Meta:
        ordering = ["session__number", "state__short_name"]
        constraints = [
            models.UniqueConstraint(fields=["state", "session"], name="review_one_per_state_and_session"),
            models.UniqueConstraint(
                Upper("report_symbol"), condition=~Q(report_symbol=""), name="review_report_symbol_unique"
            ),
        ]

    def __str__(self):
        return f"{self.state} – {self.session}"

    @property
    def cycle(self) -> Cycle:
        return self.session.cycle

    @property
    def mid_term_date(self) -> datetime.date | None:
        """About 2.5 years after adoption, or after the session when adoption is not recorded."""
        base = self.adoption_date or self.session.end_date
        return base + MID_TERM_AFTER if base else None
