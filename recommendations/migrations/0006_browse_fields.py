"""Columns for browsing, kept by the database itself so that every way of writing rows (ORM, imports' SQL, the
dataset generator's COPY) keeps them true:

- session_number: the review's session, by a trigger on insert and on a change of review, and by one on reviews
  when a review moves to another session (PostgreSQL and SQLite alike);
- search_vector (PostgreSQL only): to_tsvector('english', text) by a trigger, with a GIN index for full-text
  search; SQLite leaves it empty and searches with LIKE;
- implementation_status: filled here once; afterwards followup.status.implementation_status_refresh keeps it.

The SQL is written out here rather than imported, so that the migration keeps doing what it did when written.
"""

import django.contrib.postgres.search
from django.db import migrations, models


REC = "recommendations_recommendation"

POSTGRES_FORWARD = [
    f"""CREATE FUNCTION recommendation_browse_fields() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.search_vector := to_tsvector('english'::regconfig, NEW.text);
        NEW.session_number := (SELECT s.number FROM reviews_review r JOIN reviews_session s ON s.id = r.session_id
                               WHERE r.id = NEW.review_id);
        RETURN NEW;
    END $$""",
    f"""CREATE TRIGGER recommendation_browse_fields BEFORE INSERT OR UPDATE OF text, review_id, session_number,
    search_vector ON {REC} FOR EACH ROW EXECUTE FUNCTION recommendation_browse_fields()""",
    # Also under session_replication_role = replica, which the dataset generator's bulk load sets.
    f"ALTER TABLE {REC} ENABLE ALWAYS TRIGGER recommendation_browse_fields",
    f"""CREATE FUNCTION review_session_moved() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE {REC} SET session_number = (SELECT number FROM reviews_session WHERE id = NEW.session_id)
        WHERE review_id = NEW.id;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER review_session_moved AFTER UPDATE OF session_id ON reviews_review FOR EACH ROW
    WHEN (OLD.session_id IS DISTINCT FROM NEW.session_id) EXECUTE FUNCTION review_session_moved()""",
    "ALTER TABLE reviews_review ENABLE ALWAYS TRIGGER review_session_moved",
    f"UPDATE {REC} SET text = text",  # fires the trigger once for the rows already stored
    f"CREATE INDEX rec_search_vector_gin ON {REC} USING gin (search_vector)",
]
POSTGRES_REVERSE = [
    "DROP INDEX IF EXISTS rec_search_vector_gin",
    "DROP TRIGGER IF EXISTS review_session_moved ON reviews_review",
    "DROP FUNCTION IF EXISTS review_session_moved()",
    f"DROP TRIGGER IF EXISTS recommendation_browse_fields ON {REC}",
    "DROP FUNCTION IF EXISTS recommendation_browse_fields()",
]
_SQLITE_SESSION = "(SELECT s.number FROM reviews_review r JOIN reviews_session s ON s.id = r.session_id WHERE r.id = NEW.review_id)"
SQLITE_FORWARD = [
    f"""CREATE TRIGGER recommendation_session_insert AFTER INSERT ON {REC} FOR EACH ROW BEGIN
        UPDATE {REC} SET session_number = {_SQLITE_SESSION} WHERE id = NEW.id; END""",
    f"""CREATE TRIGGER recommendation_session_update AFTER UPDATE OF review_id, session_number ON {REC} FOR EACH ROW
        BEGIN UPDATE {REC} SET session_number = {_SQLITE_SESSION} WHERE id = NEW.id; END""",
    f"""CREATE TRIGGER review_session_moved AFTER UPDATE OF session_id ON reviews_review FOR EACH ROW
        WHEN OLD.session_id IS NOT NEW.session_id BEGIN
        UPDATE {REC} SET session_number = (SELECT number FROM reviews_session WHERE id = NEW.session_id)
        WHERE review_id = NEW.id; END""",
    f"UPDATE {REC} SET session_number = NULL",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS recommendation_session_insert",
    "DROP TRIGGER IF EXISTS recommendation_session_update",
    "DROP TRIGGER IF EXISTS review_session_moved",
]

# The consolidated mid-term status as followup.status computes it (copied: see the docstring).
STATUS_FILL = f"""
    UPDATE {REC} SET implementation_status = c.status
    FROM (SELECT recommendation_id, status FROM (
              SELECT recommendation_id, status, ROW_NUMBER() OVER (
                  PARTITION BY recommendation_id
                  ORDER BY status = 'no_information', n DESC,
                           CASE status WHEN 'not_implemented' THEN 0 WHEN 'partially_implemented' THEN 1 ELSE 2 END
              ) AS rank
              FROM (SELECT recommendation_id, status, COUNT(*) AS n FROM followup_assessment
                    WHERE phase = 'mid_term' AND visibility = 'public' GROUP BY recommendation_id, status) counts
          ) ranked WHERE rank = 1) c
    WHERE {REC}.id = c.recommendation_id"""


def _run(statements):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for sql in statements.get(vendor, []):
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ('recommendations', '0005_backfill_natural_key'),
        ('reviews', '0001_initial'),
        ('followup', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='recommendation',
            name='implementation_status',
            field=models.CharField(blank=True, db_default='', default='', editable=False, help_text='Consolidated status of the public mid-term assessments (majority, a tie to the lower status); empty when none.', max_length=22, verbose_name='implementation status at mid-term'),
        ),
        migrations.AddField(
            model_name='recommendation',
            name='search_vector',
            field=django.contrib.postgres.search.SearchVectorField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='recommendation',
            name='session_number',
            field=models.PositiveSmallIntegerField(blank=True, editable=False, help_text="The review's session number (for sorting by date).", null=True),
        ),
        migrations.AddIndex(
            model_name='recommendation',
            index=models.Index(fields=['-session_number', 'id'], name='rec_session_desc_idx'),
        ),
        migrations.AddIndex(
            model_name='recommendation',
            index=models.Index(fields=['implementation_status'], name='rec_implementation_idx'),
        ),
        migrations.RunPython(
            _run({"postgresql": POSTGRES_FORWARD + [STATUS_FILL], "sqlite": SQLITE_FORWARD + [STATUS_FILL]}),
            _run({"postgresql": POSTGRES_REVERSE, "sqlite": SQLITE_REVERSE}),
        ),
    ]
