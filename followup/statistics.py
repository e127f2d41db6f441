"""Implementation statistics (DOMAIN.md): for a phase and a consolidation rule, each recommendation's consolidated
status, then for every group of every breakdown the counts and percentages UPR Info's "Beyond promises" uses. All
of it in SQL (one statement: the consolidation by window functions, the breakdowns as UNION ALL over one
materialised set); Python only rounds the percentages.

Definitions:
- The assessments counted: public ones (neither deleted nor hidden by a moderator) at the phase. "No information"
  says nothing: a recommendation with only such assessments is not assessed.
- Consolidation rules, over a recommendation's other assessments:
  `majority` (default): the status most stakeholders gave, a tie going to the lower status;
  `lowest`, `highest`: the lowest or highest status given;
  `latest`: the status of the latest assessment (by its date; the same day: the lower status);
  `non_state`: the majority rule over non-state stakeholders only (a state reporting on itself is left out).
- Per group: `recommendations` (all, pledges left out unless asked), `assessed`, `not_implemented`,
  `partially_implemented`, `fully_implemented` (consolidated statuses), `triggered_action_pct` (partially or fully
  implemented, of the assessed), `fully_implemented_pct` (of the assessed), `coverage_pct` (assessed of all);
  percentages rounded to one decimal (half up), None when there is nothing to divide by.
- Voluntary pledges, when asked for, are answered by no response: their group of the response breakdown is
  `not_applicable`.
- A recommendation counts once in each group it belongs to: under each of its issues, each of its recommending
  states, and each distinct regional group of its recommending states.
"""

import itertools
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction

from followup.models import PUBLIC_SQL, Assessment, Organisation, StatisticsSnapshot
from recommendations.models import Issue, Recommendation
from reviews.models import Cycle, RegionalGroup, Review, Session, State

RULES = tuple(StatisticsSnapshot.Rule.values)
PHASES = tuple(Assessment.Phase.values)
DEFAULT_PHASE = Assessment.Phase.MID_TERM
DEFAULT_RULE = StatisticsSnapshot.Rule.MAJORITY
BREAKDOWNS = ("response", "action_category", "issue", "sur_region", "sur_state", "recommending_state",
              "recommending_region", "cycle", "session")  # fmt: skip
FIGURES = ("recommendations", "assessed", "not_implemented", "partially_implemented", "fully_implemented")
_LEVELS = ("not_implemented", "partially_implemented", "fully_implemented")  # lowest first

_T = {
    "rec": Recommendation._meta.db_table,
    "rec_issues": Recommendation.issues.through._meta.db_table,
    "rec_states": Recommendation.recommending_states.through._meta.db_table,
    "assessment": Assessment._meta.db_table,
    "organisation": Organisation._meta.db_table,
    "review": Review._meta.db_table,
    "state": State._meta.db_table,
    "region": RegionalGroup._meta.db_table,
    "session": Session._meta.db_table,
    "cycle": Cycle._meta.db_table,
    "issue": Issue._meta.db_table,
}
_LEVEL_SQL = "CASE a.status " + " ".join(f"WHEN '{s}' THEN {n}" for n, s in enumerate(_LEVELS)) + " END"
# An assessment's day as a whole number that grows with the date.
_DAY_SQL = {"postgresql": "(a.assessed_on - DATE '1900-01-01')", "sqlite": "CAST(julianday(a.assessed_on) AS INTEGER)"}

# `counted` (rec, level, day, own): the assessments that count at the phase; `own` is 1 for a state's assessment.
_COUNTED = """SELECT a.recommendation_id AS rec, {level} AS level, {day} AS day,
           CASE WHEN a.organisation_id IN (SELECT id FROM {organisation} WHERE kind = '{state_kind}') THEN 1 ELSE 0
           END AS own
    FROM {assessment} a WHERE a.phase = %s AND {public} AND a.status <> '{no_information}'"""
# `consolidated`: each assessed recommendation's level (0, 1, 2) under every rule, `l_<rule>` (NULL: not assessed
# under it), in one GROUP BY over `counted`; `n` the assessments counted, `m` those of non-state stakeholders.
_MAJORITY_OF = "CASE WHEN {p}0 >= {p}1 AND {p}0 >= {p}2 THEN 0 WHEN {p}1 >= {p}2 THEN 1 ELSE 2 END"  # a tie: lower
_TALLIES = ", ".join(
    f"COUNT(CASE WHEN {own}level = {n} THEN 1 END) AS {p}{n}"
    for p, own in (("n", ""), ("m", "own = 0 AND "))
    for n in range(3)
)
_CONSOLIDATED = f"""SELECT rec, n, m, {_MAJORITY_OF.format(p="n")} AS l_majority, lowest AS l_lowest,
           highest AS l_highest, 2 - latest %% 4 AS l_latest,
           CASE WHEN m > 0 THEN {_MAJORITY_OF.format(p="m")} END AS l_non_state
    FROM (SELECT rec, COUNT(*) AS n, COUNT(CASE WHEN own = 0 THEN 1 END) AS m, {_TALLIES},
                 MIN(level) AS lowest, MAX(level) AS highest,
                 MAX(day * 4 + 2 - level) AS latest  -- the latest day, then the lowest level
          FROM counted GROUP BY rec) t"""  # noqa: S608 (constants)
_COUNTED_BY = {"non_state": "m"}  # the assessments a rule reads: n, or m for non_state

# `cube` (part, cycle, response, action_category, review, key, level, n, assessments): the recommendations counted
# by (response, action category, review, level) in part 'review', and by (cycle, issue | recommending state |
# recommending regional group, level) in the other parts; `assessments`: those counted, in part 'review'. Every
# breakdown is summed from it.
_CUBE_PORTABLE = """
    r AS (SELECT m.id, m.response, m.action_category, m.review_id, n.cycle_id, k.l_{rule} AS level, k.{counted} AS n
          FROM {rec} m JOIN {review} v ON v.id = m.review_id JOIN {session} n ON n.id = v.session_id
          LEFT JOIN consolidated k ON k.rec = m.id {pledges}),
    cube AS (
        SELECT 'review' AS part, cycle_id AS cycle, response, action_category, review_id AS review, NULL AS key,
               level, COUNT(*) AS n, SUM(n) AS assessments
        FROM r GROUP BY cycle_id, response, action_category, review_id, level
        UNION ALL SELECT 'issue', r.cycle_id, NULL, NULL, NULL, l.issue_id, r.level, COUNT(*), NULL
        FROM r JOIN {rec_issues} l ON l.recommendation_id = r.id GROUP BY r.cycle_id, l.issue_id, r.level
        UNION ALL SELECT 'state', r.cycle_id, NULL, NULL, NULL, l.state_id, r.level, COUNT(*), NULL
        FROM r JOIN {rec_states} l ON l.recommendation_id = r.id GROUP BY r.cycle_id, l.state_id, r.level
        UNION ALL SELECT 'region', r.cycle_id, NULL, NULL, NULL, s.regional_group_id, r.level, COUNT(DISTINCT r.id),
                         NULL
        FROM r JOIN {rec_states} l ON l.recommendation_id = r.id JOIN {state} s ON s.id = l.state_id
        GROUP BY r.cycle_id, s.regional_group_id, r.level)"""
# PostgreSQL computes many phases and rules at once (statistics_compute_all), over temporary tables made once:
# - stat_dims: each recommendation's cycle, response, action category, review, and its arrays of issues and of
#   recommending states as small numbers ("slots": few distinct arrays are shared by many recommendations);
#   stat_islot / stat_fslot: each slot's array; stat_fregion: each recommending-states slot's distinct regions;
# - stat_levels, once per phase: stat_dims with each recommendation's level under every rule, from one pass over the
#   assessments;
# then one statement per phase and rule groups the dimensions three ways at once (grouping sets over integers) and
# unnests the small result's slots.
_DROP_POSTGRES = "DROP TABLE IF EXISTS stat_islot, stat_fslot, stat_fregion, stat_dims, stat_levels"
_PREPARE_POSTGRES = (
    _DROP_POSTGRES,
    "CREATE TEMP TABLE stat_islot AS SELECT ids, ROW_NUMBER() OVER () AS slot "
    "FROM (SELECT DISTINCT m.issue_ids AS ids FROM {rec} m {pledges}) d",
    "CREATE TEMP TABLE stat_fslot AS SELECT ids, ROW_NUMBER() OVER () AS slot "
    "FROM (SELECT DISTINCT m.recommending_state_ids AS ids FROM {rec} m {pledges}) d",
    "CREATE TEMP TABLE stat_fregion AS SELECT DISTINCT f.slot, s.regional_group_id AS region "
    "FROM stat_fslot f CROSS JOIN unnest(f.ids) x(id) JOIN {state} s ON s.id = x.id",
    """CREATE TEMP TABLE stat_dims AS
       SELECT m.id AS rec, n.cycle_id AS cycle, m.response, m.action_category, m.review_id AS review,
              i.slot AS islot, f.slot AS fslot
       FROM {rec} m JOIN {review} v ON v.id = m.review_id JOIN {session} n ON n.id = v.session_id
       LEFT JOIN stat_islot i ON i.ids = m.issue_ids LEFT JOIN stat_fslot f ON f.ids = m.recommending_state_ids
       {pledges}""",
    "ANALYZE stat_dims",
)
_LEVELS_POSTGRES = (  # its `counted` takes the phase as its parameter
    "CREATE TEMP TABLE stat_levels AS WITH counted AS ({counted}), consolidated AS ({consolidated}) "
    "SELECT d.*, k.n, k.m, k.l_majority, k.l_lowest, k.l_highest, k.l_latest, k.l_non_state "
    "FROM stat_dims d LEFT JOIN consolidated k ON k.rec = d.rec"
)
_CUBE_POSTGRES = """
    grouped AS (
        SELECT d.cycle, d.response, d.action_category, d.review, d.islot, d.fslot, d.l_{rule} AS level,
               COUNT(*) AS n, SUM(d.{counted}) AS assessments,
               GROUPING(d.review) AS no_review, GROUPING(d.islot) AS no_issues
        FROM stat_levels d
        GROUP BY GROUPING SETS ((d.cycle, d.response, d.action_category, d.review, d.l_{rule}),
                                (d.cycle, d.islot, d.l_{rule}), (d.cycle, d.fslot, d.l_{rule}))),
    cube AS (
        SELECT 'review' AS part, cycle, response, action_category, review, NULL::bigint AS key, level, n, assessments
        FROM grouped WHERE no_review = 0
        UNION ALL SELECT 'issue', g.cycle, NULL, NULL, NULL, x.id, g.level, SUM(g.n), NULL
        FROM grouped g JOIN stat_islot s ON s.slot = g.islot CROSS JOIN unnest(s.ids) x(id) WHERE g.no_issues = 0
        GROUP BY g.cycle, x.id, g.level
        UNION ALL SELECT 'state', g.cycle, NULL, NULL, NULL, x.id, g.level, SUM(g.n), NULL
        FROM grouped g JOIN stat_fslot s ON s.slot = g.fslot CROSS JOIN unnest(s.ids) x(id)
        WHERE g.no_review = 1 AND g.no_issues = 1 GROUP BY g.cycle, x.id, g.level
        UNION ALL SELECT 'region', g.cycle, NULL, NULL, NULL, r.region, g.level, SUM(g.n), NULL
        FROM grouped g JOIN stat_fregion r ON r.slot = g.fslot
        WHERE g.no_review = 1 AND g.no_issues = 1 GROUP BY g.cycle, r.region, g.level)"""

# Each breakdown per cycle, from the cube: (cycle number, breakdown, group, five figures, assessments counted).
_SUMS = "SUM(c.n), SUM(CASE WHEN c.level IS NOT NULL THEN c.n ELSE 0 END), " + ", ".join(
    f"SUM(CASE WHEN c.level = {n} THEN c.n ELSE 0 END)" for n in range(3)
)
_FROM = "FROM cube c JOIN {cycle} y ON y.id = c.cycle"
_REVIEWS = " JOIN {review} v ON v.id = c.review"
_GROUPS = {
    "overall": "SELECT y.number, 'overall', '', {sums}, SUM(c.assessments) " + _FROM + " WHERE c.part = 'review' "
               "GROUP BY y.number",
    "response": "SELECT y.number, 'response', COALESCE(NULLIF(c.response, ''), 'not_applicable'), {sums}, 0 "
                + _FROM + " WHERE c.part = 'review' GROUP BY y.number, c.response",
    "action_category": "SELECT y.number, 'action_category', COALESCE(CAST(c.action_category AS TEXT), 'none'), "
                       "{sums}, 0 " + _FROM + " WHERE c.part = 'review' GROUP BY y.number, c.action_category",
    "sur_region": "SELECT y.number, 'sur_region', g.code, {sums}, 0 " + _FROM + _REVIEWS + " JOIN {state} s "
                  "ON s.id = v.state_id JOIN {region} g ON g.id = s.regional_group_id WHERE c.part = 'review' "
                  "GROUP BY y.number, g.code",
    "sur_state": "SELECT y.number, 'sur_state', s.iso3, {sums}, 0 " + _FROM + _REVIEWS + " JOIN {state} s "
                 "ON s.id = v.state_id WHERE c.part = 'review' GROUP BY y.number, s.iso3",
    "cycle": "SELECT y.number, 'cycle', CAST(y.number AS TEXT), {sums}, 0 " + _FROM + " WHERE c.part = 'review' "
             "GROUP BY y.number",
    "session": "SELECT y.number, 'session', CAST(n.number AS TEXT), {sums}, 0 " + _FROM + _REVIEWS
               + " JOIN {session} n ON n.id = v.session_id WHERE c.part = 'review' GROUP BY y.number, n.number",
    "issue": "SELECT y.number, 'issue', i.name, {sums}, 0 " + _FROM + " JOIN {issue} i ON i.id = c.key "
             "WHERE c.part = 'issue' GROUP BY y.number, i.name",
    "recommending_state": "SELECT y.number, 'recommending_state', s.iso3, {sums}, 0 " + _FROM + " JOIN {state} s "
                          "ON s.id = c.key WHERE c.part = 'state' GROUP BY y.number, s.iso3",
    "recommending_region": "SELECT y.number, 'recommending_region', g.code, {sums}, 0 " + _FROM + " JOIN {region} g "
                           "ON g.id = c.key WHERE c.part = 'region' GROUP BY y.number, g.code",
}  # fmt: skip
# Every cycle's rows, then all cycles' (cycle NULL): a recommendation belongs to one cycle, so the sums add up.
_RESULT = """, per_cycle (cycle, breakdown, grp, n, assessed, n0, n1, n2, assessments) AS ({groups})
    SELECT * FROM per_cycle
    UNION ALL SELECT NULL, breakdown, grp, SUM(n), SUM(assessed), SUM(n0), SUM(n1), SUM(n2), SUM(assessments)
    FROM per_cycle GROUP BY breakdown, grp"""


class UnknownFilter(ValueError):
    """A filter value that names nothing: its message says which and what is allowed."""


def filters_check(*, phases: tuple[str, ...] = (), rules: tuple[str, ...] = ()) -> None:
    """UnknownFilter for the first phase or rule that does not exist."""
    for name, values, allowed in (("phase", phases, PHASES), ("rule", rules, RULES)):
        for value in values:
            if value not in allowed:
                raise UnknownFilter(f"Unknown {name} {value!r}: use one of {', '.join(allowed)}.")


def _pieces(include_pledges: bool) -> dict[str, str]:
    public = " AND ".join(f"a.{condition}" for condition in PUBLIC_SQL.split(" AND "))
    counted = _COUNTED.format(
        level=_LEVEL_SQL, day=_DAY_SQL.get(connection.vendor, _DAY_SQL["sqlite"]), public=public,
        state_kind=Organisation.Kind.STATE, no_information=Assessment.Status.NO_INFORMATION, **_T,
    )  # fmt: skip
    pledges = "" if include_pledges else f"WHERE m.kind = '{Recommendation.Kind.RECOMMENDATION}'"
    groups = _RESULT.format(groups=" UNION ALL ".join(g.format(sums=_SUMS, **_T) for g in _GROUPS.values()))
    return {"counted": counted, "pledges": pledges, "groups": groups}


def statistics_sql(*, phase: str, rule: str, include_pledges: bool) -> tuple[str, list]:
    """The portable statement (SQLite runs it; the tests run it on PostgreSQL too): rows of (cycle number or NULL for
    all cycles, breakdown, group, recommendations, assessed, not, partially, fully, assessments counted)."""
    filters_check(phases=(phase,), rules=(rule,))
    pieces = _pieces(include_pledges)
    cube = _CUBE_PORTABLE.format(rule=rule, counted=_COUNTED_BY.get(rule, "n"), pledges=pieces["pledges"], **_T)
    sql = f"WITH counted AS ({pieces['counted']}), consolidated AS ({_CONSOLIDATED}), {cube} {pieces['groups']}"
    return sql, [phase]


def _rows_postgres(cursor, *, phases, rules, include_pledges: bool) -> dict[tuple[str, str], list[tuple]]:
    pieces = _pieces(include_pledges)
    for statement in _PREPARE_POSTGRES:
        cursor.execute(statement.format(pledges=pieces["pledges"], **_T))
    rows = {}
    for phase in phases:
        cursor.execute("DROP TABLE IF EXISTS stat_levels")
        cursor.execute(_LEVELS_POSTGRES.format(counted=pieces["counted"], consolidated=_CONSOLIDATED), [phase])
        for rule in rules:
            cube = _CUBE_POSTGRES.format(rule=rule, counted=_COUNTED_BY.get(rule, "n"))
            cursor.execute(f"WITH {cube} {pieces['groups']}")
            rows[phase, rule] = cursor.fetchall()
    cursor.execute(_DROP_POSTGRES)
    return rows


def percent(part: int, whole: int) -> float | None:
    """part of whole in percent, rounded half up to one decimal; None for an empty whole."""
    if not whole:
        return None
    return float((Decimal(100 * part) / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def figures(recommendations: int, assessed: int, not_: int, partially: int, fully: int) -> dict:
    """One group's figures, as the API and the pages show them."""
    return {
        "recommendations": recommendations,
        "assessed": assessed,
        "not_implemented": not_,
        "partially_implemented": partially,
        "fully_implemented": fully,
        "triggered_action_pct": percent(partially + fully, assessed),
        "fully_implemented_pct": percent(fully, assessed),
        "coverage_pct": percent(assessed, recommendations),
    }


_RESPONSES = ("accepted", "noted", "pending", "not_applicable")


def _order(name: str):
    """The sort key of a breakdown's groups: numbers in their order ("none" last), responses as the UN lists them,
    names and codes alphabetically."""
    if name in ("cycle", "session", "action_category"):
        return lambda item: (0, int(item[0])) if item[0].isdigit() else (1, 0)
    if name == "response":
        return lambda item: _RESPONSES.index(item[0]) if item[0] in _RESPONSES else len(_RESPONSES)
    return lambda item: item[0]


def _figures_of(rows: list[tuple]) -> dict:
    """{"overall": G, "by": {breakdown: {group: G}}} from one cycle's rows (or all cycles')."""
    by: dict[str, dict[str, dict]] = {name: {} for name in BREAKDOWNS}
    overall = figures(0, 0, 0, 0, 0)
    for breakdown, group, *counts in rows:
        if breakdown == "overall":
            overall = figures(*counts)
        else:
            by[breakdown][group] = figures(*counts)
    return in_order({"overall": overall, "by": by})


_KEYS = tuple(figures(0, 0, 0, 0, 0))


def in_order(part: dict) -> dict:
    """{"overall": G, "by": ...} with every key in its order (PostgreSQL's jsonb, which stores the snapshots,
    keeps keys in an order of its own): the breakdowns as BREAKDOWNS lists them, their groups by _order(), the
    figures as figures() lists them."""

    def group(g: dict) -> dict:
        return {key: g[key] for key in _KEYS}

    by = part["by"]
    return {
        "overall": group(part["overall"]),
        "by": {
            name: {key: group(g) for key, g in sorted(by.get(name, {}).items(), key=_order(name))}
            for name in BREAKDOWNS
        },
    }


def statistics_compute_all(
    *,
    phases: tuple[str, ...] = PHASES,
    rules: tuple[str, ...] = RULES,
    include_pledges: bool = False,
    portable: bool = False,
) -> dict[tuple[str, str], dict]:
    """The figures of these phases and rules (every one by default), keyed by (phase, rule), each as
    statistics_compute() gives it. In the caller's transaction if any (then all from one reading of the data under
    REPEATABLE READ). On PostgreSQL through temporary tables made once for all of them, unless `portable`."""
    filters_check(phases=phases, rules=rules)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # hashes of a million recommendations, in memory
            cursor.execute("SET LOCAL work_mem = '256MB'")
        if connection.vendor == "postgresql" and not portable:
            rows = _rows_postgres(cursor, phases=phases, rules=rules, include_pledges=include_pledges)
        else:
            rows = {}
            for phase, rule in itertools.product(phases, rules):
                cursor.execute(*statistics_sql(phase=phase, rule=rule, include_pledges=include_pledges))
                rows[phase, rule] = cursor.fetchall()
    return {
        (phase, rule): {"phase": phase, "rule": rule, "include_pledges": include_pledges, **_parts(found)}
        for (phase, rule), found in rows.items()
    }


def statistics_compute(
    *,
    phase: str = DEFAULT_PHASE,
    rule: str = DEFAULT_RULE,
    include_pledges: bool = False,
    portable: bool = False,
) -> dict:
    """The figures of every breakdown, for all cycles and for each: {"phase", "rule", "include_pledges", "overall":
    G, "by": {breakdown: {group: G}}, "inputs": {"recommendations", "assessments"}, "cycles": {"1": {"overall",
    "by", "inputs"}, ...}} ("inputs": the recommendations counted and the assessments that decided their status).
    The API's and `manage.py compute_statistics --json`'s shape, without its `computed_at`."""
    computed = statistics_compute_all(phases=(phase,), rules=(rule,), include_pledges=include_pledges,
                                      portable=portable)  # fmt: skip
    return computed[phase, rule]


def _parts(rows: list[tuple]) -> dict:
    """{"overall", "by", "inputs", "cycles"} from the rows of one phase and rule."""
    per_cycle: dict[str, list[tuple]] = {}
    assessments: dict[str, int] = {}
    for cycle, breakdown, group, *counts, counted in rows:
        key = "" if cycle is None else str(cycle)
        per_cycle.setdefault(key, []).append((breakdown, group, *(int(n or 0) for n in counts)))
        if breakdown == "overall":
            assessments[key] = int(counted or 0)

    def part(key: str) -> dict:
        figured = _figures_of(per_cycle.get(key, []))
        inputs = {"recommendations": figured["overall"]["recommendations"], "assessments": assessments.get(key, 0)}
        return {**figured, "inputs": inputs}

    return {**part(""), "cycles": {cycle: part(cycle) for cycle in sorted((k for k in per_cycle if k), key=int)}}
