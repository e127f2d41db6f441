"""Forms of the account pages. Django's own forms serve login, password reset and password change; the texts they
show are ours where theirs could tell whether an account exists."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm

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
