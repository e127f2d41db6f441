"""Links of the search page that change one value of the current query string (filters live in the URL)."""

from django import template
from django.http import QueryDict

register = template.Library()


def _query(params: QueryDict, *, drop: str = "", value: str | None = None, add: tuple[str, str] | None = None) -> str:
    query = params.copy()
    query.pop("page", None)
    if drop:
        kept = [v for v in query.getlist(drop) if value is not None and v != value]
        query.setlist(drop, kept)
    if add:
        query.appendlist(*add)
    return query.urlencode()


@register.simple_tag(takes_context=True)
def query_without(context, name: str, value: str | None = None) -> str:
    """`?...` of the current search without one value of a filter (or the whole filter), back on page 1."""
    return "?" + _query(context["request"].GET, drop=name, value=value)


@register.simple_tag(takes_context=True)
def query_current(context) -> str:
    """The current search's filters, without the page (for exports and permalinks)."""
    return _query(context["request"].GET)
