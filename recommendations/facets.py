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

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import EmptyResultSet
from django.db import connection

from recommendations.models import Issue, Recommendation
from reviews.models import Cycle, IntergovernmentalOrganisation, RegionalGroup, Session, State

if TYPE_CHECKING:
    from recommendations.filters import RecommendationFilterSet


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

    # Choices for the filter form: (code, label).
    def state_choices(self):
        return [(s.iso3, s.short_name) for s in sorted(self.states.values(), key=lambda s: s.short_name)]

    def region_choices(self):
        return [(r.code.upper(), r.name) for r in self.regions.values()]

    def organisation_choices(self):
        return [(o.acronym.upper(), o.acronym) for o in self.organisations.values()]

    def session_choices(self):
        return [(str(n), f"Session {n} ({s.year})") for n, s in sorted(self.sessions.items())]

    def cycle_choices(self):
        return [(str(n), f"Cycle {n}") for n in sorted(self.cycles)]

    def issue_choices(self):
        return [(i.slug, i.name) for i in self.issues.values()]


def reference_load() -> Reference:
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


# --- Counting --------------------------------------------------------------------------------------------------

_REC_COLUMNS = ("id", "review__state_id", "session_number", "response", "action_category", "kind",
                "implementation_status")  # fmt: skip

# Grouping source -> SQL over a CTE named {m}; table names are filled in from the models.
_GROUPINGS = {
    "sur": "SELECT '{tag}', CAST(sur AS TEXT), COUNT(*) FROM {m} GROUP BY sur",
    "session": "SELECT '{tag}', CAST(session AS TEXT), COUNT(*) FROM {m} GROUP BY session",
    "response": "SELECT '{tag}', response, COUNT(*) FROM {m} GROUP BY response",
    "action": "SELECT '{tag}', CAST(action AS TEXT), COUNT(*) FROM {m} GROUP BY action",
    "kind": "SELECT '{tag}', kind, COUNT(*) FROM {m} GROUP BY kind",
    "status": "SELECT '{tag}', status, COUNT(*) FROM {m} GROUP BY status",
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
_TABLES = {
    "links": Recommendation.recommending_states.through._meta.db_table,
    "issue_links": Recommendation.issues.through._meta.db_table,
    "state": State._meta.db_table,
    "state_orgs": State.organisations.through._meta.db_table,
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


def _cte(filterset: "RecommendationFilterSet", name: str) -> tuple[str, list]:
    base = filterset.qs.order_by().values(*_REC_COLUMNS)
    try:
        sql, params = base.query.sql_with_params()
    except EmptyResultSet:  # a filter that can match nothing (a query of stop words only, say)
        sql, params = "SELECT 0, 0, 0, '', 0, '', '' WHERE 1 = 0", ()
    return f"{name} (id, sur, session, response, action, kind, status) AS ({sql})", list(params)


def facet_counts(filterset: "RecommendationFilterSet") -> FacetCounts:
    """The total and every facet of a valid FilterSet, in one query."""
    ctes, params = [], []
    sql, cte_params = _cte(filterset, "m")
    ctes.append(sql)
    params += cte_params
    selects = [
        "SELECT 'total', '', COUNT(*) FROM m",
        *(g.format(tag=k, m="m", **_TABLES) for k, g in _GROUPINGS.items()),
    ]
    chosen = [name for name in filterset.FACETS if filterset.form.cleaned_data.get(name)]
    for index, name in enumerate(chosen):
        cte_name = f"m{index}"
        sql, cte_params = _cte(filterset.without(name), cte_name)
        ctes.append(sql)
        params += cte_params
        source = _SOURCE.get(name, name)
        selects.append(_GROUPINGS[source].format(tag=f"{name}:own", m=cte_name, **_TABLES))
    statement = f"WITH {', '.join(ctes)} " + " UNION ALL ".join(selects)
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        rows = cursor.fetchall()
    counts: dict[str, Counter] = defaultdict(Counter)
    total = 0
    for tag, key, count in rows:
        if tag == "total":
            total = count
        else:
            counts[tag.split(":")[0] if ":" in tag else f"={tag}"][key] = count
    # counts["=source"]: the main CTE's groupings; counts[facet]: a chosen facet's own (disjunctive) counts.
    own = {name: counts[name] if name in chosen else counts[f"={_SOURCE.get(name, name)}"] for name in filterset.FACETS}
    return FacetCounts(total=total, facets=_facets(filterset, own))


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
