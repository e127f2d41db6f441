"""The staging tables of one import: validated rows go there first, then duplicates, the plan (create, update,
unchanged) and the writes are set operations in SQL.

Why: memory stays bounded whatever the file's size (Python holds one batch of rows, never the file), and the
writes are a handful of INSERT ... SELECT and UPDATE ... FROM statements instead of one per row. The tables are
temporary, live inside the import's transaction, and go with it: a dry run or a failure rolls everything back.
Portable SQL: PostgreSQL (COPY into the stage) and SQLite (batched INSERTs; the demo and `make run`).
"""

# Every name put into these SQL strings is a constant of this module or a model's table; values go as parameters.
# ruff: noqa: S608

from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from recommendations.imports.validate import ParsedRow
from recommendations.models import Recommendation
from reviews.models import Review

ROWS = "import_stage_rec"
LINKS = "import_stage_link"  # link "s": recommending state, "i": issue
PLAN = "import_stage_plan"  # per row: its review, its recommendation, and op c(reate), u(pdate) or n(unchanged)
_BATCH = 5000
_ROW_COLUMNS = (
    "row_number", "state_id", "session_id", "natural_key", "kind", "paragraph_ref", "text", "response",
    "response_original", "action_category",
)  # fmt: skip
# Compared to decide between update and unchanged, and written on create and update.
_VALUES = ("kind", "paragraph_ref", "text", "response", "response_original", "action_category")
_PLEDGE = Recommendation.Kind.VOLUNTARY_PLEDGE.value


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


_REC = _table(Recommendation)
_REVIEW = _table(Review)
_ISSUES = _table(Recommendation.issues.through)
_STATES = _table(Recommendation.recommending_states.through)


@dataclass
class Duplicate:
    row: int
    first_row: int
    response_original: str
    first_response_original: str
    same_response: bool
    same_values: bool  # text, action category and issues as the first row's


class Stage:
    """Create with Stage() inside a transaction; add() rows; then duplicates(), plan(), counts(), commit()."""

    def __init__(self):
        self.cursor = connection.cursor()
        self.postgres = connection.vendor == "postgresql"
        self._rows: list[tuple] = []
        self._links: list[tuple[int, str, int]] = []
        self.drop()
        self.cursor.execute(
            f"CREATE TEMP TABLE {ROWS} (row_number integer PRIMARY KEY, state_id integer NOT NULL, "
            "session_id integer NOT NULL, natural_key varchar(64) NOT NULL, kind varchar(20) NOT NULL, "
            "paragraph_ref varchar(20) NOT NULL, text text NOT NULL, response varchar(10) NOT NULL, "
            "response_original varchar(100) NOT NULL, action_category integer NULL, first_row integer NULL)"
        )
        self.cursor.execute(
            f"CREATE TEMP TABLE {LINKS} "
            "(row_number integer NOT NULL, link char(1) NOT NULL, target_id integer NOT NULL)"
        )

    def drop(self) -> None:
        for table in (ROWS, LINKS, PLAN):
            self.cursor.execute(f"DROP TABLE IF EXISTS {table}")

    # --- loading -----------------------------------------------------------------------------------------------

    def add(self, row: ParsedRow) -> None:
        self._rows.append(
            (row.row, row.state_id, row.session_id, row.natural_key, row.kind, row.paragraph_ref, row.text,
             row.response, row.response_original, row.action_category)
        )  # fmt: skip
        self._links.extend((row.row, "s", pk) for pk in row.recommending_state_ids)
        self._links.extend((row.row, "i", pk) for pk in row.issue_ids)
        if len(self._rows) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        self._write(ROWS, _ROW_COLUMNS, self._rows)
        self._write(LINKS, ("row_number", "link", "target_id"), self._links)
        self._rows, self._links = [], []

    def _write(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if not rows:
            return
        names = ", ".join(columns)
        if self.postgres:
            with self.cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            self.cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({placeholders})", rows)

    def loaded(self) -> None:
        """All rows are in: index and analyse the stage (autovacuum never analyses temporary tables)."""
        self.flush()
        self.cursor.execute(f"CREATE INDEX {ROWS}_key ON {ROWS} (state_id, session_id, natural_key)")
        self.cursor.execute(f"CREATE INDEX {LINKS}_row ON {LINKS} (row_number, link, target_id)")
        self.cursor.execute(f"ANALYZE {ROWS}")
        self.cursor.execute(f"ANALYZE {LINKS}")

    # --- duplicates --------------------------------------------------------------------------------------------

    def duplicates(self) -> Iterator[Duplicate]:
        """Rows with the same review and natural key as an earlier row, in file order, compared with the first."""
        self._execute(f"""
            UPDATE {ROWS} SET first_row = d.first_row
            FROM (SELECT row_number, MIN(row_number) OVER (PARTITION BY state_id, session_id, natural_key) AS first_row
                  FROM {ROWS}) d
            WHERE d.row_number = {ROWS}.row_number AND d.first_row <> d.row_number""")  # fmt: skip
        cursor = connection.cursor()
        cursor.execute(f"""
            SELECT d.row_number, d.first_row, d.response_original, f.response_original, d.response = f.response,
                   d.text = f.text AND COALESCE(d.action_category, 0) = COALESCE(f.action_category, 0)
                   AND NOT EXISTS (SELECT 1 FROM {LINKS} a WHERE a.row_number = d.row_number AND a.link = 'i'
                        AND NOT EXISTS (SELECT 1 FROM {LINKS} b WHERE b.row_number = f.row_number
                                        AND b.link = 'i' AND b.target_id = a.target_id))
                   AND NOT EXISTS (SELECT 1 FROM {LINKS} a WHERE a.row_number = f.row_number AND a.link = 'i'
                        AND NOT EXISTS (SELECT 1 FROM {LINKS} b WHERE b.row_number = d.row_number
                                        AND b.link = 'i' AND b.target_id = a.target_id))
            FROM {ROWS} d JOIN {ROWS} f ON f.row_number = d.first_row
            ORDER BY d.row_number""")  # fmt: skip
        while batch := cursor.fetchmany(_BATCH):
            for row, first, original, first_original, same_response, same_values in batch:
                yield Duplicate(row, first, original, first_original, bool(same_response), bool(same_values))

    def duplicates_merge(self) -> None:
        """Each duplicate is imported once: the first row's values, with the issues of all its repeats."""
        repeats = f"SELECT row_number FROM {ROWS} WHERE first_row IS NOT NULL"
        self._execute(f"DELETE FROM {LINKS} WHERE link = 's' AND row_number IN ({repeats})")
        self._execute(f"""
            UPDATE {LINKS} SET row_number = r.first_row FROM {ROWS} r
            WHERE r.row_number = {LINKS}.row_number AND r.first_row IS NOT NULL""")  # fmt: skip
        self._execute(f"DELETE FROM {ROWS} WHERE first_row IS NOT NULL")

    # --- plan --------------------------------------------------------------------------------------------------

    def plan(self) -> None:
        """The plan table, in one pass: each row matched to its review and stored recommendation by natural key.

        A narrow table of its own rather than UPDATEs of the stage: updating a wide row rewrites it whole.
        """
        differs = " OR ".join(
            f"COALESCE(x.{name}, 0) <> COALESCE(s.{name}, 0)" if name == "action_category" else f"x.{name} <> s.{name}"
            for name in _VALUES
        )
        links_differ = []
        for link, table, column in (("i", _ISSUES, "issue_id"), ("s", _STATES, "state_id")):
            links_differ += [
                f"""EXISTS (SELECT 1 FROM {LINKS} l WHERE l.row_number = s.row_number AND l.link = '{link}'
                    AND NOT EXISTS (SELECT 1 FROM {table} t WHERE t.recommendation_id = x.id
                                    AND t.{column} = l.target_id))""",
                f"""EXISTS (SELECT 1 FROM {table} t WHERE t.recommendation_id = x.id
                    AND NOT EXISTS (SELECT 1 FROM {LINKS} l WHERE l.row_number = s.row_number
                                    AND l.link = '{link}' AND l.target_id = t.{column}))""",
            ]
        self._execute(f"""
            CREATE TEMP TABLE {PLAN} AS
            SELECT s.row_number, r.id AS review_id, x.id AS rec_id,
                   CASE WHEN x.id IS NULL THEN 'c' WHEN {differs} OR {" OR ".join(links_differ)} THEN 'u' ELSE 'n'
                   END AS op
            FROM {ROWS} s
            LEFT JOIN {_REVIEW} r ON r.state_id = s.state_id AND r.session_id = s.session_id
            LEFT JOIN {_REC} x ON x.review_id = r.id AND x.natural_key = s.natural_key""")  # fmt: skip
        self._execute(f"CREATE UNIQUE INDEX {PLAN}_row ON {PLAN} (row_number)")
        self._execute(f"ANALYZE {PLAN}")

    def counts(self) -> dict:
        def scalar(sql: str) -> int:
            self.cursor.execute(sql)
            return self.cursor.fetchone()[0]

        def grouped(sql: str) -> dict:
            self.cursor.execute(sql)
            return dict(self.cursor.fetchall())

        ops = grouped(f"SELECT op, COUNT(*) FROM {PLAN} GROUP BY op")
        self.cursor.execute(f"SELECT kind, response, COUNT(*) FROM {ROWS} GROUP BY kind, response")
        by_response = {(kind, response): n for kind, response, n in self.cursor.fetchall()}
        recommendations = {response: n for (kind, response), n in by_response.items() if kind != _PLEDGE}
        actions = grouped(f"SELECT action_category, COUNT(*) FROM {ROWS} WHERE kind <> '{_PLEDGE}' GROUP BY 1")
        return {
            "create": ops.get("c", 0),
            "update": ops.get("u", 0),
            "unchanged": ops.get("n", 0),
            "recommendations": sum(recommendations.values()),
            "pledges": sum(n for (kind, _), n in by_response.items() if kind == _PLEDGE),
            "accepted": recommendations.get(Recommendation.Response.ACCEPTED, 0),
            "noted": recommendations.get(Recommendation.Response.NOTED, 0),
            "pending": recommendations.get(Recommendation.Response.PENDING, 0),
            "action_categories": {str(n): actions.get(n, 0) for n in range(1, 6)},
            "states_under_review": scalar(f"SELECT COUNT(DISTINCT state_id) FROM {ROWS}"),
            "recommending_states": scalar(
                f"SELECT COUNT(DISTINCT l.target_id) FROM {LINKS} l JOIN {ROWS} r ON r.row_number = l.row_number "
                f"WHERE l.link = 's' AND r.kind <> '{_PLEDGE}'"
            ),
            "sessions": scalar(f"SELECT COUNT(DISTINCT session_id) FROM {ROWS}"),
            "reviews": scalar(f"SELECT COUNT(*) FROM (SELECT DISTINCT state_id, session_id FROM {ROWS}) s"),
            "reviews_to_create": scalar(
                f"SELECT COUNT(*) FROM (SELECT DISTINCT s.state_id, s.session_id FROM {ROWS} s "
                f"JOIN {PLAN} p ON p.row_number = s.row_number WHERE p.review_id IS NULL) m"
            ),
            "issues": scalar(f"SELECT COUNT(DISTINCT target_id) FROM {LINKS} WHERE link = 'i'"),
        }

    # --- commit ------------------------------------------------------------------------------------------------

    def commit(self) -> None:
        """Write the plan: missing reviews, new recommendations, changed ones, and their links."""
        self.cursor.execute(
            f"SELECT DISTINCT s.state_id, s.session_id FROM {ROWS} s JOIN {PLAN} p ON p.row_number = s.row_number "
            "WHERE p.review_id IS NULL"
        )
        missing = self.cursor.fetchall()
        if missing:
            Review.objects.bulk_create([Review(state_id=s, session_id=n) for s, n in missing], batch_size=_BATCH)
            self._execute(f"""
                UPDATE {PLAN} SET review_id = r.id FROM {ROWS} s, {_REVIEW} r
                WHERE {PLAN}.review_id IS NULL AND s.row_number = {PLAN}.row_number
                  AND r.state_id = s.state_id AND r.session_id = s.session_id""")  # fmt: skip
        self._ids_reserve()
        now = timezone.now()
        values = ", ".join(f"s.{name}" for name in _VALUES)
        self._execute(
            f"INSERT INTO {_REC} (id, review_id, natural_key, {', '.join(_VALUES)}, created_at, updated_at) "
            f"SELECT p.rec_id, p.review_id, s.natural_key, {values}, %s, %s "
            f"FROM {ROWS} s JOIN {PLAN} p ON p.row_number = s.row_number WHERE p.op = 'c' ORDER BY s.row_number",
            [now, now],
        )
        assignments = ", ".join(f"{name} = s.{name}" for name in _VALUES)
        self._execute(
            f"UPDATE {_REC} SET {assignments}, updated_at = %s "
            f"FROM {ROWS} s JOIN {PLAN} p ON p.row_number = s.row_number "
            f"WHERE {_REC}.id = p.rec_id AND p.op = 'u'",
            [now],
        )
        for link, table, column in (("i", _ISSUES, "issue_id"), ("s", _STATES, "state_id")):
            self._execute(f"DELETE FROM {table} WHERE recommendation_id IN (SELECT rec_id FROM {PLAN} WHERE op = 'u')")
            self._execute(f"""
                INSERT INTO {table} (recommendation_id, {column})
                SELECT DISTINCT p.rec_id, l.target_id FROM {LINKS} l JOIN {PLAN} p ON p.row_number = l.row_number
                WHERE l.link = '{link}' AND p.op IN ('c', 'u')""")  # fmt: skip

    def _ids_reserve(self) -> None:
        """Give each new recommendation its id before the insert, so that its links need no lookup afterwards."""
        if self.postgres:
            self.cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [Recommendation._meta.db_table])
            (sequence,) = self.cursor.fetchone()
            # nextval row by row: safe beside any other writer of the table.
            self._execute(f"UPDATE {PLAN} SET rec_id = nextval(%s::regclass) WHERE op = 'c'", [sequence])
        else:
            # SQLite has one writer at a time: the ids after the highest are ours until the commit.
            self._execute(f"""
                UPDATE {PLAN} SET rec_id = n.id
                FROM (SELECT row_number, (SELECT COALESCE(MAX(id), 0) FROM {_REC})
                                         + ROW_NUMBER() OVER (ORDER BY row_number) AS id
                      FROM {PLAN} WHERE op = 'c') n
                WHERE n.row_number = {PLAN}.row_number""")  # fmt: skip

    def _execute(self, sql: str, params=None) -> None:
        self.cursor.execute(sql, params)
