"""Facets of the recommendation search: for each filter, its values with how many results each would give.

All facets and the total come from one SQL statement: the filtered recommendations are written once as a common
table expression (PostgreSQL materialises it, as it is read several times), and each facet is a GROUP BY over it,
joined to the link tables for recommending states, their groups and organisations, and issues. Facets derived
from another (regional group of the state under review from the state, cycle from the session) are summed here
from the reference data rather than joined again.

A facet with values chosen counts without its own filter ("disjunctive" facets, as shops do): choosing France
as state under review still shows how many results Germany would add. Each such facet adds one CTE to the same
statement.
"""

import functools
import hashlib
import json
import logging
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models.expressions import RawSQL
from django.http import QueryDict

from recommendations import search
from recommendations.models import Issue, Recommendation
from reviews.models import Cycle, IntergovernmentalOrganisation, RegionalGroup, Review, Session, State
from uprtrax.cache import cache_available

if TYPE_CHECKING:
    from recommendations.filters import RecommendationFilterSet

logger = logging.getLogger(__name__)


@dataclass
class Reference:
    """The small tables that filters and facets name values from, loaded once per request (six small queries)."""

    states: dict[int, State]
    regions: dict[int, RegionalGroup]
    organisations: dict[int, IntergovernmentalOrganisation]
    organisation_states: dict[int, set[int]]  # organisation id -> member state ids
    sessions: dict[int, Session]  # by number
    cycles: dict[int, Cycle]  # by number
    issues: dict[int, Issue]
    _codes: dict[str, dict[str, int]] = field(default_factory=dict)

    def __post_init__(self):
        self._codes = {
            "state": {s.iso3: pk for pk, s in self.states.items()},
            "region": {r.code.upper(): pk for pk, r in self.regions.items()},
            "organisation": {o.acronym.upper(): pk for pk, o in self.organisations.items()},
            "issue": {i.slug: pk for pk, i in self.issues.items()},
        }

    def ids(self, kind: str, codes: list[str]) -> list[int]:
        return [self._codes[kind][code] for code in codes if code in self._codes[kind]]

    def states_in_regions(self, region_ids: list[int]) -> list[int]:
        return [pk for pk, state in self.states.items() if state.regional_group_id in region_ids]

    def states_in_organisations(self, organisation_ids: list[int]) -> list[int]:
        return sorted(set().union(*(self.organisation_states.get(pk, set()) for pk in organisation_ids)))

    def sessions_in_cycles(self, cycle_numbers: list[int]) -> list[int]:
        return [n for n, session in self.sessions.items() if session.cycle.number in cycle_numbers]

    # Choices for the filter form: (code, label), built once per Reference (the FilterSet reads them lazily).
    @functools.cached_property
    def _choices(self) -> dict[str, list[tuple[str, str]]]:
        return {
            "state": [(s.iso3, s.short_name) for s in sorted(self.states.values(), key=lambda s: s.short_name)],
            "region": [(r.code.upper(), r.name) for r in self.regions.values()],
            "organisation": [(o.acronym.upper(), o.acronym) for o in self.organisations.values()],
            "session": [(str(n), f"Session {n} ({s.year})") for n, s in sorted(self.sessions.items())],
            "cycle": [(str(n), f"Cycle {n}") for n in sorted(self.cycles)],
            "issue": [(i.slug, i.name) for i in self.issues.values()],
        }

    def state_choices(self):
        return self._choices["state"]

    def region_choices(self):
        return self._choices["region"]

    def organisation_choices(self):
        return self._choices["organisation"]

    def session_choices(self):
        return self._choices["session"]

    def cycle_choices(self):
        return self._choices["cycle"]

    def issue_choices(self):
        return self._choices["issue"]


def _reference_read() -> Reference:
    links = State.organisations.through.objects.values_list("intergovernmentalorganisation_id", "state_id")
    organisation_states: dict[int, set[int]] = defaultdict(set)
    for organisation_id, state_id in links:
        organisation_states[organisation_id].add(state_id)
    sessions = Session.objects.select_related("cycle").order_by("number")
    return Reference(
        states={s.pk: s for s in State.objects.only("iso3", "short_name", "regional_group_id")},
        regions={r.pk: r for r in RegionalGroup.objects.order_by("name")},
        organisations={o.pk: o for o in IntergovernmentalOrganisation.objects.order_by("acronym")},
        organisation_states=dict(organisation_states),
        sessions={s.number: s for s in sessions},
        cycles={s.cycle.number: s.cycle for s in sessions},
        issues={i.pk: i for i in Issue.objects.order_by("name")},
    )


_FINGERPRINT_TABLES = (State, RegionalGroup, IntergovernmentalOrganisation, State.organisations.through, Session,
                       Cycle, Issue)  # fmt: skip
_reference_cache: dict[tuple, Reference] = {}
_reference_lock = threading.Lock()


def _fingerprint() -> tuple:
    """One cheap query that changes whenever a reference table gains, loses or replaces rows."""
    parts = ", ".join(
        f"(SELECT COUNT(*) FROM {m._meta.db_table}), (SELECT MAX(id) FROM {m._meta.db_table})"  # noqa: S608
        for m in _FINGERPRINT_TABLES
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {parts}")
        return (connection.alias, *cursor.fetchone())


def reference_load() -> Reference:
    """The reference tables for filters and facets, read once per process and again when they change (one query
    per request tells: the counts and highest ids of the tables). reference_data_load() renames nothing in
    place without changing them, and clears the cache itself."""
    key = _fingerprint()
    with _reference_lock:
        reference = _reference_cache.get(key)
    if reference is None:
        reference = _reference_read()
        with _reference_lock:
            _reference_cache.clear()
            _reference_cache[key] = reference
    return reference


def reference_cache_clear() -> None:
    with _reference_lock:
        _reference_cache.clear()


# --- Cache ------------------------------------------------------------------------------------------------------

_VERSION_KEY = "uprtrax:search:data-version"
_WARM_PENDING_KEY = "uprtrax:search:warm-pending"
# The warm-up waits this long after a change, so that a burst of changes (CSO staff saving assessments one after
# another, a bulk of 500) queues one warm-up, not one per change.
WARM_DELAY_SECONDS = 10


_CHANGES_KEY = "uprtrax:search:changes:{version}"
_version_seen = 0  # the data version this process read last (data_version)
CHANGES_KEPT_SECONDS = 3600


def search_data_changed(*, statuses_of: Iterable[int] | None = None) -> None:
    """Forget every cached facet count (imports, assessments and the generator call this after they commit), and
    count the unfiltered page's again in the background: one warm-up for all the changes of the next few seconds.

    `statuses_of`: the change was only the implementation status of these recommendations (assessments written).
    The new version then records them, so that the search's bitmaps are patched instead of built again
    (recommendations.bitmaps)."""
    try:
        version = cache.incr(_VERSION_KEY)
    except ValueError:  # not set yet (or evicted): any new value makes the old keys unreachable
        version = None
        cache.set(_VERSION_KEY, int(time.time() * 1000), timeout=None)
    if version is not None and statuses_of is not None:
        cache.set(_CHANGES_KEY.format(version=version), sorted(set(statuses_of)), timeout=CHANGES_KEPT_SECONDS)
    if settings.SEARCH_CACHE_SECONDS and cache.add(_WARM_PENDING_KEY, 1, timeout=WARM_DELAY_SECONDS * 30):
        from recommendations.tasks import search_facets_warm

        try:
            search_facets_warm.apply_async(countdown=WARM_DELAY_SECONDS)
        except Exception:  # a broker that is down: the warm-up only saves a visitor's wait, never fail the write
            logger.warning("The search's warm-up could not be queued", exc_info=True)
            cache.delete(_WARM_PENDING_KEY)


def search_warm_started() -> None:
    """The warm-up has begun: a change from now on queues another (the one running may have read older data)."""
    cache.delete(_WARM_PENDING_KEY)


def statuses_changed(after: int, until: int) -> set[int] | None:
    """The recommendations whose status alone changed from version `after` to `until`, or None when some change
    in between was of another kind or is no longer known (then everything must be read again)."""
    if not 0 < until - after <= 200:
        return None
    logged = cache.get_many([_CHANGES_KEY.format(version=v) for v in range(after + 1, until + 1)])
    if len(logged) != until - after:
        return None
    return {pk for ids in logged.values() for pk in ids}


def data_version() -> int:
    """The version of the recommendations and assessments that search_data_changed() moves on: a cached count
    keyed by it is dropped whenever the data changes (the state and session pages use it too). While the cache is
    unavailable (Redis down), the last version this process read: a new one at every call would have every search
    build the bitmaps again (recommendations.bitmaps)."""
    global _version_seen
    version = cache.get_or_set(_VERSION_KEY, lambda: int(time.time() * 1000), timeout=None)
    if not cache_available():
        return _version_seen
    _version_seen = version
    return version


def search_facets_warm() -> None:
    """Put the unfiltered search's facets in the cache (what most visitors of the search page see first)."""
    from recommendations.filters import RecommendationFilterSet

    filterset = RecommendationFilterSet(QueryDict(), queryset=Recommendation.objects.all())
    filterset.is_valid()
    counted = facet_counts(filterset)
    cache.set(cache_key(filterset), replace(counted, page_ids=None), timeout=settings.SEARCH_CACHE_SECONDS)


def cache_key(filterset: "RecommendationFilterSet") -> str:
    """The key of a search's facets: its filters in a canonical order (not the page or the order), and the data
    version."""
    data = filterset.form.cleaned_data
    canonical = {name: sorted(map(str, value)) if isinstance(value, list) else str(value or "")
                 for name, value in sorted(data.items()) if name != "sort"}  # fmt: skip
    digest = hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()[:32]
    return f"uprtrax:search:facets:{data_version()}:{digest}"


# --- Counting --------------------------------------------------------------------------------------------------

# Each CTE has these columns; on PostgreSQL also from_ids and issue_ids (arrays kept by triggers, migration 0007).
_COLUMNS = "id, review, session, response, action, kind, status"
_REC_COLUMNS = ("id", "review_id", "session_number", "response", "action_category", "kind",
                "implementation_status")  # fmt: skip
ROW_ARRAYS = {  # each row's recommending states and issues (migration 0007), as annotations
    "from_ids": RawSQL(f'"{Recommendation._meta.db_table}"."recommending_state_ids"', ()),  # noqa: S611 (constant)
    "issue_ids": RawSQL(f'"{Recommendation._meta.db_table}"."issue_ids"', ()),  # noqa: S611 (constant)
}

# Grouping source -> SQL over a CTE named {m}; table names are filled in from the models.
_GROUPINGS = {
    # By review first (no join per row), then the few reviews to their states.
    "sur": "SELECT '{tag}', CAST(r.state_id AS TEXT), CAST(SUM(c.n) AS BIGINT) FROM "
    "(SELECT review, COUNT(*) AS n FROM {m} GROUP BY review) c JOIN {reviews} r ON r.id = c.review GROUP BY r.state_id",
    "session": "SELECT '{tag}', CAST(session AS TEXT), COUNT(*) FROM {m} GROUP BY session",
    "response": "SELECT '{tag}', response, COUNT(*) FROM {m} GROUP BY response",
    "action": "SELECT '{tag}', CAST(action AS TEXT), COUNT(*) FROM {m} GROUP BY action",
    "kind": "SELECT '{tag}', kind, COUNT(*) FROM {m} GROUP BY kind",
    "status": "SELECT '{tag}', status, COUNT(*) FROM {m} GROUP BY status",
}
# Through the link tables (portable), or through the arrays on the rows (PostgreSQL: no join with the big tables).
_LINKED = {
    "from": "SELECT '{tag}', CAST(l.state_id AS TEXT), COUNT(*) FROM {m} "
    "JOIN {links} l ON l.recommendation_id = {m}.id GROUP BY l.state_id",
    "from_region": "SELECT '{tag}', CAST(s.regional_group_id AS TEXT), COUNT(DISTINCT {m}.id) FROM {m} "
    "JOIN {links} l ON l.recommendation_id = {m}.id JOIN {state} s ON s.id = l.state_id "
    "GROUP BY s.regional_group_id",
    "org": "SELECT '{tag}', CAST(o.intergovernmentalorganisation_id AS TEXT), COUNT(DISTINCT {m}.id) FROM {m} "
    "JOIN {links} l ON l.recommendation_id = {m}.id JOIN {state_orgs} o ON o.state_id = l.state_id "
    "GROUP BY o.intergovernmentalorganisation_id",
    "issue": "SELECT '{tag}', CAST(i.issue_id AS TEXT), COUNT(*) FROM {m} "
    "JOIN {issue_links} i ON i.recommendation_id = {m}.id GROUP BY i.issue_id",
}
_ARRAYED = {
    "from": "SELECT '{tag}', CAST(x AS TEXT), COUNT(*) FROM {m} CROSS JOIN LATERAL unnest({m}.from_ids) x GROUP BY x",
    "from_region": "SELECT '{tag}', CAST(g AS TEXT), COUNT(*) FROM (SELECT DISTINCT {m}.id, s.regional_group_id AS g "
    "FROM {m} CROSS JOIN LATERAL unnest({m}.from_ids) x JOIN {state} s ON s.id = x) d GROUP BY g",
    "org": "SELECT '{tag}', CAST(g AS TEXT), COUNT(*) FROM (SELECT DISTINCT {m}.id, o.intergovernmentalorganisation_id "
    "AS g FROM {m} CROSS JOIN LATERAL unnest({m}.from_ids) x JOIN {state_orgs} o ON o.state_id = x) d GROUP BY g",
    "issue": "SELECT '{tag}', CAST(x AS TEXT), COUNT(*) FROM {m} CROSS JOIN LATERAL unnest({m}.issue_ids) x GROUP BY x",
}
# The main set's facets on PostgreSQL, from two small summaries of it rather than one scan per facet: `cells`,
# its rows counted by every single-valued facet at once (a few thousand cells), and `sets`/`issue_sets`, its
# rows counted by their whole array of recommending states or issues (a few thousand distinct arrays). A group
# or organisation counts a recommendation once however many of its members made it: DISTINCT per array.
_SUMMARIES = (
    "cells AS MATERIALIZED (SELECT review, session, response, action, kind, status, COUNT(*) AS n FROM m "
    "GROUP BY review, session, response, action, kind, status)",
    "sets AS MATERIALIZED (SELECT from_ids, COUNT(*) AS n FROM m GROUP BY from_ids)",
    "issue_sets AS MATERIALIZED (SELECT issue_ids, COUNT(*) AS n FROM m GROUP BY issue_ids)",
)
_SUMMARISED = {
    "total": "SELECT 'total', '', CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM cells",
    "sur": "SELECT '{tag}', CAST(r.state_id AS TEXT), CAST(SUM(c.n) AS BIGINT) FROM cells c "
    "JOIN {reviews} r ON r.id = c.review GROUP BY r.state_id",
    **{
        name: f"SELECT '{{tag}}', CAST({name} AS TEXT), CAST(SUM(n) AS BIGINT) FROM cells GROUP BY {name}"  # noqa: S608
        for name in ("session", "response", "action", "kind", "status")
    },
    "from": "SELECT '{tag}', CAST(x AS TEXT), CAST(SUM(n) AS BIGINT) FROM sets CROSS JOIN LATERAL unnest(from_ids) x "
    "GROUP BY x",
    "from_region": "SELECT '{tag}', CAST(g AS TEXT), CAST(SUM(n) AS BIGINT) FROM (SELECT DISTINCT sets.from_ids, "
    "sets.n, s.regional_group_id AS g FROM sets CROSS JOIN LATERAL unnest(from_ids) x JOIN {state} s ON s.id = x) d "
    "GROUP BY g",
    "org": "SELECT '{tag}', CAST(g AS TEXT), CAST(SUM(n) AS BIGINT) FROM (SELECT DISTINCT sets.from_ids, sets.n, "
    "o.intergovernmentalorganisation_id AS g FROM sets CROSS JOIN LATERAL unnest(from_ids) x "
    "JOIN {state_orgs} o ON o.state_id = x) d GROUP BY g",
    "issue": "SELECT '{tag}', CAST(x AS TEXT), CAST(SUM(n) AS BIGINT) FROM issue_sets "
    "CROSS JOIN LATERAL unnest(issue_ids) x GROUP BY x",
}
_TABLES = {
    "links": Recommendation.recommending_states.through._meta.db_table,
    "issue_links": Recommendation.issues.through._meta.db_table,
    "state": State._meta.db_table,
    "state_orgs": State.organisations.through._meta.db_table,
    "reviews": Review._meta.db_table,
}
_SOURCE = {"sur_region": "sur", "cycle": "session"}  # facet -> the grouping it is summed from


@dataclass
class FacetValue:
    code: str
    label: str
    count: int
    selected: bool


@dataclass
class Facet:
    name: str
    label: str
    values: list[FacetValue]

    @property
    def selected(self) -> list[FacetValue]:
        return [v for v in self.values if v.selected]


@dataclass
class FacetCounts:
    total: int
    facets: dict[str, Facet]
    page_ids: list[int] | None = None  # the ids of the page asked for, when the statement gave them
    page_offset: int | None = None  # where page_ids begin, when not where the page asked for does (past the end)


def _sql(queryset, *, arrays: bool, rank: RawSQL | None = None) -> tuple[str, list]:
    extra = {**(ROW_ARRAYS if arrays else {}), **({"rank": rank} if rank is not None else {})}
    columns = queryset.order_by().values(*_REC_COLUMNS, **extra)
    try:
        sql, params = columns.query.sql_with_params()
    except EmptyResultSet:  # a filter that can match nothing (a query of stop words only, say)
        empty = "SELECT 0, 0, 0, '', 0, '', ''" + (", NULL::bigint[], NULL::bigint[]" if arrays else "")
        empty += ", 0.0::real" if rank is not None else ""
        return f"{empty} WHERE 1 = 0", []
    return sql, list(params)


_CTE_COLUMNS = {"review": "review", "session": "session", "response": "response", "action": "action",
                "status": "status", "from_ids": "from_ids", "issue_ids": "issue_ids"}  # fmt: skip
_TABLE_COLUMNS = {
    name: f'"{Recommendation._meta.db_table}"."{column}"'
    for name, column in (("review", "review_id"), ("session", "session_number"), ("response", "response"),
                         ("action", "action_category"), ("status", "implementation_status"),
                         ("from_ids", "recommending_state_ids"), ("issue_ids", "issue_ids"))
}  # fmt: skip


def _predicates(filterset: "RecommendationFilterSet", columns: dict = _CTE_COLUMNS) -> dict[str, tuple[str, list]]:
    """The chosen facets' filters as SQL over a CTE's columns, or the table's (PostgreSQL): the same meaning as the
    FilterSet's."""
    from recommendations.filters import STATUS_NONE

    ref, data, c = filterset.reference, filterset.form.cleaned_data, columns
    of_states = f"{c['review']} IN (SELECT id FROM {Review._meta.db_table} WHERE state_id = ANY(%s))"  # noqa: S608
    ids = {
        "sur": lambda v: (of_states, ref.ids("state", v)),
        "sur_region": lambda v: (of_states, ref.states_in_regions(ref.ids("region", v))),
        "from": lambda v: (f"{c['from_ids']} && %s::bigint[]", ref.ids("state", v)),
        "from_region": lambda v: (f"{c['from_ids']} && %s::bigint[]", ref.states_in_regions(ref.ids("region", v))),
        "org": lambda v: (f"{c['from_ids']} && %s::bigint[]", ref.states_in_organisations(ref.ids("organisation", v))),
        "session": lambda v: (f"{c['session']} = ANY(%s)", [int(n) for n in v]),
        "cycle": lambda v: (f"{c['session']} = ANY(%s)", ref.sessions_in_cycles([int(n) for n in v])),
        "response": lambda v: (f"{c['response']} = ANY(%s)", list(v)),
        "action": lambda v: (f"{c['action']} = ANY(%s)", [int(n) for n in v]),
        "issue": lambda v: (f"{c['issue_ids']} && %s::bigint[]", ref.ids("issue", v)),
        "status": lambda v: (f"{c['status']} = ANY(%s)", ["" if s == STATUS_NONE else s for s in v]),
    }
    return {name: (sql, [values]) for name in filterset.FACETS if data.get(name)
            for sql, values in [ids[name](data[name])]}  # fmt: skip


def _where(predicates: dict[str, tuple[str, list]], leave_out: str = "") -> tuple[str, list]:
    chosen = [(sql, params) for name, (sql, params) in predicates.items() if name != leave_out]
    if not chosen:
        return "", []
    return " WHERE " + " AND ".join(sql for sql, _ in chosen), [p for _, params in chosen for p in params]


def _page_select(filterset: "RecommendationFilterSet", offset: int, limit: int) -> tuple[str, list]:
    """The ids of one page of the main set, in the FilterSet's order (the same as RecommendationFilterSet._ordered),
    numbered so that the order survives UNION ALL."""
    from recommendations.filters import SORT_OLDEST, SORT_RELEVANCE, SORT_STATE

    newest = "m.session DESC, m.id"
    join, params = "", []
    order = filterset.order
    if order == SORT_RELEVANCE:  # ranked in m0, for the rows that pass every filter
        order_by = f"m.rank DESC, {newest}"
    elif order == SORT_OLDEST:
        order_by = "m.session, m.id DESC"
    elif order == SORT_STATE:
        join = f"JOIN {Review._meta.db_table} v ON v.id = m.review JOIN {State._meta.db_table} s ON s.id = v.state_id"
        order_by = f"s.short_name, {newest}"
    else:
        order_by = newest
    numbered = f"SELECT m.id, ROW_NUMBER() OVER (ORDER BY {order_by}) AS n FROM m {join}"  # noqa: S608
    sql = f"SELECT 'page', CAST(id AS TEXT), n FROM ({numbered} ORDER BY n LIMIT %s OFFSET %s) p"  # noqa: S608
    return sql, [*params, limit, offset]


def _rank_of_the_chosen(filterset: "RecommendationFilterSet") -> RawSQL | None:
    """ts_rank_cd of the text for the matches that pass every filter (only they can be on the page), NULL for the
    others: ranking is costly, and reading the rows again for it costs more."""
    from recommendations.filters import SORT_RELEVANCE

    if filterset.order != SORT_RELEVANCE:
        return None
    where, params = _where(_predicates(filterset, _TABLE_COLUMNS))
    rank = (
        f"ts_rank_cd({_TABLE_COLUMNS['review'].split('.')[0]}.search_vector, websearch_to_tsquery(%s::regconfig, %s))"
    )
    if not where:
        return RawSQL(rank, (search.CONFIG, filterset.text))  # noqa: S611 (constants; values are parameters)
    condition = where.removeprefix(" WHERE ")
    return RawSQL(f"CASE WHEN {condition} THEN {rank} END", (*params, search.CONFIG, filterset.text))  # noqa: S611


def _statement_postgres(
    filterset: "RecommendationFilterSet", chosen: list[str], page: tuple[int, int]
) -> tuple[str, list]:
    """With a text search: the matches are read once (m0) and every facet filters them in memory; without one,
    each set is its own indexed query (reading every recommendation once would cost more)."""
    groupings = {**_GROUPINGS, **_ARRAYED}
    columns = f"{_COLUMNS}, from_ids, issue_ids"
    if filterset.text:
        rank = _rank_of_the_chosen(filterset)
        if rank is not None:
            columns += ", rank"
        sql, params = _sql(filterset.base_queryset(), arrays=True, rank=rank)
        predicates = _predicates(filterset)
        where, where_params = _where(predicates)
        ctes = [f"m0 ({columns}) AS MATERIALIZED ({sql})", f"m AS MATERIALIZED (SELECT * FROM m0{where})"]  # noqa: S608
        params += where_params
        own = []
        for name in chosen:
            where, where_params = _where(predicates, leave_out=name)
            own.append((name, f"(SELECT * FROM m0{where}) AS {name}_set", where_params))  # noqa: S608
    else:
        sql, params = _sql(filterset.qs, arrays=True)
        ctes = [f"m ({columns}) AS MATERIALIZED ({sql})"]
        own = []
        for name in chosen:
            sql, own_params = _sql(filterset.without(name).qs, arrays=True)
            own.append((name, f"({sql}) AS {name}_set ({columns})", own_params))
    ctes += _SUMMARIES
    selects = [g.format(tag=k, **_TABLES) for k, g in _SUMMARISED.items()]
    for name, source_sql, own_params in own:
        grouping = groupings[_SOURCE.get(name, name)]
        alias = f"{name}_set"
        selects.append(
            grouping.replace("FROM {m}", f"FROM {source_sql}", 1).format(tag=f"{name}:own", m=alias, **_TABLES)
        )
        params += own_params
    page_sql, page_params = _page_select(filterset, *page)
    selects.append(page_sql)
    params += page_params
    return f"WITH {', '.join(ctes)} " + " UNION ALL ".join(selects), params


def _statement_portable(filterset: "RecommendationFilterSet", chosen: list[str]) -> tuple[str, list]:
    """SQLite: one CTE per set, facets joined to the link tables."""
    groupings = {**_GROUPINGS, **_LINKED}
    sql, params = _sql(filterset.qs, arrays=False)
    ctes = [f"m ({_COLUMNS}) AS ({sql})"]
    selects = [
        "SELECT 'total', '', COUNT(*) FROM m",
        *(g.format(tag=k, m="m", **_TABLES) for k, g in groupings.items()),
    ]
    for index, name in enumerate(chosen):
        sql, own_params = _sql(filterset.without(name).qs, arrays=False)
        ctes.append(f"m{index} ({_COLUMNS}) AS ({sql})")
        params += own_params
        selects.append(groupings[_SOURCE.get(name, name)].format(tag=f"{name}:own", m=f"m{index}", **_TABLES))
    return f"WITH {', '.join(ctes)} " + " UNION ALL ".join(selects), params


def facet_counts(filterset: "RecommendationFilterSet", *, page: tuple[int, int] = (0, 0)) -> FacetCounts:
    """The total and every facet of a valid FilterSet, in one statement; on PostgreSQL also the ids of the page
    (offset, limit) asked for, so that the text search runs once."""
    chosen = [name for name in filterset.FACETS if filterset.form.cleaned_data.get(name)]
    postgres = connection.vendor == "postgresql"
    if postgres:
        statement, params = _statement_postgres(filterset, chosen, page)
    else:
        statement, params = _statement_portable(filterset, chosen)
    with transaction.atomic(), connection.cursor() as cursor:
        if postgres:  # the matches of a broad word are tens of megabytes: keep them in memory
            cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(statement, params)
        rows = cursor.fetchall()
    counts: dict[str, Counter] = defaultdict(Counter)
    total = 0
    numbered = []
    for tag, key, count in rows:
        if tag == "total":
            total = count
        elif tag == "page":
            numbered.append((count, int(key)))
        else:
            counts[tag.split(":")[0] if ":" in tag else f"={tag}"][key] = count
    # counts["=source"]: the main set's groupings; counts[facet]: a chosen facet's own (disjunctive) counts.
    own = {name: counts[name] if name in chosen else counts[f"={_SOURCE.get(name, name)}"] for name in filterset.FACETS}
    page_ids = [pk for _, pk in sorted(numbered)] if postgres else None
    return FacetCounts(total=total, facets=_facets(filterset, own), page_ids=page_ids)


def _facets(filterset: "RecommendationFilterSet", counts: dict[str, Counter]) -> dict[str, Facet]:
    """Facet values with labels, from each facet's counts (keys as SQL gave them: ids, numbers or codes)."""
    from recommendations.filters import ACTION_CHOICES, RESPONSE_CHOICES, STATUS_CHOICES, STATUS_NONE

    ref = filterset.reference
    data = filterset.form.cleaned_data

    def objects_counted(name: str, objects: dict) -> list[tuple[object, int]]:
        return [(objects[int(k)], n) for k, n in counts[name].items() if k and k != "None" and int(k) in objects]

    def listed(name: str, pairs, everything, code, label) -> list[FacetValue]:
        chosen = set(data.get(name) or [])
        totals: Counter = Counter()
        for obj, n in pairs:
            totals[code(obj)] += n
        values = [FacetValue(code(o), label(o), totals[code(o)], code(o) in chosen) for o in everything
                  if totals[code(o)] or code(o) in chosen]  # fmt: skip
        return values

    def by_code(name: str, choices) -> list[FacetValue]:
        chosen = set(data.get(name) or [])
        found = {(STATUS_NONE if name == "status" and k == "" else k): n for k, n in counts[name].items()}
        return [
            FacetValue(c, label, found.get(c, 0), c in chosen) for c, label in choices if found.get(c) or c in chosen
        ]

    states, regions = ref.states, ref.regions
    sessions_by_number = {str(n): s for n, s in ref.sessions.items()}

    def sessions_counted(name: str) -> list[tuple[Session, int]]:
        return [(sessions_by_number[k], n) for k, n in counts[name].items() if k in sessions_by_number]

    def state_regions(name: str):
        return [(regions[s.regional_group_id], n) for s, n in objects_counted(name, states)]

    facets = {
        "sur": listed("sur", objects_counted("sur", states), states.values(), _iso3, _short_name),
        "sur_region": listed("sur_region", state_regions("sur_region"), regions.values(), _region_code, _name),
        "from": listed("from", objects_counted("from", states), states.values(), _iso3, _short_name),
        "from_region": listed(
            "from_region", objects_counted("from_region", regions), regions.values(), _region_code, _name
        ),
        "org": listed("org", objects_counted("org", ref.organisations), ref.organisations.values(), _acronym, _acronym),
        "session": listed("session", sessions_counted("session"), ref.sessions.values(), _session_code, _session_label),
        "cycle": listed(
            "cycle",
            [(s.cycle, n) for s, n in sessions_counted("cycle")],
            ref.cycles.values(),
            _cycle_code,
            _cycle_label,
        ),
        "response": by_code("response", RESPONSE_CHOICES),
        "action": by_code("action", ACTION_CHOICES),
        "issue": listed("issue", objects_counted("issue", ref.issues), ref.issues.values(), _slug, _name),
        "status": by_code("status", STATUS_CHOICES),
    }
    return {name: Facet(name, filterset.filters[name].label, _ordered(name, v)) for name, v in facets.items()}


def _iso3(state):
    return state.iso3


def _short_name(state):
    return state.short_name


def _region_code(region):
    return region.code.upper()


def _name(obj):
    return obj.name


def _acronym(organisation):
    return organisation.acronym.upper()


def _slug(issue):
    return issue.slug


def _session_code(session):
    return str(session.number)


def _session_label(session):
    return f"Session {session.number} ({session.year})"


def _cycle_code(cycle):
    return str(cycle.number)


def _cycle_label(cycle):
    return f"Cycle {cycle.number}"


_NATURAL_ORDER = {"session", "cycle", "response", "action", "status"}


def _ordered(name: str, values: list[FacetValue]) -> list[FacetValue]:
    """Chosen first; then most results first, except for facets with an order of their own (sessions, ...)."""
    if name in _NATURAL_ORDER:
        if name == "session":
            return sorted(values, key=lambda v: -int(v.code))
        return values
    return sorted(values, key=lambda v: (not v.selected, -v.count, v.label))
