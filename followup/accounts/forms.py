"""Forms of the account pages. Django's own forms serve login, password reset and password change; the texts they
show are ours where theirs could tell whether an account exists."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

EMAIL_INVALID = {"invalid": "“%(value)s” is not an email address."}
LOGIN_FAILED = (
    "The username and password do not match an account, or the account is inactive. Both are case-sensitive: "
    "check them, or reset your password."
)


class LoginForm(AuthenticationForm):
    """Django's login form with one message for every failure (never whether the username exists)."""

    error_messages = {**AuthenticationForm.error_messages, "invalid_login": LOGIN_FAILED, "inactive": LOGIN_FAILED}


class ProfileForm(forms.Form):
    full_name = forms.CharField(
        label="Name",
        max_length=300,
        required=False,
        help_text="As your colleagues know you; shown beside your assessments.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label="Email",
        error_messages=EMAIL_INVALID,
        help_text="Password resets and invitations are sent here. One account per address.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


def errors_apply(form: forms.Form, error: ValidationError) -> None:
    """A service's ValidationError onto the form: a message keyed by one of the form's fields goes to that field,
    any other to the form as a whole."""
    if hasattr(error, "error_dict"):
        for name, messages in error.message_dict.items():
            form.add_error(name if name in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


def error_summary(form: forms.Form | None) -> list[dict]:
    """A form's errors for the summary at the top of a page: each once, linked to its field, which it names."""
    if form is None or not form.is_bound:
        return []
    summary, seen = [], set()
    for message in form.non_field_errors():
        if message not in seen:
            seen.add(message)
            summary.append({"anchor": "", "message": message})
    for field in form:
        for message in field.errors:
            if message not in seen:
                seen.add(message)
                label = str(field.label or "")
                text = message if not label or label in message else f"{label}: {message}"
                summary.append({"anchor": field.id_for_label, "message": text})
    return summary
