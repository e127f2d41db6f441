"""Who may do what with organisations and assessments: one place, used by the pages, the API and the services.

The cast (tests/followup/test_permissions.py walks all of it):
- anonymous: reads public data;
- a member of organisation A (any role): records A's assessments and edits them, but not a colleague's draft;
  never B's, never recommendations;
- an organisation editor of A: also deletes any of A's assessments;
- an organisation admin of A: also invites and removes A's members and changes their roles;
- a moderator (site-wide): hides and restores public assessments, restores deleted ones; never rewrites them;
- an admin (superuser): everything.
"""

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet

from followup.models import Assessment, Membership, Organisation, User

Role = Membership.Role
_RANK = {Role.MEMBER: 1, Role.EDITOR: 2, Role.ADMIN: 3}


def is_admin(user: User | AnonymousUser) -> bool:
    return bool(user.is_active and user.is_superuser)


def is_moderator(user: User | AnonymousUser) -> bool:
    return bool(user.is_active and (user.is_superuser or getattr(user, "is_moderator", False)))


def roles(user: User | AnonymousUser) -> dict[int, str]:
    """The user's role in each of their organisations (organisation id -> role), read once per user object."""
    if not user.is_authenticated or not user.is_active:
        return {}
    cached = getattr(user, "_uprtrax_roles", None)
    if cached is None:
        cached = dict(Membership.objects.filter(user=user).values_list("organisation_id", "role"))
        user._uprtrax_roles = cached
    return cached


def _has_role(user: User | AnonymousUser, organisation_id: int, least: str) -> bool:
    role = roles(user).get(organisation_id)
    return role is not None and _RANK[role] >= _RANK[least]


def can_assess(user: User | AnonymousUser, organisation: Organisation | int) -> bool:
    """May record the organisation's assessments."""
    organisation_id = getattr(organisation, "pk", organisation)
    return is_admin(user) or _has_role(user, organisation_id, Role.MEMBER)


def can_manage_members(user: User | AnonymousUser, organisation: Organisation | int) -> bool:
    organisation_id = getattr(organisation, "pk", organisation)
    return is_admin(user) or _has_role(user, organisation_id, Role.ADMIN)


def can_see(user: User | AnonymousUser, assessment: Assessment) -> bool:
    """Public ones are everyone's (hidden or deleted ones only their organisation's and moderators'); the
    organisation's are its members'; a draft is its author's."""
    if is_admin(user):
        return True
    member = _has_role(user, assessment.organisation_id, Role.MEMBER)
    if assessment.deleted_at or assessment.hidden_at:
        return member or is_moderator(user)
    if assessment.visibility == Assessment.Visibility.PUBLIC:
        return True
    if assessment.visibility == Assessment.Visibility.ORGANISATION:
        return member
    return member and assessment.author_id == user.pk


def can_edit(user: User | AnonymousUser, assessment: Assessment) -> bool:
    """Members edit their organisation's assessments, but not a colleague's draft."""
    if is_admin(user):
        return True
    if not _has_role(user, assessment.organisation_id, Role.MEMBER):
        return False
    return assessment.visibility != Assessment.Visibility.DRAFT or assessment.author_id in (None, user.pk)


def can_delete(user: User | AnonymousUser, assessment: Assessment) -> bool:
    """Its author while they can edit it, or an editor or admin of the organisation."""
    if is_admin(user):
        return True
    if _has_role(user, assessment.organisation_id, Role.EDITOR):
        return True
    return can_edit(user, assessment) and assessment.author_id == user.pk


def can_moderate(user: User | AnonymousUser) -> bool:
    """Hide, unhide and restore; never rewrite."""
    return is_moderator(user)


def visible_assessments(user: User | AnonymousUser) -> QuerySet[Assessment]:
    """The assessments this user may see (as can_see, in SQL)."""
    if is_admin(user):
        return Assessment.objects.all()
    public = Q(visibility=Assessment.Visibility.PUBLIC, deleted_at__isnull=True, hidden_at__isnull=True)
    if not user.is_authenticated:
        return Assessment.objects.filter(public)
    mine = list(roles(user))
    alive = Q(deleted_at__isnull=True, hidden_at__isnull=True)
    own = Q(organisation_id__in=mine) & (~Q(visibility=Assessment.Visibility.DRAFT) | Q(author_id=user.pk) | ~alive)
    if is_moderator(user):
        return Assessment.objects.filter(public | own | ~alive)
    return Assessment.objects.filter(public | own)
