"""The form that creates a personal API token: a name to recognise it by, and what it may do."""

from django import forms

from followup.models import ApiToken
from followup.services.tokens import NAME_MAX

# The scopes as the form offers them: what each lets a script do, in a few words.
SCOPE_CHOICES = [
    (ApiToken.Scope.READ, "Read only: what you can see on the site, your organisations' drafts included."),
    (
        ApiToken.Scope.WRITE_ASSESSMENTS,
        "Read and write: also record, change and delete your organisations' assessments.",
    ),
]


class TokenCreateForm(forms.Form):
    label_suffix = ""

    name = forms.CharField(
        label="Name",
        max_length=NAME_MAX,
        help_text="To recognise the token later, for example “Mid-term report script”.",
        error_messages={
            "required": "Give the token a name, to recognise it later.",
            "max_length": "The name has %(show_value)d characters: give at most %(limit_value)d.",
        },
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    scope = forms.ChoiceField(
        label="What the token may do",
        choices=SCOPE_CHOICES,
        initial=ApiToken.Scope.READ,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose what the token may do.",
            "invalid_choice": "“%(value)s” is not a scope: choose read, or read and write assessments.",
        },
    )
