"""PostgreSQL only: each recommendation's recommending states and issues as bigint arrays, for the search facets.

Counting facets over the link tables joins every matching recommendation to tables of millions of rows, once per
facet; with the ids on the row itself a facet is an unnest() of the rows already read. The columns are not model
fields (SQLite has no arrays, and Python never writes them): statement-level triggers on the two link tables keep
them, whatever writes the links (the ORM's set()/add(), the imports' SQL, the generator's COPY), and
recommendations.facets reads them. Reverse: drop triggers, functions and columns.
"""

from django.db import migrations

REC = "recommendations_recommendation"
LINKS = {
    "recommending_state_ids": ("recommendations_recommendation_recommending_states", "state_id"),
    "issue_ids": ("recommendations_recommendation_issues", "issue_id"),
}


def _forward() -> list[str]:
    statements = []
    for column, (table, target) in LINKS.items():
        function = f"rec_{column}_refresh"
        statements += [
            f"ALTER TABLE {REC} ADD COLUMN {column} bigint[]",
            f"""UPDATE {REC} SET {column} = l.ids FROM (
                    SELECT recommendation_id, array_agg({target} ORDER BY {target}) AS ids FROM {table}
                    GROUP BY recommendation_id) l
                WHERE {REC}.id = l.recommendation_id""",
            # One set-based UPDATE per statement: a bulk load of a million links aggregates them in one pass.
            f"""CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    UPDATE {REC} SET {column} = a.ids FROM (
                        SELECT c.recommendation_id,
                               array_agg(l.{target} ORDER BY l.{target}) FILTER (WHERE l.{target} IS NOT NULL) AS ids
                        FROM (SELECT DISTINCT recommendation_id FROM changed) c
                        LEFT JOIN {table} l ON l.recommendation_id = c.recommendation_id
                        GROUP BY c.recommendation_id) a
                    WHERE {REC}.id = a.recommendation_id AND {REC}.{column} IS DISTINCT FROM a.ids;
                    RETURN NULL;
                END $$""",
        ]
        for event, transition in (("INSERT", "NEW"), ("DELETE", "OLD")):
            trigger = f"rec_{column}_{event.lower()}"
            statements += [
                f"""CREATE TRIGGER {trigger} AFTER {event} ON {table} REFERENCING {transition} TABLE AS changed
                    FOR EACH STATEMENT EXECUTE FUNCTION {function}()""",
                # Also under session_replication_role = replica, which the dataset generator's bulk load sets.
                f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {trigger}",
            ]
    return statements


def _reverse() -> list[str]:
    statements = []
    for column, (table, _target) in LINKS.items():
        for event in ("insert", "delete"):
            statements.append(f"DROP TRIGGER IF EXISTS rec_{column}_{event} ON {table}")
        statements += [f"DROP FUNCTION IF EXISTS rec_{column}_refresh()", f"ALTER TABLE {REC} DROP COLUMN {column}"]
    return statements


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements():
                schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("recommendations", "0006_browse_fields"),
    ]

    operations = [migrations.RunPython(_run(_forward), _run(_reverse))]
