"""The fields of an assessment as a person fills them in, shared by the form of one recommendation
(followup/assessing) and the form of many (followup/bulk). They check what a browser sends; the rules (limits,
links, phase and date) are followup.services.assessments.assessment_input's, whose messages come back to the field
at fault."""

import datetime

from django import forms
from django.core.exceptions import ValidationError

from followup import rules
from followup.models import Assessment
from followup.services.assessments import AssessmentInput, assessment_input

Phase, Status, Visibility = Assessment.Phase, Assessment.Status, Assessment.Visibility


class IsoDateField(forms.DateField):
    """A date written YYYY-MM-DD (what a date picker sends); a bad one is quoted in the message."""

    input_formats = ["%Y-%m-%d"]
    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValidationError:
            raise ValidationError(
                f"“{str(value)[:40]}” is not a date: write it as year-month-day, for example 2024-05-31.",
                code="invalid",
            ) from None


def choice_errors(what: str) -> dict[str, str]:
    return {
        "required": f"Choose a {what}.",
        "invalid_choice": f"“%(value)s” is not a {what}: choose one of those listed.",
    }


class AssessmentFieldsForm(forms.Form):
    """Phase, status, comment, evidence links, date and visibility; `given` holds them checked once valid."""

    phase = forms.ChoiceField(
        label="Phase",
        choices=[("", "By the date"), *Phase.choices],
        required=False,
        error_messages=choice_errors("phase"),
    )
    status = forms.ChoiceField(
        label="Status", choices=Status.choices, widget=forms.RadioSelect, error_messages=choice_errors("status")
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
        error_messages={"required": "Give the date of the assessment (year-month-day, for example 2024-05-31)."},
    )
    visibility = forms.ChoiceField(
        label="Who sees it",
        choices=Visibility.choices,
        widget=forms.RadioSelect,
        error_messages=choice_errors("visibility"),
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


def date_today_at_most(form: forms.Form) -> None:
    """The date picker offers no day after today."""
    form.fields["assessed_on"].widget.attrs["max"] = datetime.date.today().isoformat()
