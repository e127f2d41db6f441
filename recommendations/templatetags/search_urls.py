"""The search page's links that change one value of the current query string (filters live in the URL), and its
facets' checkboxes."""

import functools

from django import template
from django.http import QueryDict
from django.urls import get_script_prefix, reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe

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


FACET_SHOWN = 8  # values listed before "n more"; chosen values come first


def _facet_items(facet, values) -> str:
    """The values' list items, built with plain string operations (escape() on every text): a state facet has some
    190 values, and format_html per value costs more than the rest of the page."""
    name = escape(facet.name)
    return "".join(
        f'<li><label class="facet__value"><input type="checkbox" name="{name}" value="{code}" '
        f'id="f-{name}-{code.lower()}"{" checked" if v.selected else ""}> '
        f'<span class="facet__label">{escape(v.label)}</span> '
        f'<span class="facet__count">{v.count:,}</span></label></li>'
        for v in values
        for code in [escape(v.code)]
    )


@register.simple_tag
def facet_values(facet) -> str:
    """A facet's values as checkboxes with counts, the first few shown and the rest behind "n more".

    Rendered here rather than by a template include per value: a state facet has some 190 values.
    """
    shown, more = facet.values[:FACET_SHOWN], facet.values[FACET_SHOWN:]
    html = f'<ul class="facet__list">{_facet_items(facet, shown)}</ul>'
    if more:
        html += (
            f'<details class="facet__more"><summary>{len(more)} more</summary>'
            f'<ul class="facet__list">{_facet_items(facet, more)}</ul></details>'
        )
    return mark_safe(html)  # noqa: S308 (every text escaped above)


# A result list links every row to its state, session and issues: the same few hundred addresses, reversed once per
# process (reverse() costs more than the rest of a row), per script prefix (a site served under a path).
@functools.lru_cache(maxsize=4096)
def _reversed_under(prefix: str, name: str, argument: str | int | None) -> str:
    return reverse(name, args=() if argument is None else (argument,))


def _reversed(name: str, argument: str | int | None) -> str:
    return _reversed_under(get_script_prefix(), name, argument)


@register.filter
def state_url(iso3: str) -> str:
    return _reversed("reviews:state_detail", iso3)


@register.filter
def session_url(number: int) -> str:
    return _reversed("reviews:session_detail", number)


@register.filter
def issue_search_url(slug: str) -> str:
    return f"{_reversed('recommendations:recommendation_list', None)}?issue={slug}"
