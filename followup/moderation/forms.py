"""The moderator's form: the reason an assessment is hidden (its limits are the service's)."""

from django import forms


class HideForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required, at most 1,000 characters. Kept with the assessment; its organisation sees it.",
        error_messages={"required": "Say why the assessment is hidden: the reason is kept with it."},
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
