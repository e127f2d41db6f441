"""{% load badges %}: a recommendation's response and implementation status as badges, drawn in Python.

The search page shows two badges on each of its 25 to 100 results; as {% include %}s they were a good part of its
rendering. includes/response_badge.html and recommendations/includes/status_badge.html use these tags too.
"""

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from followup.models import Assessment
from recommendations.models import Recommendation

register = template.Library()

_STATUS_LABELS = dict(Assessment.Status.choices)
_PLEDGE = mark_safe('<span class="badge badge--pledge">Voluntary pledge</span>')  # a constant


@register.simple_tag
def response_badge(recommendation):
    """ "Accepted", "Noted", "Pending"… or "Voluntary pledge", in a badge coloured by the response."""
    if recommendation.kind == Recommendation.Kind.VOLUNTARY_PLEDGE:
        return _PLEDGE
    return format_html(
        '<span class="badge badge--{}">{}</span>',
        recommendation.response or "none",
        recommendation.get_response_display(),
    )


@register.simple_tag
def status_badge(status):
    """The implementation status at mid-term (consolidated), once someone assessed the recommendation; else
    nothing."""
    if not status:
        return ""
    return format_html(
        '<span class="badge badge--status badge--{}">{}<span class="visually-hidden"> at mid-term</span></span>',
        status,
        _STATUS_LABELS.get(status, "No information"),
    )
