"""Showing assessments: their evidence links (web addresses only) and their comments (escaped, links clickable)."""

from urllib.parse import urlsplit

from django import template
from django.template.defaultfilters import linebreaks_filter, urlize

register = template.Library()


@register.filter
def web_links(urls) -> list[dict[str, str]]:
    """The http(s) addresses of a list, each with a short label (host and path); anything else is left out."""
    links = []
    for url in urls or ():
        parts = urlsplit(str(url))
        if parts.scheme in ("http", "https") and parts.netloc:
            label = (parts.netloc + parts.path).removeprefix("www.").rstrip("/")
            links.append({"url": str(url), "label": label if len(label) <= 60 else label[:57] + "…"})
    return links


@register.filter(needs_autoescape=True)
def comment_html(text: str, autoescape: bool = True) -> str:
    """Plain text as paragraphs: escaped, its web addresses made links (rel="nofollow"), its line breaks kept."""
    return linebreaks_filter(urlize(text or "", autoescape=autoescape), autoescape=False)


@register.filter
def evidence_items(urls) -> list[dict[str, str]]:
    """Every item of a list of evidence, in order: web addresses with a link (as web_links), anything else as text
    only (url empty), so that a history shows what was there without ever linking to it."""
    items = []
    for url in urls or ():
        link = web_links([url])
        items.append(link[0] if link else {"url": "", "label": str(url)})
    return items


@register.filter
def person(user) -> str:
    """A person as others see them: their full name, else their user name."""
    if user is None:
        return "Someone (account removed)"
    return user.get_full_name() or user.username
