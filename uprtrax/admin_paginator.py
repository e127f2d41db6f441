"""Counting rows for pagination without `SELECT COUNT(*)` over millions of rows.

An exact count of 1M recommendations or 3M assessments scans the whole table on every changelist page. On
PostgreSQL the planner already knows roughly how many rows a query returns; where that estimate is large, a page
count that is off by a few percent is worth far more than a page that takes seconds. Small results, and every
result on SQLite, are counted exactly.
"""

from typing import NamedTuple

from django.contrib.admin import ShowFacets
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

# Below this many (estimated) rows an exact count is cheap enough, and exactness matters more.
EXACT_COUNT_BELOW = 10_000


class RowCount(NamedTuple):
    rows: int
    estimated: bool


def row_count(queryset: QuerySet, *, exact_below: int = EXACT_COUNT_BELOW) -> RowCount:
    """How many rows `queryset` returns: PostgreSQL's planner estimate when it is at least `exact_below`, else exact.

    An unfiltered queryset is estimated from pg_class.reltuples (kept up to date by autovacuum/ANALYZE), a
    filtered one from the top row estimate of EXPLAIN. On any other database, and for sliced or combined
    querysets, this is `queryset.count()`.
    """
    connection = connections[queryset.db]
    query = queryset.query
    if connection.vendor != "postgresql" or query.is_sliced or query.combinator or query.is_empty():
        return RowCount(queryset.count(), estimated=False)
    with connection.cursor() as cursor:
        if not query.where and not query.distinct:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
                [connection.ops.quote_name(queryset.model._meta.db_table)],
            )
            row = cursor.fetchone()
            estimate = row[0] if row else -1  # -1: never vacuumed nor analysed
        else:
            # Only the primary keys: the estimate must not depend on select_related joins or ordering.
            try:
                sql, params = queryset.order_by().values("pk").query.sql_with_params()
            except EmptyResultSet:  # a condition that nothing can meet, e.g. an id beyond the column's range
                return RowCount(0, estimated=False)
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
            estimate = int(plan[0]["Plan"]["Plan Rows"])
    if estimate < exact_below:
        return RowCount(queryset.count(), estimated=False)
    return RowCount(estimate, estimated=True)


class EstimatedCountPaginator(Paginator):
    """A Paginator whose count may be PostgreSQL's estimate; `count_is_estimate` says whether it is."""

    count_is_estimate = False

    @cached_property
    def count(self) -> int:
        if not isinstance(self.object_list, QuerySet):
            return super().count
        result = row_count(self.object_list)
        self.count_is_estimate = result.estimated
        return result.rows


class LargeTableAdminMixin:
    """ModelAdmin settings for tables of millions of rows: no exact counts, no facet counts."""

    paginator = EstimatedCountPaginator
    # The "N total" beside a search result would be a second exact count of the whole table.
    show_full_result_count = False
    # Facets run one COUNT per filter option over the filtered table.
    show_facets = ShowFacets.NEVER
    # No bulk actions: "select all" then delete would list every row, and what it cascades to, on one page.
    actions = None
