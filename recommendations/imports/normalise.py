"""Cell values -> clean values: HTML entities, whitespace, response words, action categories."""

import html

from recommendations.models import Recommendation

PLEDGE = "voluntary pledge"
RESPONSE_SYNONYMS = {
    "accepted": Recommendation.Response.ACCEPTED,
    "supported": Recommendation.Response.ACCEPTED,
    "accepted/supported": Recommendation.Response.ACCEPTED,
    "noted": Recommendation.Response.NOTED,
    "rejected": Recommendation.Response.NOTED,
    "not supported": Recommendation.Response.NOTED,
    "not accepted": Recommendation.Response.NOTED,
    "pending": Recommendation.Response.PENDING,
    "": Recommendation.Response.PENDING,
}


def cell_clean(value: str) -> str:
    """HTML-unescaped ("&#40;Unknown&#41;" -> "(Unknown)") and stripped; anything else kept verbatim, so a cell
    starting with =, +, - or @ stays text and is never evaluated."""
    if "&" in value:
        value = html.unescape(value)
    return value.strip()


def cell_split(value: str, separator: str | None) -> list[str]:
    if not value:
        return []
    parts = value.split(separator) if separator else [value]
    return [p.strip() for p in parts if p.strip()]


def synonym(value: str, synonyms: dict[str, str]) -> str:
    return synonyms.get(value.casefold(), value)
