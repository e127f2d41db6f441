"""The form of one organisation's assessment of one recommendation. It checks what a browser sends; the rules
(limits, links, phase and date) are the service's, and their messages come back to the field at fault."""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from followup import rules
from followup.models import Assessment
from followup.services.assessments import AssessmentInput, assessment_input

Phase, Status, Visibility = Assessment.Phase, Assessment.Status, Assessment.Visibility

VISIBILITY_CHOICES = [
    (Visibility.DRAFT, "Draft: only you see it"),
    (Visibility.ORGANISATION, "Your organisation: its members see it"),
    (Visibility.PUBLIC, "Public: everyone sees it, and it counts in the statistics"),
]


class IsoDateField(forms.DateField):
    """A date written YYYY-MM-DD (what a date picker sends); a bad one is quoted in the message."""

    input_formats = ["%Y-%m-%d"]

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValidationError:
            shown = str(value)[:40]
            raise ValidationError(
                f"“{shown}” is not a date: write it as year-month-day, for example 2024-05-31.", code="invalid"
            ) from None


def _choice_errors(what: str) -> dict[str, str]:
    return {
        "required": f"Choose a {what}.",
        "invalid_choice": f"“%(value)s” is not a {what}: choose one of those listed.",
    }


class AssessmentForm(forms.Form):
    organisation = forms.SlugField(widget=forms.HiddenInput)
    # The version the writer read (empty: they saw none); a stale one is refused by the service.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    phase = forms.ChoiceField(
        label="Phase",
        choices=[("", "By the date"), *Phase.choices],
        required=False,
        error_messages=_choice_errors("phase"),
    )
    status = forms.ChoiceField(
        label="Status", choices=Status.choices, widget=forms.RadioSelect, error_messages=_choice_errors("status")
    )
    comment = forms.CharField(
        label="Comment",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=f"Plain text, at most {rules.COMMENT_MAX:,} characters. Web addresses become links.",
    )
    evidence_urls = forms.CharField(
        label="Sources or evidence",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocapitalize": "off"}),
        help_text=f"Web addresses starting with https:// or http://, one per line, at most {rules.EVIDENCE_MAX}.",
    )
    assessed_on = IsoDateField(
        label="Date of the assessment",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": "Give the date of the assessment (year-month-day, for example 2024-05-31)."},
    )
    visibility = forms.ChoiceField(
        label="Who sees it",
        choices=VISIBILITY_CHOICES,
        widget=forms.RadioSelect,
        error_messages=_choice_errors("visibility"),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.given: AssessmentInput | None = None

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            self.given = assessment_input(
                status=data["status"],
                comment=data.get("comment", ""),
                evidence_urls=data.get("evidence_urls", ""),
                assessed_on=data["assessed_on"],
                phase=data.get("phase", ""),
                visibility=data["visibility"],
            )
        except ValidationError as error:
            self.add_error(None, error)  # keyed by field: each message goes to its field
        return data


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


def error_summary(form: forms.Form) -> list[dict[str, str]]:
    """A form's errors for the summary at the top of the page, each once, linked to its field."""
    summary, seen = [], set()
    for message in form.non_field_errors():
        if message not in seen:
            seen.add(message)
            summary.append({"anchor": "", "message": message})
    for field in form:
        for message in field.errors:
            if message not in seen:
                seen.add(message)
                anchor = field.id_for_label or (f"{field.auto_id}_0" if field.auto_id else "")
                summary.append({"anchor": anchor, "message": f"{field.label}: {message}"})
    return summary
