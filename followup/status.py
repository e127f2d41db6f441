"""Each recommendation's consolidated implementation status at mid-term, kept on Recommendation for browsing.

Rule (DOMAIN.md, the default): over the public mid-term assessments (neither deleted nor hidden), the status most
stakeholders gave, a tie going to the lower status; "no information" only when no stakeholder said more; empty when
nobody assessed.
Set-based SQL (window function, UPDATE ... FROM) that PostgreSQL and SQLite both run; nothing loops over rows.

Call implementation_status_refresh() after anything that writes assessments (imports, the dataset generator,
the follow-up pages), with the recommendations concerned or None for all: it also queues the recompute of the
statistics (followup.snapshots).
"""

import functools
from collections.abc import Iterable
from itertools import batched

from django.db import connection, transaction

from followup.models import PUBLIC_SQL, Assessment
from followup.snapshots import statistics_changed
from recommendations.facets import search_data_changed
from recommendations.models import Recommendation

_REC = Recommendation._meta.db_table
_ASSESSMENT = Assessment._meta.db_table
# SQLite caps the number of parameters of one statement; PostgreSQL takes one array.
_SQLITE_BATCH = 500

_LEVEL = " ".join(
    f"WHEN '{status}' THEN {level}"
    for level, status in enumerate(
        (
            Assessment.Status.NOT_IMPLEMENTED,
            Assessment.Status.PARTIALLY_IMPLEMENTED,
            Assessment.Status.FULLY_IMPLEMENTED,
        )
    )
)


def _consolidated(scope: str) -> str:
    return f"""
        SELECT recommendation_id, status FROM (
            SELECT recommendation_id, status, ROW_NUMBER() OVER (
                PARTITION BY recommendation_id
                ORDER BY status = '{Assessment.Status.NO_INFORMATION}', n DESC, CASE status {_LEVEL} ELSE 3 END
            ) AS rank
            FROM (SELECT recommendation_id, status, COUNT(*) AS n FROM {_ASSESSMENT}
                  WHERE phase = '{Assessment.Phase.MID_TERM}' AND {PUBLIC_SQL}
                  {scope} GROUP BY recommendation_id, status) counts
        ) ranked WHERE rank = 1"""  # noqa: S608 (constants only)


def consolidated_statuses_sql(scope: str = "") -> str:
    """SQL of (recommendation_id, status): each assessed recommendation's consolidated status, for the assessments
    that pass `scope` (an SQL condition starting with AND, or ""). The dataset generator writes it with its rows."""
    return _consolidated(scope)


def _refresh(cursor, scope_rec: str, scope_assessment: str, params: list) -> int:
    cursor.execute(f"""
        UPDATE {_REC} SET implementation_status = COALESCE(c.status, '')
        FROM {_REC} r LEFT JOIN ({_consolidated(scope_assessment)}) c ON c.recommendation_id = r.id
        WHERE {_REC}.id = r.id AND {_REC}.implementation_status <> COALESCE(c.status, '') {scope_rec}""",  # noqa: S608
        params * 2,
    )  # fmt: skip
    return cursor.rowcount


def implementation_status_refresh(recommendation_ids: Iterable[int] | None = None) -> int:
    """Recompute the consolidated mid-term status of these recommendations (all when None); returns how many
    changed."""
    ids = None if recommendation_ids is None else sorted(set(recommendation_ids))
    changed = 0
    with transaction.atomic(), connection.cursor() as cursor:
        if ids is None:
            changed = _refresh(cursor, "", "", [])
        elif connection.vendor == "postgresql":
            changed = _refresh(cursor, "AND r.id = ANY(%s)", "AND recommendation_id = ANY(%s)", [ids])
        else:
            for batch in batched(ids, _SQLITE_BATCH):
                marks = ", ".join(["%s"] * len(batch))
                # Parameters in order: the assessment scope (inside the join) first, then the recommendations.
                changed += _refresh(cursor, f"AND r.id IN ({marks})", f"AND recommendation_id IN ({marks})", [*batch])
        # Any assessment write comes here: the statistics count every phase and rule, not only this status.
        transaction.on_commit(statistics_changed)
        # A new data version even when no status changed: the pages kept for anonymous visitors (uprtrax.pagecache)
        # and the API's kept reads show the public assessments themselves (a hidden one must leave them). Only
        # statuses changed: the search patches its bitmaps for these recommendations (none when no status changed)
        # instead of reading every recommendation again.
        transaction.on_commit(functools.partial(search_data_changed, statuses_of=ids if changed else ()))
    return changed
