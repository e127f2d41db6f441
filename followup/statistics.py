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

from decimal import ROUND_HALF_UP, Decimal

from django.db import connection

from followup.models import PUBLIC_SQL, Assessment, Organisation
from recommendations.models import Issue, Recommendation
from reviews.models import Cycle, RegionalGroup, Review, Session, State

RULES = ("majority", "lowest", "highest", "latest", "non_state")
BREAKDOWNS = ("response", "action_category", "issue", "sur_region", "sur_state", "recommending_state",
              "recommending_region", "cycle", "session")  # fmt: skip
FIGURES = ("recommendations", "assessed", "not_implemented", "partially_implemented", "fully_implemented")
_LEVELS = ("not_implemented", "partially_implemented", "fully_implemented")  # lowest first

_T = {
    "rec": Recommendation._meta.db_table,
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

# Each rule: the consolidated level (0, 1, 2) of every assessed recommendation, from `counted` (rec, level, day).
_CONSOLIDATE = {
    "majority": """SELECT rec, level FROM (
        SELECT rec, level, ROW_NUMBER() OVER (PARTITION BY rec ORDER BY COUNT(*) DESC, level) AS rank
        FROM counted GROUP BY rec, level) ranked WHERE rank = 1""",
    "lowest": "SELECT rec, MIN(level) AS level FROM counted GROUP BY rec",
    "highest": "SELECT rec, MAX(level) AS level FROM counted GROUP BY rec",
    "latest": """SELECT rec, level FROM (
        SELECT rec, level, ROW_NUMBER() OVER (PARTITION BY rec ORDER BY day DESC, level) AS rank
        FROM counted) ranked WHERE rank = 1""",
}
_CONSOLIDATE["non_state"] = _CONSOLIDATE["majority"]

_COUNTS = "COUNT(*), COUNT(c.level), " + ", ".join(f"COUNT(*) FILTER (WHERE c.level = {n})" for n in range(3))
_GROUPS = {
    "overall": "SELECT 'overall', '', {counts} FROM r c",
    "response": "SELECT 'response', COALESCE(NULLIF(c.response, ''), 'not_applicable'), {counts} FROM r c "
                "GROUP BY c.response",
    "action_category": "SELECT 'action_category', COALESCE(c.action_category::text, 'none'), {counts} "
                       "FROM r c GROUP BY c.action_category",
    "issue": "SELECT 'issue', i.name, {counts} FROM r c JOIN LATERAL unnest(c.issue_ids) x(id) ON true "
             "JOIN {issue} i ON i.id = x.id GROUP BY i.name",
    "sur_region": "SELECT 'sur_region', g.code, {counts} FROM r c JOIN {region} g ON g.id = c.sur_region "
                  "GROUP BY g.code",
    "sur_state": "SELECT 'sur_state', s.iso3, {counts} FROM r c JOIN {state} s ON s.id = c.sur_state "
                 "GROUP BY s.iso3",
    "recommending_state": "SELECT 'recommending_state', s.iso3, {counts} FROM r c "
                          "JOIN LATERAL unnest(c.from_ids) x(id) ON true JOIN {state} s ON s.id = x.id "
                          "GROUP BY s.iso3",
    "recommending_region": "SELECT 'recommending_region', g.code, {counts} FROM r c JOIN LATERAL ("
                           "SELECT DISTINCT s.regional_group_id FROM unnest(c.from_ids) x(id) "
                           "JOIN {state} s ON s.id = x.id) f ON true JOIN {region} g ON g.id = f.regional_group_id "
                           "GROUP BY g.code",
    "cycle": "SELECT 'cycle', y.number::text, {counts} FROM r c JOIN {cycle} y ON y.id = c.cycle GROUP BY y.number",
    "session": "SELECT 'session', c.session_number::text, {counts} FROM r c GROUP BY c.session_number",
}  # fmt: skip


def statistics_sql(*, phase: str, rule: str, include_pledges: bool) -> tuple[str, list]:
    """The one statement: rows of (breakdown, group, recommendations, assessed, not, partially, fully)."""
    if rule not in RULES:
        raise ValueError(f"Unknown rule {rule!r}: one of {', '.join(RULES)}.")
    state_only = f"AND o.kind <> '{Organisation.Kind.STATE}'" if rule == "non_state" else ""
    pledges = "" if include_pledges else f"WHERE m.kind = '{Recommendation.Kind.RECOMMENDATION}'"
    public = " AND ".join(f"a.{condition}" for condition in PUBLIC_SQL.split(" AND "))
    sql = f"""
        WITH counted AS MATERIALIZED (
            SELECT a.recommendation_id AS rec, {_LEVEL_SQL} AS level, a.assessed_on AS day
            FROM {_T["assessment"]} a JOIN {_T["organisation"]} o ON o.id = a.organisation_id
            WHERE a.phase = %s AND {public} AND a.status <> '{Assessment.Status.NO_INFORMATION}' {state_only}
        ),
        consolidated AS MATERIALIZED ({_CONSOLIDATE[rule]}),
        r AS MATERIALIZED (
            SELECT m.id, m.response, m.action_category, m.session_number, m.issue_ids,
                   m.recommending_state_ids AS from_ids, v.state_id AS sur_state, s.regional_group_id AS sur_region,
                   n.cycle_id AS cycle, k.level
            FROM {_T["rec"]} m JOIN {_T["review"]} v ON v.id = m.review_id JOIN {_T["state"]} s ON s.id = v.state_id
            JOIN {_T["session"]} n ON n.id = v.session_id LEFT JOIN consolidated k ON k.rec = m.id
            {pledges}
        )
        """ + " UNION ALL ".join(g.format(counts=_COUNTS, **_T) for g in _GROUPS.values())  # noqa: S608 (constants)
    return sql, [phase]


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


def _numbered(item: tuple[str, dict]) -> tuple[int, int]:
    return (0, int(item[0])) if item[0].isdigit() else (1, 0)


def statistics_compute(
    *, phase: str = Assessment.Phase.MID_TERM, rule: str = "majority", include_pledges: bool = False
) -> dict:
    """The figures of every breakdown: {"phase", "rule", "overall": G, "by": {breakdown: {group: G}}} (the shape of
    the API and of `manage.py compute_statistics --json`, without its `computed_at`). PostgreSQL only."""
    if phase not in Assessment.Phase.values:
        raise ValueError(f"Unknown phase {phase!r}: one of {', '.join(Assessment.Phase.values)}.")
    sql, params = statistics_sql(phase=phase, rule=rule, include_pledges=include_pledges)
    by: dict[str, dict[str, dict]] = {name: {} for name in BREAKDOWNS}
    overall = figures(0, 0, 0, 0, 0)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for breakdown, group, *counts in cursor.fetchall():
            if breakdown == "overall":
                overall = figures(*counts)
            else:
                by[breakdown][group] = figures(*counts)
    for name in ("cycle", "session", "action_category"):  # numbers in their order, "none" last
        by[name] = dict(sorted(by[name].items(), key=_numbered))
    return {"phase": phase, "rule": rule, "include_pledges": include_pledges, "overall": overall, "by": by}
