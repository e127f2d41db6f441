"""Reads for the organisation pages, the profile and invitation links. Counts happen in SQL."""

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from followup.models import Assessment, Invitation, Membership, Organisation, User
from followup.services.organisations import invitation_state, invitation_token_hash

LATEST_ASSESSMENTS = 10

_PUBLIC = Q(
    assessments__visibility=Assessment.Visibility.PUBLIC,
    assessments__deleted_at__isnull=True,
    assessments__hidden_at__isnull=True,
)


def _count_subquery(queryset: QuerySet, field: str = "organisation") -> Coalesce:
    """A count per organisation as a subquery: two counts by joins would multiply each other's rows."""
    counted = queryset.filter(**{field: OuterRef("pk")}).order_by().values(field).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted), 0)


def organisation_directory() -> QuerySet[Organisation]:
    """Every organisation with its country and its number of public assessments, by name."""
    return (
        Organisation.objects.select_related("country")
        .annotate(n_public=Count("assessments", filter=_PUBLIC))
        .order_by("name")
    )


def organisation_page(*, slug: str) -> Organisation:
    """One organisation with its country, members and public assessments counted (raises DoesNotExist)."""
    return (
        Organisation.objects.select_related("country")
        .annotate(
            n_members=_count_subquery(Membership.objects.all()),
            n_public=_count_subquery(Assessment.objects.public()),
        )
        .get(slug=slug)
    )


def organisation_latest_assessments(*, organisation: Organisation, limit: int = LATEST_ASSESSMENTS) -> list:
    """The organisation's latest public assessments, with what their rows show."""
    return list(
        Assessment.objects.public()
        .filter(organisation=organisation)
        .select_related("recommendation__review__state", "recommendation__review__session")
        .order_by("-assessed_on", "-pk")[:limit]
    )


def organisation_members(*, organisation: Organisation) -> list[Membership]:
    """The members with their roles: admins first, then editors and members, each by name."""
    order = {Membership.Role.ADMIN: 0, Membership.Role.EDITOR: 1, Membership.Role.MEMBER: 2}
    memberships = Membership.objects.filter(organisation=organisation).select_related("user")
    return sorted(
        memberships,
        key=lambda m: (order[m.role], (m.user.get_full_name() or m.user.username).casefold(), m.user.username),
    )


def organisation_admin_count(*, members: list[Membership]) -> int:
    return sum(1 for membership in members if membership.role == Membership.Role.ADMIN)


def invitations_pending(*, organisation: Organisation) -> QuerySet[Invitation]:
    return (
        Invitation.objects.filter(
            organisation=organisation,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .select_related("invited_by")
        .order_by("-created_at")
    )


def invitation_by_token(*, token: str) -> tuple[Invitation | None, str]:
    """The invitation a link names, and its state ("pending", "expired", "used" or "unknown"). Only a pending one
    is returned: the page tells nothing else about an invitation."""
    invitation = (
        Invitation.objects.select_related("organisation", "invited_by")
        .filter(token_hash=invitation_token_hash(token))
        .first()
    )
    state = invitation_state(invitation)
    return (invitation if state == "pending" else None), state


def user_memberships(*, user: User) -> list[Membership]:
    """The user's organisations with their role, by organisation name."""
    return list(Membership.objects.filter(user=user).select_related("organisation").order_by("organisation__name"))
