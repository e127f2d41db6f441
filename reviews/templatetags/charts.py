"""{% load charts %}: the bars of the pages' bar tables (a state's profile, the dashboard), drawn in Python.

A state's page draws about a hundred bars; as an {% include %} each cost a template lookup and a context of its own,
a third of the page's rendering. Geometry attributes, not style="", so that the Content-Security-Policy holds.
"""

from django import template
from django.utils.html import format_html

register = template.Library()

_BAR = (
    '<svg class="{}" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true" focusable="false">'
    '<rect class="bar__track" width="100" height="8" rx="1"></rect>'
    '<rect class="bar__fill" width="{}" height="8" rx="1"></rect></svg>'
)


@register.simple_tag
def bar(percent, variant=""):
    """A horizontal bar for a percentage (0–100; nothing counts as 0), `variant` naming its colour class."""
    css = f"bar bar--{variant}" if variant else "bar"
    return format_html(_BAR, css, f"{float(percent or 0):.1f}")
