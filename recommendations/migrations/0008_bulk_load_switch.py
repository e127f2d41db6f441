"""PostgreSQL only: the browse-column triggers of migrations 0006 and 0007 stand aside for a bulk load.

When the transaction has set `uprtrax.bulk_load` to `on` (SET LOCAL, as the dataset generator does), the triggers
leave session_number, search_vector and the two id arrays alone: the generator writes those columns itself, each
row once, instead of the triggers rewriting a million rows once per link table (458 s instead of about 100 s).
Anything else that writes rows leaves the setting unset, and the triggers keep the columns as before.
"""

from django.db import migrations

REC = "recommendations_recommendation"
SWITCH = "current_setting('uprtrax.bulk_load', true) = 'on'"
LINKS = {
    "recommending_state_ids": ("recommendations_recommendation_recommending_states", "state_id"),
    "issue_ids": ("recommendations_recommendation_issues", "issue_id"),
}


def _browse_fields(guard: bool) -> str:
    skip = f"IF {SWITCH} THEN RETURN NEW; END IF;" if guard else ""
    return f"""CREATE OR REPLACE FUNCTION recommendation_browse_fields() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {skip}
        NEW.search_vector := to_tsvector('english'::regconfig, NEW.text);
        NEW.session_number := (SELECT s.number FROM reviews_review r JOIN reviews_session s ON s.id = r.session_id
                               WHERE r.id = NEW.review_id);
        RETURN NEW;
    END $$"""


def _link_refresh(column: str, guard: bool) -> str:
    table, target = LINKS[column]
    skip = f"IF {SWITCH} THEN RETURN NULL; END IF;" if guard else ""
    return f"""CREATE OR REPLACE FUNCTION rec_{column}_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {skip}
        UPDATE {REC} SET {column} = a.ids FROM (
            SELECT c.recommendation_id,
                   array_agg(l.{target} ORDER BY l.{target}) FILTER (WHERE l.{target} IS NOT NULL) AS ids
            FROM (SELECT DISTINCT recommendation_id FROM changed) c
            LEFT JOIN {table} l ON l.recommendation_id = c.recommendation_id
            GROUP BY c.recommendation_id) a
        WHERE {REC}.id = a.recommendation_id AND {REC}.{column} IS DISTINCT FROM a.ids;
        RETURN NULL;
    END $$"""


def _statements(guard: bool) -> list[str]:
    return [_browse_fields(guard), *(_link_refresh(column, guard) for column in LINKS)]


def _run(guard: bool):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in _statements(guard):
                schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("recommendations", "0007_browse_arrays"),
    ]

    operations = [migrations.RunPython(_run(True), _run(False))]
