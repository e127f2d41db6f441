"""What makes an assessment acceptable, whatever brings it (the pages, the API, an import): one place for the
limits, the evidence links and the phase that fits a date.

Phases (DOMAIN.md): `mid_term` is dated between the review and the state's next review; `next_review` is reported
at the following review, so it is dated after the review. When the next review is not recorded, the mid-term
window ends five years after the review (a cycle lasts about four and a half).
"""

import datetime
import re

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils import timezone

from followup.models import Assessment
from reviews.models import Review

COMMENT_MAX = 10_000  # characters
EVIDENCE_MAX = 10  # links
URL_MAX = 500  # characters
BULK_MAX = 1_000  # recommendations assessed by one bulk request
WINDOW_WITHOUT_NEXT_REVIEW = datetime.timedelta(days=5 * 365)

_url_check = URLValidator(schemes=["http", "https"])
_SEPARATORS = re.compile(r"\s+")


_LINE_BREAKS = re.compile(r"\r\n|[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1b\x1f\x7f]")


def comment_clean(comment: str) -> str:
    """Plain text as stored: every kind of line break (Word's vertical tab included) a newline, other control
    characters dropped (a spreadsheet could not hold them), surrounding space trimmed."""
    return _CONTROLS.sub("", _LINE_BREAKS.sub("\n", comment or "")).strip()


def comment_check(comment: str) -> None:
    if len(comment) > COMMENT_MAX:
        raise ValidationError(
            f"The comment has {len(comment):,} characters, over the limit of {COMMENT_MAX:,}.", code="too_long"
        )


def evidence_parse(value: str | list[str] | None) -> list[str]:
    """Evidence links from text (separated by spaces or line breaks) or a list: each a full http(s) address of at
    most 500 characters, at most ten, duplicates dropped. The error names the address at fault."""
    if not value:
        return []
    items = _SEPARATORS.split(value.strip()) if isinstance(value, str) else [str(v).strip() for v in value]
    links: list[str] = []
    for item in items:
        if not item or item in links:
            continue
        try:
            if len(item) > URL_MAX:
                raise ValidationError("too long")
            if any(ord(character) < 32 for character in item):  # URLValidator lets a NUL through; PostgreSQL not
                raise ValidationError("control character")
            _url_check(item)
        except ValidationError:
            shown = item if len(item) <= 80 else item[:77] + "…"
            raise ValidationError(
                f"“{shown}” is not a web address: give full http:// or https:// addresses (at most {URL_MAX} "
                "characters each).",
                code="invalid_url",
            ) from None
        links.append(item)
    if len(links) > EVIDENCE_MAX:
        raise ValidationError(f"{len(links)} links: give at most {EVIDENCE_MAX}.", code="too_many")
    return links


Dates = tuple[datetime.date | None, datetime.date | None]


def reviews_dates(review_ids) -> dict[int, Dates]:
    """For each review, when it took place and when the state's next review does, from their sessions' dates (a
    session with no dates recorded counts from the first day of its year, and its review lasts to the year's end);
    the next review, when none is recorded, five years later. Two queries whatever the number of reviews."""
    reviews = list(
        Review.objects.filter(id__in=set(review_ids)).values_list(
            "id", "state_id", "session__number", "session__year", "session__start_date", "session__end_date"
        )
    )
    later: dict[int, list[tuple[int, datetime.date]]] = {}
    for state_id, number, year, start in (
        Review.objects.filter(state_id__in={r[1] for r in reviews})
        .order_by("session__number")
        .values_list("state_id", "session__number", "session__year", "session__start_date")
    ):
        later.setdefault(state_id, []).append((number, start or datetime.date(year + 1, 1, 1)))
    dates: dict[int, Dates] = {}
    for pk, state_id, number, year, start, end in reviews:
        held = end or start or datetime.date(year, 1, 1)
        following = next((day for n, day in later.get(state_id, ()) if n > number), None)
        dates[pk] = (held, following or held + WINDOW_WITHOUT_NEXT_REVIEW)
    return dates


def phase_default(assessed_on: datetime.date, dates: Dates) -> str:
    """Mid-term when the date falls before the next review, else next review."""
    _, following = dates
    if following is not None and assessed_on >= following:
        return Assessment.Phase.NEXT_REVIEW
    return Assessment.Phase.MID_TERM


def date_and_phase_check(assessed_on: datetime.date, phase: str, dates: Dates) -> None:
    """A date in the future, before the review, or a mid-term date on or after the next review is refused."""
    held, following = dates
    today = timezone.localdate()
    if assessed_on > today:
        raise ValidationError(
            f"The date {assessed_on.isoformat()} is in the future (today is {today.isoformat()}).", code="future"
        )
    if held is not None and assessed_on < held:
        raise ValidationError(
            f"The date {assessed_on.isoformat()} is before the review ({held.isoformat()}).", code="before_review"
        )
    if phase == Assessment.Phase.MID_TERM and following is not None and assessed_on >= following:
        raise ValidationError(
            f"A mid-term assessment falls before the next review ({following.isoformat()}); "
            f"{assessed_on.isoformat()} is later: choose the phase “Next review”.",
            code="phase_dates",
        )
