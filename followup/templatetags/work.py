"""The header's "My work" link: shown to people who belong to at least one organisation."""

from django import template

from followup import permissions

register = template.Library()


@register.filter
def has_organisations(user) -> bool:
    """Reads the user's roles once per request (permissions.roles caches them on the user object, which the views'
    permission checks share): no query at all on pages that already checked a permission."""
    return bool(user is not None and user.is_authenticated and permissions.roles(user))
