"""Full-text search over recommendation texts: PostgreSQL's, with a plain fallback on SQLite.

PostgreSQL: the `search_vector` column (English stemming, GIN index; migration 0006) matched against
websearch_to_tsquery, which reads a query as people type it into web search engines: words (all must occur, in
any form: "ratify" finds "ratified"), "a phrase" in quotes, -word or -"a phrase" to leave out, OR between
alternatives. Ranked with ts_rank_cd; snippets by ts_headline.

SQLite (the demo's embedded database): the same syntax read in Python; each word or phrase must occur as typed
(case-insensitive, no stemming), excluded ones must not.
"""

import functools
import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import F, Q, QuerySet
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from recommendations.models import Recommendation

CONFIG = "english"
_START, _STOP = "\x02", "\x03"  # ts_headline's markers: control characters never stored in a text
_HEADLINE_OPTIONS = (
    f'StartSel={_START}, StopSel={_STOP}, MaxFragments=2, MaxWords=30, MinWords=12, FragmentDelimiter=" … "'
)
_SHORT_TEXT = 400  # characters: shorter texts are shown whole, with every match marked


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _query(text: str) -> SearchQuery:
    return SearchQuery(text, search_type="websearch", config=CONFIG)


# --- Query syntax, read in Python (SQLite, highlighting on SQLite, and checks) ----------------------------------

_TOKEN = re.compile(r'(-?)"([^"]*)"?|(-?)(\S+)')


@dataclass(frozen=True)
class ParsedQuery:
    include: tuple[str, ...]
    exclude: tuple[str, ...]


def query_parse(text: str) -> ParsedQuery:
    """Words and "phrases" to find, and those after a minus to leave out; OR and lone signs are ignored."""
    include, exclude = [], []
    for match in _TOKEN.finditer(text):
        minus, phrase = (match.group(1), match.group(2)) if match.group(2) is not None else match.group(3, 4)
        phrase = " ".join(phrase.split()).strip("-")
        if not phrase or phrase.casefold() == "or":
            continue
        (exclude if minus else include).append(phrase)
    return ParsedQuery(tuple(include), tuple(exclude))


def text_problem(text: str) -> str:
    """Why this search cannot be run as typed, or "" when it can (one cheap query on PostgreSQL)."""
    if not text:
        return ""
    if _postgres():
        tree = _indexable_part(text)
        if tree == "":
            return "Your search has only very common words (like “the” or “and”), which are not indexed: add a word."
        if tree == "T":
            return "Your search only leaves words out: add a word or phrase to look for."
        return ""
    parsed = query_parse(text)
    if not parsed.include:
        return "Your search only leaves words out: add a word or phrase to look for."
    return ""


@functools.lru_cache(maxsize=2048)
def _readings(text: str) -> tuple[str, str]:
    """PostgreSQL's readings of the query (they depend on the text and the configuration only, not on the data):
    the part an index can use, and the whole tsquery."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT querytree(q), q::text FROM websearch_to_tsquery(%s::regconfig, %s) q", [CONFIG, text])
        return cursor.fetchone()


def _indexable_part(text: str) -> str:
    """The part of the query an index can use: "" when only stop words remain, "T" when none (only exclusions)."""
    return _readings(text)[0]


def tsquery_text(text: str) -> str:
    """The tsquery PostgreSQL makes of the query, as PostgreSQL prints it (`'right' & 'women' <-> 'girl'`)."""
    return _readings(text)[1]


# --- Filtering and ranking --------------------------------------------------------------------------------------


def text_filter(queryset: QuerySet[Recommendation], text: str) -> QuerySet[Recommendation]:
    """Recommendations whose text matches the query; none when the query cannot be run (see text_problem)."""
    if text_problem(text):
        return queryset.none()
    if _postgres():
        return queryset.filter(search_vector=_query(text))
    parsed = query_parse(text)
    condition = Q()
    for phrase in parsed.include:
        condition &= Q(text__icontains=phrase)
    for phrase in parsed.exclude:
        condition &= ~Q(text__icontains=phrase)
    return queryset.filter(condition)


def text_rank_order(queryset: QuerySet[Recommendation], text: str) -> QuerySet[Recommendation]:
    """Best matches first (cover density: matches close together rank higher); newest first on SQLite."""
    newest = ("-session_number", "id")
    if not _postgres():
        return queryset.order_by(*newest)
    rank = SearchRank(F("search_vector"), _query(text), cover_density=True)
    return queryset.annotate(rank=rank).order_by("-rank", *newest)


# --- Snippets ---------------------------------------------------------------------------------------------------


def _marked(raw: str) -> SafeString:
    """Escape the text, then turn the markers into <mark> elements."""
    return mark_safe(escape(raw).replace(_START, "<mark>").replace(_STOP, "</mark>"))  # noqa: S308 (escaped)


def text_headlines(ids: list[int], text: str) -> dict[int, SafeString]:
    """For each recommendation id, its text (or the best passages of a long one) with the matches marked."""
    if not ids or not text or text_problem(text):
        return {}
    if _postgres():
        with connection.cursor() as cursor:
            cursor.execute(
                f"""SELECT id, CASE WHEN length(text) <= %s
                        THEN ts_headline(%s::regconfig, text, q, %s)
                        ELSE ts_headline(%s::regconfig, text, q, %s) END
                    FROM {Recommendation._meta.db_table}, websearch_to_tsquery(%s::regconfig, %s) q
                    WHERE id = ANY(%s)""",  # noqa: S608 (table name from the model)
                [_SHORT_TEXT, CONFIG, f"HighlightAll=true, StartSel={_START}, StopSel={_STOP}", CONFIG,
                 _HEADLINE_OPTIONS, CONFIG, text, ids],
            )  # fmt: skip
            return {pk: _marked(headline) for pk, headline in cursor.fetchall()}
    parsed = query_parse(text)
    if not parsed.include:
        return {}
    pattern = re.compile("|".join(re.escape(p) for p in sorted(parsed.include, key=len, reverse=True)), re.IGNORECASE)
    texts = Recommendation.objects.filter(id__in=ids).values_list("id", "text")
    return {pk: _marked(pattern.sub(lambda m: f"{_START}{m.group(0)}{_STOP}", t)) for pk, t in texts}
