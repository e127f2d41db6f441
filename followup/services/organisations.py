"""Writing accounts and organisation memberships: invitations (create, accept, create an account from one, revoke),
roles, removing or leaving, and a user's own profile.

Every write checks its permission (followup.permissions) and raises PermissionDenied before changing anything;
bad input raises ValidationError keyed by the form field at fault. Membership changes of one organisation take a
lock on the organisation row, so that two admins demoting each other at once cannot leave it without one.

Invitations are the only way into an organisation: the link carries a secret token of which only the SHA-256 is
stored; it works once, until it expires (settings.INVITATION_DAYS) or is revoked.
"""

import datetime
import hashlib
import logging
import secrets

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from followup import permissions
from followup.models import Invitation, Membership, Organisation, User

logger = logging.getLogger(__name__)

Role = Membership.Role
ROLE_RANK = {Role.MEMBER: 1, Role.EDITOR: 2, Role.ADMIN: 3}
NAME_MAX = 300  # first_name (150) and last_name (150) together


class InvitationInvalid(Exception):
    """The invitation link cannot be used. `reason` is "expired", "used" or "unknown" (an unknown token and a
    revoked invitation look the same, so that the page reveals nothing about invitations one was not given)."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def invitation_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_state(invitation: Invitation | None, *, now: datetime.datetime | None = None) -> str:
    """ "pending", "expired", "used" or "unknown" (none, or revoked)."""
    if invitation is None or invitation.revoked_at:
        return "unknown"
    if invitation.accepted_at:
        return "used"
    if invitation.expires_at <= (now or timezone.now()):
        return "expired"
    return "pending"


def _role_check(role: str) -> str:
    if role not in Role.values:
        choices = ", ".join(f"{value} ({label})" for value, label in Role.choices)
        raise ValidationError({"role": [f"“{str(role)[:40]}” is not a role: choose one of {choices}."]})
    return role


def _email_clean(email: str, field: str = "email") -> str:
    email = (email or "").strip()
    if not email:
        raise ValidationError({field: ["Give an email address."]})
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({field: [f"“{email[:100]}” is not an email address."]}) from None
    return User.objects.normalize_email(email)


def _name_split(full_name: str) -> tuple[str, str]:
    """A full name kept in Django's first_name and last_name: split at the first space, so that get_full_name()
    gives it back as written (names are not all "given family")."""
    full_name = " ".join((full_name or "").split())
    if len(full_name) > NAME_MAX:
        raise ValidationError(
            {"full_name": [f"The name has {len(full_name)} characters, over the limit of {NAME_MAX}."]}
        )
    first, _, last = full_name.partition(" ")
    if len(first) > 150 or len(last) > 150:
        raise ValidationError(
            {"full_name": ["A part of this name is too long: at most 150 characters between spaces."]}
        )
    return first, last


def _roles_forget(user: User, membership: Membership) -> None:
    """permissions.roles() keeps a user's roles on the user object: drop them when the user's own roles change."""
    if membership.user_id == user.pk:
        user.__dict__.pop("_uprtrax_roles", None)


def _organisation_locked(organisation_id: int) -> Organisation:
    """The organisation, locked until the transaction ends: membership changes of one organisation run one by one."""
    return Organisation.objects.select_for_update().get(pk=organisation_id)


def _invitation_mail(invitation: Invitation, token: str, site_url: str) -> None:
    link = site_url.rstrip("/") + reverse("organisations:invitation", args=[token])
    context = {"invitation": invitation, "organisation": invitation.organisation, "link": link,
               "inviter": invitation.invited_by, "days": settings.INVITATION_DAYS}  # fmt: skip
    subject = f"Invitation to join {' '.join(invitation.organisation.name.split())} on uprtrax"
    body = render_to_string("organisations/email/invitation.txt", context)
    send_mail(subject, body, None, [invitation.email])


def invitation_create(
    *, inviter: User, organisation: Organisation, email: str, role: str, site_url: str = ""
) -> tuple[Invitation, str]:
    """Invite `email` into the organisation with `role`; returns the invitation and its secret token (shown nowhere:
    it is emailed after the commit, as a link under `site_url`, e.g. "https://uprtrax.example.org").

    A pending invitation of the same address to the same organisation is replaced (revoked). An address that already
    belongs to a member is refused: their role is changed on the members page instead.
    """
    if not permissions.can_manage_members(inviter, organisation):
        raise PermissionDenied("Only the organisation's admins invite new members.")
    email = _email_clean(email)
    role = _role_check(role)
    now = timezone.now()
    with transaction.atomic():
        organisation = _organisation_locked(organisation.pk)
        member = Membership.objects.filter(organisation=organisation, user__email__iexact=email).first()
        if member is not None:
            raise ValidationError(
                {"email": [f"{email} is already a member of {organisation.name}: change their role in the list."]}
            )
        Invitation.objects.filter(
            organisation=organisation, email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        token = secrets.token_urlsafe(32)
        invitation = Invitation.objects.create(
            organisation=organisation,
            email=email,
            role=role,
            token_hash=invitation_token_hash(token),
            invited_by=inviter,
            expires_at=now + datetime.timedelta(days=settings.INVITATION_DAYS),
        )
        transaction.on_commit(lambda: _invitation_mail(invitation, token, site_url))
    logger.info("invitation %s: %s invited to %s as %s by %s", invitation.pk, email, organisation.slug, role, inviter)
    return invitation, token


def _invitation_pending_locked(token: str) -> Invitation:
    """The pending invitation of the token, its organisation then itself locked (the order invitation_create takes
    them in, so that the two never wait on each other); raises InvitationInvalid otherwise."""
    found = Invitation.objects.filter(token_hash=invitation_token_hash(token or "")).only("organisation_id").first()
    if found is not None:
        _organisation_locked(found.organisation_id)
        found = Invitation.objects.select_for_update(of=("self",)).select_related("organisation").get(pk=found.pk)
    state = invitation_state(found)
    if state != "pending":
        raise InvitationInvalid(state)
    return found


def _join(invitation: Invitation, user: User) -> Membership:
    """The membership the invitation gives (an existing higher role is kept), the invitation marked used."""
    membership, created = Membership.objects.get_or_create(
        user=user, organisation=invitation.organisation, defaults={"role": invitation.role}
    )
    if not created and ROLE_RANK[invitation.role] > ROLE_RANK[membership.role]:
        membership.role = invitation.role
        membership.save(update_fields=["role"])
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership


def invitation_accept(*, user: User, token: str) -> Membership:
    """A logged-in user joins with the invitation's role (or keeps a higher one they have). Raises
    InvitationInvalid when the link is unknown, revoked, used or expired."""
    if not user.is_authenticated or not user.is_active:
        raise PermissionDenied("Log in to accept an invitation.")
    with transaction.atomic():
        invitation = _invitation_pending_locked(token)
        membership = _join(invitation, user)
    _roles_forget(user, membership)
    logger.info("invitation %s accepted by %s", invitation.pk, user)
    return membership


def account_create_from_invitation(*, token: str, username: str, full_name: str, password: str) -> User:
    """A new account for the invited address, member of the organisation with the invitation's role.

    The address is the invitation's (the link proves it). Django's password validators apply. Raises
    InvitationInvalid for a link that cannot be used, ValidationError keyed by field (username, full_name,
    password) otherwise.
    """
    username = (username or "").strip()
    first_name, last_name = _name_split(full_name)
    with transaction.atomic():
        invitation = _invitation_pending_locked(token)
        errors: dict[str, list[str]] = {}
        try:
            User.username_validator(username)
        except ValidationError:
            errors["username"] = [
                f"“{username[:150]}” is not a valid username: use letters, digits and @ . + - _ only."
            ]
        if not username:
            errors["username"] = ["Choose a username."]
        elif User.objects.filter(username__iexact=username).exists():
            errors["username"] = [f"The username “{username[:150]}” is taken: choose another."]
        if not first_name:
            errors["full_name"] = ["Give your name, as your colleagues know it."]
        if User.objects.filter(email__iexact=invitation.email).exists():
            errors["__all__"] = [
                f"An account already uses {invitation.email}: log in with it, then come back to this link to "
                "accept the invitation."
            ]
        user = User(username=username, email=invitation.email, first_name=first_name, last_name=last_name)
        try:
            validate_password(password, user=user)
        except ValidationError as error:
            errors["password"] = error.messages
        if errors:
            raise ValidationError(errors)
        user.set_password(password)
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:  # the same username or address, saved by someone else a moment ago
            raise ValidationError({"username": [f"The username “{username}” is taken: choose another."]}) from None
        _join(invitation, user)
    logger.info("invitation %s: account %s created", invitation.pk, user)
    return user


def invitation_revoke(*, user: User, invitation_id: int) -> Invitation:
    """Withdraw a pending invitation (its link then stops working). Revoking one already revoked changes nothing;
    one already accepted cannot be revoked (remove the member instead)."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().select_related("organisation").get(pk=invitation_id)
        if not permissions.can_manage_members(user, invitation.organisation_id):
            raise PermissionDenied("Only the organisation's admins revoke invitations.")
        if invitation.accepted_at:
            raise ValidationError(f"{invitation.email} already accepted this invitation: remove the member instead.")
        if invitation.revoked_at is None:
            invitation.revoked_at = timezone.now()
            invitation.save(update_fields=["revoked_at"])
    return invitation


def _last_admin_check(membership: Membership, *, doing: str, by_themselves: bool = False) -> None:
    """Refuse to leave an organisation without an admin (nobody could then manage its members)."""
    if membership.role != Role.ADMIN:
        return
    others = Membership.objects.filter(organisation_id=membership.organisation_id, role=Role.ADMIN)
    if not others.exclude(pk=membership.pk).exists():
        who = "You are" if by_themselves else f"{membership.user.get_username()} is"
        raise ValidationError(
            f"{who} the last admin of {membership.organisation.name} and cannot {doing}: make another member "
            "admin first.",
            code="last_admin",
        )


def _membership_locked(membership_id: int) -> Membership:
    membership = Membership.objects.select_related("organisation", "user").get(pk=membership_id)
    _organisation_locked(membership.organisation_id)
    # Read again under the lock: another change may have committed since.
    return Membership.objects.select_related("organisation", "user").get(pk=membership_id)


def membership_role_change(*, user: User, membership_id: int, role: str) -> Membership:
    """An organisation admin (or a site admin) changes a member's role; the last admin cannot be demoted."""
    with transaction.atomic():
        membership = _membership_locked(membership_id)
        if not permissions.can_manage_members(user, membership.organisation_id):
            raise PermissionDenied("Only the organisation's admins change roles.")
        role = _role_check(role)
        if membership.role != role:
            if role != Role.ADMIN:
                _last_admin_check(membership, doing="be demoted", by_themselves=membership.user_id == user.pk)
            membership.role = role
            membership.save(update_fields=["role"])
    _roles_forget(user, membership)
    return membership


def membership_remove(*, user: User, membership_id: int) -> Membership:
    """An organisation admin (or a site admin) removes a member, or a member leaves. The last admin can do neither.
    Their assessments stay, still the organisation's. Returns the membership as it was."""
    with transaction.atomic():
        membership = _membership_locked(membership_id)
        leaving = membership.user_id == user.pk and user.is_authenticated
        if not (leaving or permissions.can_manage_members(user, membership.organisation_id)):
            raise PermissionDenied("Only the organisation's admins remove members.")
        _last_admin_check(membership, doing="leave it" if leaving else "be removed", by_themselves=leaving)
        membership.delete()
    _roles_forget(user, membership)
    return membership


def profile_update(*, user: User, full_name: str, email: str) -> User:
    """The user's own name and email (unique whatever its case)."""
    if not user.is_authenticated or not user.is_active:
        raise PermissionDenied("Log in to change your profile.")
    first_name, last_name = _name_split(full_name)
    email = _email_clean(email)
    if User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
        raise ValidationError({"email": [f"{email} is used by another account: give another address."]})
    user.first_name, user.last_name, user.email = first_name, last_name, email
    try:
        with transaction.atomic():
            user.save(update_fields=["first_name", "last_name", "email"])
    except IntegrityError:
        raise ValidationError({"email": [f"{email} is used by another account: give another address."]}) from None
    return user
