"""Facet bitmaps: the search's facets counted without reading the recommendations' rows (PostgreSQL only).

Each facet value's recommendations are one bitmap: a row of 64-bit words (numpy) whose bit n is set when
recommendation n has that value (a million recommendations: 125 kB per bitmap, some 540 bitmaps, 66 MB). A search
without text is then one vectorised AND and popcount per facet: every facet count, the disjunctive ones included,
and the page's ids in the search's order, in tens of milliseconds where the SQL path reads every matching row
(seconds for a broad filter at a million rows). Counts are exact: the same numbers as
recommendations.facets.facet_counts (a test compares the two on many searches).

Freshness: a set of bitmaps belongs to one data version (recommendations.facets.data_version, moved on by every
import, assessment and generator run through search_data_changed()) and one load of the reference data. A search
uses them only when both are the current ones; otherwise it takes the SQL path while the bitmaps of the new
version are built (SEARCH_BITMAPS: "background", the default, builds them in a thread of the web process; "inline"
builds them at once, for tests and benchmarks; "off" never uses them). Building reads the facet columns of every
recommendation in one SELECT (one snapshot, taken after the version was read, so that bitmaps never hold data
older than their version): about 10 s at a million recommendations.

A search with text evaluates PostgreSQL's reading of the query (websearch_to_tsquery) over the word index built
with the bitmaps (recommendations.words: every lexeme with its positions, so phrases too), intersects the matches
with the facet bitmaps and counts as without text. The page by relevance: for one word or phrase (maybe with words
left out) from the word index too, ordered by its matches as ts_rank_cd orders them; otherwise PostgreSQL ranks the
final set's rows, exactly as the SQL path does. Building both for a million recommendations: about 25 s.
"""

import functools
import logging
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from django.conf import settings
from django.db import connection, transaction

from recommendations import words as word_index
from recommendations.models import Recommendation
from reviews.models import Review

if TYPE_CHECKING:
    from recommendations.facets import FacetCounts, Reference
    from recommendations.filters import RecommendationFilterSet

logger = logging.getLogger(__name__)


@dataclass
class FacetBits:
    """One facet's values (keyed as the SQL path keys its counts) and their bitmaps, one row of 64-bit words per
    value: bit n of a row (little-endian) is recommendation id n."""

    keys: list
    bits: np.ndarray  # shape (len(keys), words), uint64
    rows: dict  # key -> row number

    def union(self, keys) -> np.ndarray:
        rows = [self.rows[key] for key in keys if key in self.rows]
        if not rows:
            return np.zeros(self.bits.shape[1], dtype=np.uint64)
        return np.bitwise_or.reduce(self.bits[rows], axis=0)

    def counts(self, base: np.ndarray) -> np.ndarray:
        """How many recommendations of `base` each value has (one vectorised AND and popcount for all values; over
        the words where `base` has any bit when they are few)."""
        words = np.flatnonzero(base)
        if len(words) < len(base) // 4:
            return np.bitwise_count(self.bits[:, words] & base[words]).sum(axis=1, dtype=np.int64)
        return np.bitwise_count(self.bits & base).sum(axis=1, dtype=np.int64)


@dataclass
class Bitmaps:
    """One data version's facet bitmaps."""

    version: int
    reference: "Reference"  # the reference data they were built with (regions' and organisations' members)
    kind: FacetBits
    sur: FacetBits  # state under review id
    session: FacetBits  # session number
    response: FacetBits
    action: FacetBits  # action category; 0 for none
    status: FacetBits  # implementation status; "" for not assessed
    recommending: FacetBits  # recommending state id
    from_region: FacetBits  # regional group id of any recommending state
    org: FacetBits  # intergovernmental organisation id of any recommending state
    issue: FacetBits
    state_sessions: dict[int, list[int]]  # state under review id -> its session numbers, oldest first
    words: word_index.WordIndex  # every lexeme of the search vectors, with its positions

    @property
    def nbytes(self) -> int:
        return sum(getattr(self, name).bits.nbytes for name in _FACET_FIELDS) + self.words.nbytes

    @property
    def width(self) -> int:
        """The bitmaps' length in 64-bit words."""
        return self.kind.bits.shape[1]


_FACET_FIELDS = ("kind", "sur", "session", "response", "action", "status", "recommending", "from_region", "org",
                 "issue")  # fmt: skip


def _pack(ids: list[int], words: int) -> np.ndarray:
    flags = np.zeros(words * 64, dtype=bool)
    flags[np.asarray(ids, dtype=np.int64)] = True
    return np.packbits(flags, bitorder="little").view(np.uint64)


def _facet(members: dict, words: int) -> FacetBits:
    keys = sorted(members, key=lambda key: (key is None, str(type(key)), key))
    bits = np.zeros((len(keys), words), dtype=np.uint64)
    for row, key in enumerate(keys):
        bits[row] = _pack(members[key], words)
    return FacetBits(keys, bits, {key: row for row, key in enumerate(keys)})


def _unions(facet: FacetBits, groups: dict[int, list[int]]) -> FacetBits:
    keys = [key for key, members in groups.items() if any(m in facet.rows for m in members)]
    bits = np.zeros((len(keys), facet.bits.shape[1]), dtype=np.uint64)
    for row, key in enumerate(keys):
        bits[row] = facet.union(groups[key])
    return FacetBits(keys, bits, {key: row for row, key in enumerate(keys)})


def bitmaps_build(version: int, reference: "Reference") -> Bitmaps:
    """Read every recommendation's facet values and search vector and make the bitmaps and the word index, in one
    snapshot of the data (a REPEATABLE READ transaction, or the caller's), taken after `version` was read: they
    never hold data older than their version."""
    if connection.in_atomic_block:
        return _build(version, reference)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return _build(version, reference)


def _build(version: int, reference: "Reference") -> Bitmaps:
    table, reviews = Recommendation._meta.db_table, Review._meta.db_table
    ids: dict[str, dict[object, list[int]]] = defaultdict(lambda: defaultdict(list))
    highest = 0
    with connection.chunked_cursor() as cursor:  # server-side: a million rows never sit in memory at once
        cursor.execute(
            f"""SELECT c.id, r.state_id, c.session_number, c.response, COALESCE(c.action_category, 0), c.kind,
                       c.implementation_status, c.recommending_state_ids, c.issue_ids
                FROM {table} c JOIN {reviews} r ON r.id = c.review_id"""  # noqa: S608 (names from the models)
        )
        sur, session, response, action = ids["sur"], ids["session"], ids["response"], ids["action"]
        kind, status, recommending, issue = ids["kind"], ids["status"], ids["recommending"], ids["issue"]
        while rows := cursor.fetchmany(20_000):
            for pk, state, number, answer, category, sort, implemented, states, issues in rows:
                sur[state].append(pk)
                session[number].append(pk)
                response[answer].append(pk)
                action[category].append(pk)
                kind[sort].append(pk)
                status[implemented].append(pk)
                for other in states or ():
                    recommending[other].append(pk)
                for subject in issues or ():
                    issue[subject].append(pk)
                highest = max(highest, pk)
    words = highest // 64 + 1
    facets = {name: _facet(ids[name], words) for name in _FACET_FIELDS if name not in ("from_region", "org")}
    regions = {region: reference.states_in_regions([region]) for region in reference.regions}
    organisations = {org: reference.states_in_organisations([org]) for org in reference.organisations}
    sessions = facets["session"]
    state_sessions = {
        state: [n for n, count in zip(sessions.keys, sessions.counts(facets["sur"].bits[row]), strict=True) if count]
        for state, row in facets["sur"].rows.items()
    }
    return Bitmaps(
        version=version,
        reference=reference,
        **facets,
        from_region=_unions(facets["recommending"], regions),
        org=_unions(facets["recommending"], organisations),
        state_sessions=state_sessions,
        words=word_index.words_build(highest),
    )


# --- The bitmaps of the current version, per process ---------------------------------------------------------

_current: Bitmaps | None = None
_building: tuple[int, int] | None = None  # the version (and reference data) a thread is building
_lock = threading.Lock()


def _build_and_keep(version: int, reference: "Reference") -> Bitmaps:
    global _current, _building
    try:
        built = bitmaps_build(version, reference)
        with _lock:
            _current = built
        return built
    finally:
        with _lock:
            if _building == (version, id(reference)):
                _building = None


def _build_in_thread(version: int, reference: "Reference") -> None:
    try:
        _build_and_keep(version, reference)
    except Exception:  # the searches keep their SQL path; the next one tries again
        logger.exception("Building the search's facet bitmaps failed")
    finally:
        connection.close()


def bitmaps_current(reference: "Reference") -> Bitmaps | None:
    """The bitmaps of the current data version, or None when the search should take its SQL path (another
    database than PostgreSQL, SEARCH_BITMAPS off, or the bitmaps being built in the background)."""
    global _building, _current
    mode = settings.SEARCH_BITMAPS
    if mode == "off" or connection.vendor != "postgresql":
        return None
    from recommendations.facets import data_version

    version = data_version()
    with _lock:
        current = _current
    if current is not None and current.reference is reference and current.version != version:
        patched = _patched(current, version)  # assessments changed a few statuses: no need to read everything
        if patched is not None:
            with _lock:
                if _current is current:
                    _current = patched
            return patched
    with _lock:
        current = _current
        if current is not None and current.version == version and current.reference is reference:
            return current
        if mode == "background" and _building == (version, id(reference)):
            return None
        _building = (version, id(reference))
    if mode == "inline":
        return _build_and_keep(version, reference)
    threading.Thread(target=_build_in_thread, args=(version, reference), daemon=True, name="search-bitmaps").start()
    return None


def _patched(current: Bitmaps, version: int) -> Bitmaps | None:
    """The bitmaps of `version` made from those of an older one when only implementation statuses changed in
    between (assessments written: recommendations.facets.statuses_changed knows which): their status bits are read
    again (one query), everything else is shared. None when something else changed."""
    from recommendations.facets import statuses_changed

    changed = statuses_changed(current.version, version)
    if changed is None:
        return None
    ids = np.array(sorted(pk for pk in changed if pk < current.width * 64), dtype=np.int64)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, implementation_status FROM {Recommendation._meta.db_table} WHERE id = ANY(%s)",  # noqa: S608
            [ids.tolist()],
        )
        now = dict(cursor.fetchall())
    status = current.status
    if any(value not in status.rows for value in now.values()):
        return None  # a status no recommendation had when the bitmaps were built: read everything
    bits = status.bits.copy()
    words, masks = ids >> 6, np.left_shift(np.uint64(1), (ids & 63).astype(np.uint64))
    for row in range(len(status.keys)):
        np.bitwise_and.at(bits[row], words, ~masks)
    for value, row in status.rows.items():
        chosen = np.array([now.get(int(pk)) == value for pk in ids], dtype=bool)
        np.bitwise_or.at(bits[row], words[chosen], masks[chosen])
    return replace(current, version=version, status=FacetBits(status.keys, bits, status.rows))


def bitmaps_forget() -> None:
    """Drop this process's bitmaps (tests)."""
    global _current, _building
    with _lock:
        _current, _building = None, None


# --- Counting ------------------------------------------------------------------------------------------------


def _chosen_bitmaps(filterset: "RecommendationFilterSet", maps: Bitmaps) -> dict[str, np.ndarray]:
    """Each chosen filter as one bitmap: the union of its values' (the same meaning as the FilterSet's)."""
    from recommendations.filters import STATUS_NONE

    ref, data = filterset.reference, filterset.form.cleaned_data
    values: dict[str, Callable[[list[str]], np.ndarray]] = {
        "sur": lambda v: maps.sur.union(ref.ids("state", v)),
        "sur_region": lambda v: maps.sur.union(ref.states_in_regions(ref.ids("region", v))),
        "from": lambda v: maps.recommending.union(ref.ids("state", v)),
        "from_region": lambda v: maps.from_region.union(ref.ids("region", v)),
        "org": lambda v: maps.org.union(ref.ids("organisation", v)),
        "session": lambda v: maps.session.union([int(n) for n in v]),
        "cycle": lambda v: maps.session.union(ref.sessions_in_cycles([int(n) for n in v])),
        "response": lambda v: maps.response.union(v),
        "action": lambda v: maps.action.union([int(n) for n in v]),
        "issue": lambda v: maps.issue.union(ref.ids("issue", v)),
        "status": lambda v: maps.status.union(["" if s == STATUS_NONE else s for s in v]),
    }
    return {name: values[name](data[name]) for name in filterset.FACETS if data.get(name)}


def _kind_bitmap(filterset: "RecommendationFilterSet", maps: Bitmaps) -> np.ndarray:
    from recommendations.filters import KIND_ANY

    kind = filterset.form.cleaned_data.get("kind") or Recommendation.Kind.RECOMMENDATION
    return maps.kind.union(maps.kind.keys if kind == KIND_ANY else [kind])


def bitmap_total(bitmap: np.ndarray) -> int:
    return int(np.bitwise_count(bitmap).sum(dtype=np.int64))


_SOURCES = {  # facet -> the bitmaps its counts come from (keyed as the SQL path keys them)
    "sur": "sur", "sur_region": "sur", "from": "recommending", "from_region": "from_region", "org": "org",
    "session": "session", "cycle": "session", "response": "response", "action": "action", "issue": "issue",
    "status": "status",
}  # fmt: skip


def _key(name: str, value) -> str:
    if name == "action" and value == 0:
        return ""  # no action category
    return str(value)


def _text_bitmap(filterset: "RecommendationFilterSet", maps: Bitmaps) -> np.ndarray:
    """The recommendations whose text matches, as a bitmap: PostgreSQL's reading of the query evaluated over the
    word index; for a shape the word index does not evaluate, their ids from PostgreSQL (one statement, the ids
    sent back as one binary string)."""
    from recommendations import search

    if search.text_problem(filterset.text):
        return np.zeros(maps.width, dtype=np.uint64)
    tree = query_tree(filterset.text)
    if tree is not None:
        return word_index.evaluate(maps.words, tree, _pack, maps.width)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT string_agg(int8send(id), ''::bytea) FROM {Recommendation._meta.db_table}
                WHERE search_vector @@ websearch_to_tsquery(%s::regconfig, %s)""",  # noqa: S608 (table name)
            [search.CONFIG, filterset.text],
        )
        (raw,) = cursor.fetchone()
    ids = np.frombuffer(raw or b"", dtype=">i8").astype(np.int64)
    ids = ids[ids < maps.width * 64]  # rows newer than the bitmaps (their version is then no longer current anyway)
    return _pack(ids, maps.width)


@functools.lru_cache(maxsize=2048)
def query_tree(text: str):
    """The tree of PostgreSQL's reading of a search text, or None when the word index does not evaluate it."""
    from recommendations import search

    try:
        return word_index.tsquery_parse(search.tsquery_text(text))
    except word_index.Unsupported:
        return None


def _base_bitmap(filterset: "RecommendationFilterSet", maps: Bitmaps) -> np.ndarray:
    """The recommendations of the search's kind whose text matches, before any facet."""
    base = _kind_bitmap(filterset, maps)
    if filterset.text:
        base &= _text_bitmap(filterset, maps)
    return base


def search_bitmap(filterset: "RecommendationFilterSet", maps: Bitmaps) -> np.ndarray:
    """The search's result (kind, text and every filter) as a bitmap: `bitmap_total` counts it, `page_ids` pages
    it, without the facets' counts."""
    main = _base_bitmap(filterset, maps)
    for bitmap in _chosen_bitmaps(filterset, maps).values():
        main &= bitmap
    return main


def bitmap_counts(filterset: "RecommendationFilterSet", maps: Bitmaps, *, page: tuple[int, int]) -> "FacetCounts":
    """The total, every facet and the ids of one page (offset, limit) of a search, from the bitmaps and the word
    index. A page past the end gives the last page's ids (`page_offset` says which)."""
    from recommendations.facets import FacetCounts, _facets

    base = _base_bitmap(filterset, maps)
    chosen = _chosen_bitmaps(filterset, maps)
    main = base.copy()
    for bitmap in chosen.values():
        main &= bitmap
    counts: dict[str, Counter] = {}
    counted: dict[tuple[str, str], np.ndarray] = {}  # sur and sur_region (session and cycle) share their counts
    for name in filterset.FACETS:
        own, which = main, "main"
        if name in chosen:  # a chosen facet counts without its own filter
            own, which = base.copy(), name
            for other, bitmap in chosen.items():
                if other != name:
                    own &= bitmap
        source = getattr(maps, _SOURCES[name])
        numbers = counted.get((_SOURCES[name], which))
        if numbers is None:
            numbers = counted[_SOURCES[name], which] = source.counts(own)
        counts[name] = Counter({_key(name, k): int(n) for k, n in zip(source.keys, numbers, strict=True) if n})
    total = bitmap_total(main)
    offset, limit = page
    if limit and offset >= total:
        offset = max(0, (total - 1) // limit * limit)
    return FacetCounts(
        total=total,
        facets=_facets(filterset, counts),
        page_ids=page_ids(filterset, maps, main, offset, limit),
        page_offset=offset,
    )


# --- Pages in the search's order -------------------------------------------------------------------------------


_BIT_NUMBERS = np.arange(64, dtype=np.int64)


def _positions(bitmap: np.ndarray) -> np.ndarray:
    """The set bits' positions (recommendation ids), lowest first (unpacking only the words that have any)."""
    words = np.flatnonzero(bitmap)
    flags = np.unpackbits(bitmap[words].view(np.uint8), bitorder="little").reshape(-1, 64).astype(bool)
    return (words[:, None] * 64 + _BIT_NUMBERS)[flags]


def _slices(parts: Iterator[tuple[np.ndarray, int, bool]], offset: int, limit: int) -> list[int]:
    """Ids from consecutive parts of the result (bitmap, its count, ascending or not), from `offset` on."""
    ids: list[int] = []
    for bitmap, count, ascending in parts:
        if offset >= count:
            offset -= count
            continue
        positions = _positions(bitmap)
        if not ascending:
            positions = positions[::-1]
        taken = positions[offset : offset + limit - len(ids)]
        ids.extend(int(pk) for pk in taken)
        if len(ids) == limit:
            break
        offset = 0
    return ids


def _by_session(main: np.ndarray, maps: Bitmaps, numbers: list[int], ascending: bool):
    counts = dict(zip(maps.session.keys, maps.session.counts(main), strict=True))
    for number in numbers:
        if counts.get(number):
            yield main & maps.session.bits[maps.session.rows[number]], int(counts[number]), ascending


def _ranked(
    filterset: "RecommendationFilterSet", maps: Bitmaps, main: np.ndarray, offset: int, limit: int
) -> list[int]:
    """One page of the main set by relevance, as the SQL path orders it (ts_rank_cd, then newest first): in memory
    for one word or phrase (by its number of matches, then as date), else ranked by PostgreSQL."""
    from recommendations import search

    tree = query_tree(filterset.text)
    term = word_index.single_term(tree) if tree is not None else None
    if term is not None:
        return _slices(_by_frequency(maps, main, term), offset, limit)
    ids = _positions(main).tolist()
    if not ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT id FROM {Recommendation._meta.db_table} WHERE id = ANY(%s)
                ORDER BY ts_rank_cd(search_vector, websearch_to_tsquery(%s::regconfig, %s)) DESC,
                         session_number DESC, id
                LIMIT %s OFFSET %s""",  # noqa: S608 (table name)
            [ids, search.CONFIG, filterset.text, limit, offset],
        )
        return [pk for (pk,) in cursor.fetchall()]


def _by_frequency(maps: Bitmaps, main: np.ndarray, term):
    """The main set in parts: those holding `term` (a word or a phrase) most often first (ts_rank_cd's order for
    one), each part newest session first and by id."""
    ids, counts = word_index.term_frequencies(maps.words, term)
    chosen = ((main[ids >> 6] >> (ids & 63).astype(np.uint64)) & np.uint64(1)).astype(bool)
    ids, counts = ids[chosen], counts[chosen]
    newest_first = sorted((n for n in maps.session.keys if n is not None), reverse=True)
    for frequency in np.unique(counts)[::-1]:
        yield from _by_session(_pack(ids[counts == frequency], maps.width), maps, newest_first, ascending=True)


def page_ids(
    filterset: "RecommendationFilterSet", maps: Bitmaps, main: np.ndarray, offset: int, limit: int
) -> list[int]:
    """The ids of one page in the FilterSet's order: newest session first and by id within it (date), the reverse
    (oldest), or by the state's name, then as date (state). Whole sessions or states before the page are skipped
    by their counts alone."""
    from recommendations.filters import SORT_OLDEST, SORT_RELEVANCE, SORT_STATE

    if not limit:
        return []
    order = filterset.order
    if order == SORT_RELEVANCE:
        return _ranked(filterset, maps, main, offset, limit)
    newest_first = sorted((n for n in maps.session.keys if n is not None), reverse=True)
    if order == SORT_OLDEST:
        return _slices(_by_session(main, maps, newest_first[::-1], ascending=False), offset, limit)
    if order != SORT_STATE:
        return _slices(_by_session(main, maps, newest_first, ascending=True), offset, limit)
    per_state = dict(zip(maps.sur.keys, maps.sur.counts(main), strict=True))
    states = sorted(
        (s for s in filterset.reference.states.values() if per_state.get(s.pk)), key=lambda s: (s.short_name, s.pk)
    )
    ids: list[int] = []
    for state in states:
        count = int(per_state[state.pk])
        if offset >= count:  # the whole state comes before the page
            offset -= count
            continue
        of_state = main & maps.sur.bits[maps.sur.rows[state.pk]]
        sessions = sorted(maps.state_sessions[state.pk], reverse=True)
        ids += _slices(_by_session(of_state, maps, sessions, ascending=True), offset, limit - len(ids))
        offset = 0
        if len(ids) == limit:
            break
    return ids
