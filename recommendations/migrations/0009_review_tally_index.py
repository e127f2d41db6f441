"""A review's recommendations through one covering index: rec_review_tally_idx on review_id, with the id, kind,
response and implementation status beside it, so that a review's counts (reviews.selectors) are an index-only scan.
It replaces the foreign key's own index on review_id.

On SQLite (the demo) the foreign key keeps its index: SQLite would rebuild the whole table to drop it, and the
trigger that keeps session_number (migration 0008's review_session_moved) refers to the table while it is rebuilt.
"""

import django.db.models.deletion
from django.db import migrations, models


def review_index_drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    model = apps.get_model("recommendations", "Recommendation")
    found = schema_editor._constraint_names(
        model, ["review_id"], index=True, unique=False, primary_key=False, exclude={"rec_review_tally_idx"}
    )
    for name in found:
        schema_editor.execute(schema_editor._delete_index_sql(model, name))


def review_index_restore(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    model = apps.get_model("recommendations", "Recommendation")
    schema_editor.execute(schema_editor._create_index_sql(model, fields=[model._meta.get_field("review")]))


class Migration(migrations.Migration):
    dependencies = [
        ("recommendations", "0008_bulk_load_switch"),
        ("reviews", "0001_initial"),
    ]

    # The new index first: while it is built only writes wait; dropping the old one after is quick. (Dropping first
    # would hold a lock that stops reads too for the whole build.)
    operations = [
        migrations.AddIndex(
            model_name="recommendation",
            index=models.Index(
                fields=["review"],
                include=("id", "kind", "response", "implementation_status"),
                name="rec_review_tally_idx",
            ),
        ),
        migrations.RunPython(review_index_drop, review_index_restore),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="recommendation",
                    name="review",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="recommendations",
                        to="reviews.review",
                    ),
                ),
            ],
        ),
    ]
