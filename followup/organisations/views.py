"""Organisation pages: the public directory and page of each, the members page of its admins (roles, removal,
invitations) and the invitation link. The writes are in followup.services.organisations; a refused one raises
PermissionDenied (403) before anything changes."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from followup import permissions
from followup.models import Invitation, Membership, Organisation
from followup.organisations import selectors
from followup.organisations.forms import AccountCreateForm, InvitationForm, RoleForm
from followup.services import organisations as services
from uprtrax.forms import error_summary, errors_apply

PER_PAGE = 50
# An invitation link that cannot be used: the page's status. Unknown and revoked look alike.
INVALID_STATUS = {"unknown": 404, "expired": 410, "used": 410}


def organisation_list(request):
    page = Paginator(selectors.organisation_directory(), PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "organisations/organisation_list.html", {"page": page})


def organisation_detail(request, slug: str):
    try:
        organisation = selectors.organisation_page(slug=slug)
    except Organisation.DoesNotExist:
        raise Http404("No organisation has this address.") from None
    context = {
        "organisation": organisation,
        "latest": selectors.organisation_latest_assessments(organisation=organisation),
        "role": _role_label(permissions.roles(request.user).get(organisation.pk)),
        "can_manage": permissions.can_manage_members(request.user, organisation),
    }
    return render(request, "organisations/organisation_detail.html", context)


def _members_page(request, organisation: Organisation, *, invite_form: InvitationForm | None = None, status=200):
    members = selectors.organisation_members(organisation=organisation)
    context = {
        "organisation": organisation,
        "members": members,
        "admin_count": selectors.organisation_admin_count(members=members),
        "invitations": selectors.invitations_pending(organisation=organisation),
        "invite_form": invite_form or InvitationForm(),
        "summary": error_summary(invite_form),
        "roles": RoleForm.base_fields["role"].choices,
        "invitation_days": settings.INVITATION_DAYS,
    }
    return render(request, "organisations/organisation_members.html", context, status=status)


def _managed(request, slug: str) -> Organisation:
    organisation = get_object_or_404(Organisation, slug=slug)
    if not permissions.can_manage_members(request.user, organisation):
        raise PermissionDenied("Only the organisation's admins manage its members.")
    return organisation


@login_required
def organisation_members(request, slug: str):
    return _members_page(request, _managed(request, slug))


@login_required
@require_POST
def invitation_create(request, slug: str):
    organisation = _managed(request, slug)
    form = InvitationForm(request.POST)
    if form.is_valid():
        try:
            services.invitation_create(inviter=request.user, organisation=organisation,
                                       site_url=request.build_absolute_uri("/"), **form.cleaned_data)  # fmt: skip
        except ValidationError as error:
            errors_apply(form, error)
        else:
            messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
            return redirect("organisations:members", organisation.slug)
    return _members_page(request, organisation, invite_form=form)


@login_required
@require_POST
def invitation_revoke(request, slug: str, invitation_id: int):
    invitation = get_object_or_404(Invitation, pk=invitation_id, organisation__slug=slug)
    try:
        services.invitation_revoke(user=request.user, invitation_id=invitation.pk)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"The invitation of {invitation.email} is revoked: its link no longer works.")
    return redirect("organisations:members", slug)


@login_required
@require_POST
def membership_role_change(request, slug: str, membership_id: int):
    _managed(request, slug)
    membership = get_object_or_404(Membership.objects.select_related("user"), pk=membership_id, organisation__slug=slug)
    form = RoleForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(f"“{request.POST.get('role', '')[:40]}” is not a role.")
        changed = services.membership_role_change(user=request.user, membership_id=membership.pk, **form.cleaned_data)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{_name(changed.user)} is now {changed.get_role_display().lower()}.")
    return redirect("organisations:members", slug)


@login_required
@require_POST
def membership_remove(request, slug: str, membership_id: int):
    membership = get_object_or_404(Membership.objects.select_related("user"), pk=membership_id, organisation__slug=slug)
    leaving = membership.user_id == request.user.pk
    try:
        removed = services.membership_remove(user=request.user, membership_id=membership.pk)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        who = "You are" if leaving else f"{_name(removed.user)} is"
        messages.success(request, f"{who} no longer a member of {removed.organisation.name}.")
    return redirect("accounts:profile") if leaving else redirect("organisations:members", slug)


def _role_label(role: str | None) -> str:
    return Membership.Role(role).label.lower() if role else ""


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


def _invitation_invalid(request, state: str):
    return render(request, "organisations/invitation_invalid.html", {"state": state}, status=INVALID_STATUS[state])


def invitation(request, token: str):
    """The link of an invitation: join (logged in), or log in or create an account (anonymous)."""
    pending, state = selectors.invitation_by_token(token=token)
    if pending is None:
        return _invitation_invalid(request, state)
    form = None if request.user.is_authenticated else AccountCreateForm(request.POST or None)
    if request.method == "POST" and (form is None or form.is_valid()):
        try:
            if form is None:
                services.invitation_accept(user=request.user, token=token)
            else:
                fields = {name: form.cleaned_data[name] for name in ("username", "full_name", "password")}
                user = services.account_create_from_invitation(token=token, **fields)
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        except services.InvitationInvalid as error:
            return _invitation_invalid(request, error.reason)
        except ValidationError as error:
            errors_apply(form, error)
        else:
            role = pending.get_role_display().lower()
            messages.success(request, f"You joined {pending.organisation.name} as {role}.")
            return redirect("organisations:detail", pending.organisation.slug)
    context = {
        "invitation": pending,
        "token": token,
        "form": form,
        "summary": error_summary(form),
        "role": _role_label(permissions.roles(request.user).get(pending.organisation_id)),
    }
    return render(request, "organisations/invitation.html", context)
