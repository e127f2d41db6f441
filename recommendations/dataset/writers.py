"""Two ways to store generated rows: PostgreSQL COPY (fast, for millions of rows) and batched INSERTs for SQLite.

Both take the same row tuples from recommendations.dataset.rows, and work inside the caller's transaction:
begin(models), write(model, columns, rows) per table, then finish() checks every foreign key of the new rows.
"""

from collections.abc import Iterable, Sequence
from itertools import batched

from django.db import connection
from django.db.models import ForeignKey, Max, Model

from recommendations.models import Recommendation
from reviews.models import Review, Session


class DataIntegrityError(Exception):
    """Generated rows refer to rows that do not exist (a bug, or a concurrent delete): nothing is kept."""


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _insert_columns(columns: Sequence[str]) -> str:
    return ", ".join(_quote(c) for c in columns)


class _Writer:
    vendor = ""

    def __init__(self):
        self._cursor = connection.cursor()
        self._before: dict[type[Model], int] = {}

    def _highest_id(self, model: type[Model]) -> int:
        return model._default_manager.aggregate(highest=Max("pk"))["highest"] or 0

    def begin(self, models: Sequence[type[Model]]) -> None:
        """Note where each table ends, so that the checks look at the new rows only."""
        self._before = {model: self._highest_id(model) for model in models}

    def _orphans(self) -> list[str]:
        """Foreign keys of the new rows that point nowhere, by one anti-join per key (not one check per row)."""
        problems = []
        for model, before in self._before.items():
            for field in model._meta.concrete_fields:
                if not isinstance(field, ForeignKey):
                    continue
                table, pk, key = _quote(model._meta.db_table), _quote(model._meta.pk.column), _quote(field.column)
                target, target_key = _quote(field.related_model._meta.db_table), _quote(field.target_field.column)
                missing = f"NOT EXISTS (SELECT 1 FROM {target} p WHERE p.{target_key} = c.{key})"  # noqa: S608
                where = f"c.{pk} > %s AND c.{key} IS NOT NULL AND {missing}"
                self._cursor.execute(f"SELECT COUNT(*) FROM {table} c WHERE {where}", [before])  # noqa: S608
                (count,) = self._cursor.fetchone()
                if count:
                    problems.append(f"{count:,} rows of {model._meta.db_table}.{field.column}")
        return problems

    def analyze(self, models: Sequence[type[Model]]) -> None:
        for model in models:
            self._cursor.execute(f"ANALYZE {_quote(model._meta.db_table)}")


_STAGED = "uprtrax_generated_recommendations"
_VECTORS = "uprtrax_generated_vectors"
_SEARCH_INDEX = "rec_search_vector_gin"  # migration 0006


class PostgresCopyWriter(_Writer):
    """COPY ... FROM STDIN through psycopg 3, ids reserved from the table's sequence beforehand.

    Foreign keys: PostgreSQL checks them with one trigger call per row, which costs more than the COPY itself
    at millions of rows. Where the connection may (a superuser: development, CI, benchmarks), the triggers are
    switched off for this transaction only (SET LOCAL session_replication_role = replica, undone in finish()),
    the referenced rows are locked as the triggers would, and finish() checks every key of the new rows with
    one anti-join per key. Elsewhere the triggers run as usual.
    """

    vendor = "postgresql"

    def begin(self, models: Sequence[type[Model]]) -> None:
        super().begin(models)
        self._cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        self.triggers_off = bool(self._cursor.fetchone()[0])
        if self.triggers_off:
            self._cursor.execute("SHOW session_replication_role")
            self._replication_role = self._cursor.fetchone()[0]
            self._lock_referenced(models)
            self._cursor.execute("SET LOCAL session_replication_role = replica")

    def _lock_referenced(self, models: Sequence[type[Model]]) -> None:
        """Lock every row of the small referenced tables against deletion until we commit, as the triggers do."""
        ours = set(models)
        targets = {
            field.related_model
            for model in models
            for field in model._meta.concrete_fields
            if isinstance(field, ForeignKey) and field.related_model not in ours
        }
        for target in sorted(targets, key=lambda m: m._meta.db_table):
            self._cursor.execute(f"SELECT 1 FROM {_quote(target._meta.db_table)} FOR KEY SHARE")  # noqa: S608

    def reserve_ids(self, model: type[Model], count: int) -> int:
        """The first of `count` consecutive ids that nothing else will use, so that other rows can refer to them."""
        table, column = model._meta.db_table, model._meta.pk.column
        # Other writers wait until we commit; the sequence can then jump over our range safely.
        self._cursor.execute(f"LOCK TABLE {_quote(table)} IN SHARE ROW EXCLUSIVE MODE")
        self._cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, column])
        (sequence,) = self._cursor.fetchone()
        self._cursor.execute("SELECT nextval(%s)", [sequence])
        first = max(self._cursor.fetchone()[0], self._highest_id(model) + 1)
        if count:
            self._cursor.execute("SELECT setval(%s, %s)", [sequence, first + count - 1])
        return first

    def write(self, model: type[Model], columns: Sequence[str], rows: Iterable[tuple]) -> int:
        return self._copy(_quote(model._meta.db_table), columns, rows)

    def _copy(self, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> int:
        sql = f"COPY {table} ({_insert_columns(columns)}) FROM STDIN"
        written = 0
        with self._cursor.cursor.copy(sql) as copy:
            write_row = copy.write_row
            for row in rows:
                write_row(row)
                written += 1
        return written

    # --- Recommendations: staged, then written once with their browse columns -----------------------------------

    def stage_recommendations(self, columns: Sequence[str], rows: Iterable[tuple], vectors: dict[int, str]) -> int:
        """COPY the recommendation rows into a temporary table (no index, no trigger); each row ends with its
        catalogue entry, whose search vector is in `vectors` (None for a text of its own, such as a pledge's).

        They reach the real table in recommendations_insert(), after their links and assessments, with every
        browse column (session, search vector, id arrays, mid-term status) computed in the same statement, so that
        each row is written once: the triggers of migrations 0006–0008 stand aside for this transaction
        (uprtrax.bulk_load), instead of rewriting a million rows once per link table.
        """
        self._cursor.execute("SET LOCAL uprtrax.bulk_load = 'on'")
        table = _quote(Recommendation._meta.db_table)
        empty = f"SELECT {_insert_columns(columns)} FROM {table} WITH NO DATA"  # noqa: S608 (names from the model)
        self._cursor.execute(f"CREATE TEMPORARY TABLE {_STAGED} ON COMMIT DROP AS {empty}")
        self._cursor.execute(f"ALTER TABLE {_STAGED} ADD COLUMN entry integer")
        self._cursor.execute(
            f"CREATE TEMPORARY TABLE {_VECTORS} (entry integer PRIMARY KEY, vector tsvector) ON COMMIT DROP"
        )
        self._copy(_VECTORS, ("entry", "vector"), vectors.items())
        self._staged_columns = tuple(columns)
        return self._copy(_STAGED, (*columns, "entry"), rows)

    def recommendations_insert(self) -> int:
        """Move the staged recommendations into their table in one INSERT, with session_number (from the review),
        search_vector (the catalogue's, or to_tsvector of the row's own text), the recommending-state and issue id
        arrays (from the links written meanwhile) and the consolidated mid-term status (followup.status's rule)."""
        from followup.status import consolidated_statuses_sql

        rec = Recommendation._meta
        links = {
            "recommending_state_ids": (Recommendation.recommending_states.through._meta.db_table, "state_id"),
            "issue_ids": (Recommendation.issues.through._meta.db_table, "issue_id"),
        }
        # PostgreSQL's advice for bulk loads: an index built over the loaded rows costs far less than one updated
        # row by row (the full-text index: 20 million entries for a million texts). Only when the load at least
        # doubles the table, so that rebuilding never costs more than it saves; rolled back with the rest.
        table = _quote(rec.db_table)
        self._cursor.execute(f"ANALYZE {_STAGED}")  # a temporary table has no statistics until asked
        self._cursor.execute(f"SELECT MIN(id), MAX(id), COUNT(*) >= (SELECT COUNT(*) FROM {table}) FROM {_STAGED}")  # noqa: S608
        first, last, rebuild = self._cursor.fetchone()
        self._cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [_SEARCH_INDEX])
        definition = self._cursor.fetchone()
        if rebuild and definition:
            self._cursor.execute(f"DROP INDEX {_quote(_SEARCH_INDEX)}")
        staged = ", ".join(f"s.{_quote(c)}" for c in self._staged_columns)
        aggregate = (
            "LEFT JOIN (SELECT recommendation_id, array_agg({target} ORDER BY {target}) AS ids FROM {table} "
            "WHERE recommendation_id BETWEEN %(first)s AND %(last)s GROUP BY recommendation_id) {column} "
            "ON {column}.recommendation_id = s.id"
        )  # names from the models
        arrays = " ".join(
            aggregate.format(target=target, table=_quote(table), column=column)
            for column, (table, target) in links.items()
        )
        self._cursor.execute(
            f"""
            INSERT INTO {_quote(rec.db_table)} ({_insert_columns(self._staged_columns)}, session_number, search_vector,
                                                recommending_state_ids, issue_ids, implementation_status)
            SELECT {staged}, se.number, COALESCE(v.vector, to_tsvector('english'::regconfig, s.text)),
                   recommending_state_ids.ids, issue_ids.ids, COALESCE(st.status, '')
            FROM {_STAGED} s
            JOIN {_quote(Review._meta.db_table)} r ON r.id = s.review_id
            JOIN {_quote(Session._meta.db_table)} se ON se.id = r.session_id
            LEFT JOIN {_VECTORS} v ON v.entry = s.entry
            {arrays}
            LEFT JOIN ({consolidated_statuses_sql("AND recommendation_id BETWEEN %(first)s AND %(last)s")}) st
                ON st.recommendation_id = s.id""",  # noqa: S608 (names from the models, values are parameters)
            {"first": first, "last": last},
        )
        inserted = self._cursor.rowcount
        if rebuild and definition:
            self._cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            self._cursor.execute(definition[0])
        self._cursor.execute(f"DROP TABLE {_STAGED}, {_VECTORS}")
        self._cursor.execute("SELECT set_config('uprtrax.bulk_load', 'off', true)")  # the triggers are back
        return inserted

    def finish(self) -> None:
        if self.triggers_off:
            self._cursor.execute("SELECT set_config('session_replication_role', %s, true)", [self._replication_role])
            problems = self._orphans()
            if problems:
                raise DataIntegrityError(f"Generated rows point to missing rows: {'; '.join(problems)}.")
        else:
            # The triggers' checks are deferred to the commit: run them now, inside the generator's transaction.
            connection.check_constraints()


class SqliteWriter(_Writer):
    """Batched executemany INSERTs with explicit ids and timestamps.

    Not bulk_create: that would stamp created_at with the clock, and the data must depend on the seed alone.
    """

    vendor = "sqlite"
    batch_size = 5000

    def reserve_ids(self, model: type[Model], count: int) -> int:
        # SQLite allows one writer at a time: nothing else inserts before our transaction ends.
        return self._highest_id(model) + 1

    def write(self, model: type[Model], columns: Sequence[str], rows: Iterable[tuple]) -> int:
        table, placeholders = _quote(model._meta.db_table), ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {table} ({_insert_columns(columns)}) VALUES ({placeholders})"  # noqa: S608
        written = 0
        for batch in batched(rows, self.batch_size):
            self._cursor.executemany(sql, batch)
            written += len(batch)
        return written

    def finish(self) -> None:
        # SQLite checks foreign keys at the commit; check the new rows now, so that a failure surfaces here.
        problems = self._orphans()
        if problems:
            raise DataIntegrityError(f"Generated rows point to missing rows: {'; '.join(problems)}.")


def writer_for_connection() -> PostgresCopyWriter | SqliteWriter:
    if connection.vendor == "postgresql":
        return PostgresCopyWriter()
    if connection.vendor == "sqlite":
        return SqliteWriter()
    raise ValueError(f"the data set generator supports PostgreSQL and SQLite, not {connection.vendor}")
