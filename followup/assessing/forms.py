"""The form of one organisation's assessment of one recommendation. It checks what a browser sends; the rules
(limits, links, phase and date) are the service's, and their messages come back to the field at fault."""

import datetime

from django import forms
from django.utils import timezone

from followup import rules
from followup.forms import AssessmentFieldsForm
from followup.models import Assessment

Phase, Status, Visibility = Assessment.Phase, Assessment.Status, Assessment.Visibility

VISIBILITY_CHOICES = [
    (Visibility.DRAFT, "Draft: only you see it"),
    (Visibility.ORGANISATION, "Your organisation: its members see it"),
    (Visibility.PUBLIC, "Public: everyone sees it, and it counts in the statistics"),
]


class AssessmentForm(AssessmentFieldsForm):
    """One organisation's assessment of one recommendation."""

    organisation = forms.SlugField(widget=forms.HiddenInput)
    # The version the writer read (empty: they saw none); a stale one is refused by the service.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    field_order = [
        "organisation",
        "version",
        "phase",
        "status",
        "comment",
        "evidence_urls",
        "assessed_on",
        "visibility",
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["visibility"].choices = VISIBILITY_CHOICES


def assessment_initial(*, organisation, assessment: Assessment | None) -> dict:
    """What the form shows: the organisation's assessment at the phase, or a new one dated today."""
    if assessment is None:
        return {"organisation": organisation.slug, "assessed_on": timezone.localdate(), "visibility": Visibility.DRAFT}
    return {
        "organisation": organisation.slug,
        "version": assessment.version,
        "phase": assessment.phase,
        "status": assessment.status,
        "comment": assessment.comment,
        "evidence_urls": "\n".join(assessment.evidence_urls or ()),
        "assessed_on": assessment.assessed_on,
        "visibility": assessment.visibility,
    }


def phase_hint(dates: rules.Dates) -> str:
    """What "By the date" means for this recommendation, in words."""
    _, following = dates
    if following is None:
        return "By the date: mid-term."
    return f"By the date: mid-term before {_day(following)} (the state's next review), next review from that day."


def _day(day: datetime.date) -> str:
    return f"{day.day} {day:%B %Y}"
