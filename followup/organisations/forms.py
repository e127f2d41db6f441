"""Forms of the organisation pages: invite, change a role, and create an account from an invitation."""

from django import forms

from followup.accounts.forms import EMAIL_INVALID
from followup.models import Membership


class InvitationForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        error_messages=EMAIL_INVALID,
        help_text="The invitation link is sent there; it works once.",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    role = forms.ChoiceField(
        label="Role",
        choices=Membership.Role.choices,
        initial=Membership.Role.MEMBER,
        help_text="Members record assessments; editors also delete them; admins also manage the members.",
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Membership.Role.choices)


class AccountCreateForm(forms.Form):
    """A new account for an invited address. The password rules (Django's validators) are applied by the service,
    which knows the name and address the password must not resemble."""

    username = forms.CharField(
        label="Username",
        max_length=150,
        help_text="You log in with it. Letters, digits and @ . + - _ only.",
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    full_name = forms.CharField(
        label="Full name",
        max_length=300,
        help_text="As your colleagues know you.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        help_text="At least 8 characters, not only digits, not a common password, not like your name or username.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password_again") and data["password"] != data["password_again"]:
            self.add_error("password_again", "The two passwords differ: type the same password twice.")
        return data
