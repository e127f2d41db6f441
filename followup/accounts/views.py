"""Account pages: log in and out (Django's views, throttled by django-axes), password reset and change, and the
profile. The writes are in followup.services.organisations."""

from axes.utils import reset as axes_reset
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from followup.accounts.forms import LoginForm, ProfileForm
from followup.organisations import selectors
from followup.services.organisations import profile_update
from uprtrax.forms import error_summary, errors_apply


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["summary"] = error_summary(context["form"])
        return context


class LogoutView(auth_views.LogoutView):
    """POST only (Django's); says so after the redirect."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You are logged out.")
        return response


class FormPageMixin:
    """Django's account views with the error summary at the top of their page."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["summary"] = error_summary(context.get("form"))
        return context


class PasswordResetView(FormPageMixin, auth_views.PasswordResetView):
    """Answers the same whether an account has the address or not; mails only an existing, active one."""


class PasswordResetConfirmView(FormPageMixin, auth_views.PasswordResetConfirmView):
    def form_valid(self, form):
        response = super().form_valid(form)
        # Whoever reads the account's mail may log in again at once, even after a lockout.
        axes_reset(username=form.user.get_username())
        return response


class PasswordChangeView(FormPageMixin, auth_views.PasswordChangeView):
    pass


@login_required
def profile(request):
    user = request.user
    initial = {"full_name": user.get_full_name(), "email": user.email}
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            profile_update(user=user, **form.cleaned_data)
        except ValidationError as error:
            errors_apply(form, error)
        else:
            messages.success(request, "Your profile is saved.")
            return redirect("accounts:profile")
    memberships = selectors.user_memberships(user=user)
    context = {"form": form, "summary": error_summary(form), "memberships": memberships}
    return render(request, "accounts/profile.html", context)
