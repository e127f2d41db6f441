"""Forms of the bulk page and of the work view. They parse and check what a person typed; the rules themselves
(limits, links, dates and phases) are followup.rules and followup.services.assessments.assessment_input."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from followup import rules
from followup.bulk.selectors import ids_parse
from followup.forms import AssessmentFieldsForm, IsoDateField
from followup.models import Assessment
from followup.services.assessments import AssessmentInput, assessment_input
from uprtrax.forms import errors_apply

Status, Visibility, Phase = Assessment.Status, Assessment.Visibility, Assessment.Phase


class BulkAssessForm(AssessmentFieldsForm):
    """One status, comment, links, date, phase and visibility for many recommendations."""

    organisation = forms.TypedChoiceField(label="For the organisation", coerce=int)
    replace = forms.BooleanField(
        label="Replace the assessments the organisation already recorded for these recommendations",
        required=False,
        help_text="Unticked, they are kept as they are. A colleague's draft is never touched.",
    )
    seen_at = forms.DateTimeField(widget=forms.HiddenInput)
    ids = forms.CharField(widget=forms.HiddenInput)
    search = forms.CharField(widget=forms.HiddenInput, required=False)

    field_order = ["organisation", "status", "comment", "evidence_urls", "assessed_on", "phase", "visibility"]

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[
            "comment"
        ].help_text = f"Plain text, at most {rules.COMMENT_MAX:,} characters. The same comment goes on every one."
        self.fields[
            "phase"
        ].help_text = "By the date: mid-term when it falls before the state's next review, else next review."
        self.fields["visibility"].label = "Who sees them"
        self.fields["visibility"].initial = Visibility.ORGANISATION
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
        if self.given is not None:
            data["given"] = self.given
        return data

    def service_errors(self, error: ValidationError) -> None:
        """Errors of assessments_record_bulk: on their field, the recommendations' on the form."""
        errors_apply(self, error)


class WorkFilterForm(forms.Form):
    """The work view's filters (by issue, not yet assessed) and the date its saves carry."""

    issue = forms.ChoiceField(label="Issue", required=False)
    todo = forms.BooleanField(label="Only those not yet assessed", required=False)
    date = IsoDateField(label="Date of the assessments you save", required=False)

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
