"""Forms of the bulk page and of the work view. They parse and check what a person typed; the rules themselves
(limits, links, dates and phases) are followup.rules and followup.services.assessments.assessment_input."""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from followup import rules
from followup.bulk.selectors import ids_parse
from followup.models import Assessment
from followup.services.assessments import AssessmentInput, assessment_input

Status, Visibility, Phase = Assessment.Status, Assessment.Visibility, Assessment.Phase


class DateInput(forms.DateInput):
    input_type = "date"

    def format_value(self, value):
        return value.isoformat() if isinstance(value, datetime.date) else value


def _add_errors(form: forms.Form, error: ValidationError, fields: dict[str, str]) -> None:
    """The service's errors (keyed by its names) on the form's fields; others on the form."""
    for name, messages in error.message_dict.items():
        target = fields.get(name, name if name in form.fields else None)
        for message in messages:
            form.add_error(target, message)


class BulkAssessForm(forms.Form):
    """One status, comment, links, date, phase and visibility for many recommendations."""

    organisation = forms.TypedChoiceField(label="For the organisation", coerce=int)
    status = forms.ChoiceField(label="Status", choices=Status.choices, widget=forms.RadioSelect)
    comment = forms.CharField(
        label="Comment",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=f"Plain text, at most {rules.COMMENT_MAX:,} characters. The same comment goes on every one.",
    )
    evidence_urls = forms.CharField(
        label="Sources or evidence",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocapitalize": "off"}),
        help_text=f"Web addresses (http:// or https://), one per line, at most {rules.EVIDENCE_MAX}.",
    )
    assessed_on = forms.DateField(
        label="Date of the assessment",
        widget=DateInput,
        error_messages={"invalid": "Give the date as year-month-day, e.g. 2024-05-31."},
    )
    phase = forms.ChoiceField(
        label="Phase",
        required=False,
        choices=[("", "By the date"), *Phase.choices],
        help_text="By the date: mid-term when it falls before the state's next review, else next review.",
    )
    visibility = forms.ChoiceField(
        label="Who sees them", choices=Visibility.choices, initial=Visibility.ORGANISATION, widget=forms.RadioSelect
    )
    replace = forms.BooleanField(
        label="Replace the assessments the organisation already recorded for these recommendations",
        required=False,
        help_text="Unticked, they are kept as they are. A colleague's draft is never touched.",
    )
    seen_at = forms.DateTimeField(widget=forms.HiddenInput)
    ids = forms.CharField(widget=forms.HiddenInput)
    search = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, organisations, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        field = self.fields["organisation"]
        field.choices = [(o.pk, o.name) for o in organisations]
        if len(organisations) == 1:
            field.widget = forms.HiddenInput()
        elif len(organisations) <= 5:
            field.widget = forms.RadioSelect(choices=field.choices)
        self.fields["assessed_on"].widget.attrs["max"] = timezone.localdate().isoformat()

    def clean_ids(self) -> list[int]:
        ids, bad = ids_parse([self.cleaned_data["ids"]])
        if bad:
            raise ValidationError(f"“{bad[0][:20]}” is not a recommendation number.")
        return ids

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            data["given"] = assessment_input(
                status=data["status"],
                comment=data["comment"],
                evidence_urls=data["evidence_urls"],
                assessed_on=data["assessed_on"],
                phase=data["phase"],
                visibility=data["visibility"],
            )
        except ValidationError as error:
            _add_errors(self, error, {})
        return data

    def service_errors(self, error: ValidationError) -> None:
        """Errors of assessments_record_bulk: on their field, the recommendations' on the form."""
        _add_errors(self, error, {"recommendations": None})


class WorkFilterForm(forms.Form):
    """The work view's filters (by issue, not yet assessed) and the date its saves carry."""

    issue = forms.ChoiceField(label="Issue", required=False)
    todo = forms.BooleanField(label="Only those not yet assessed", required=False)
    date = forms.DateField(
        label="Date of the assessments you save",
        required=False,
        widget=DateInput,
        error_messages={"invalid": "Give the date as year-month-day, e.g. 2024-05-31."},
    )

    def __init__(self, *args, issues, window, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.window = window
        self.fields["issue"].choices = [("", "All issues"), *((i.slug, i.name) for i in issues)]
        self.issues = {i.slug: i for i in issues}

    def clean_date(self):
        date = self.cleaned_data["date"]
        if date is not None:
            try:
                rules.date_and_phase_check(date, Phase.MID_TERM, self.window)
            except ValidationError as error:
                raise ValidationError(error.messages) from None
        return date


class RowForm(forms.Form):
    """One row of the work view: the organisation's mid-term assessment of one recommendation."""

    recommendation = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    status = forms.ChoiceField(choices=Status.choices, error_messages={"required": "Choose a status before saving."})
    comment = forms.CharField(required=False)
    visibility = forms.ChoiceField(choices=Visibility.choices)
    assessed_on = forms.DateField(widget=forms.HiddenInput)
    back = forms.CharField(widget=forms.HiddenInput, required=False)

    def given(self, *, evidence_urls) -> AssessmentInput:
        """What to record, checked (ValidationError keyed by field)."""
        data = self.cleaned_data
        return assessment_input(
            status=data["status"],
            comment=data["comment"],
            evidence_urls=evidence_urls,
            assessed_on=data["assessed_on"],
            phase=Phase.MID_TERM,
            visibility=data["visibility"],
        )
