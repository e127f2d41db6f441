"""Give a natural key to every recommendation stored before migration 0002 added the column (natural_key = "").

Without it, importing again a file whose rows were stored before 0002 would create every recommendation a second
time instead of finding it. The key is computed as recommendations/imports/keys.py computes it. The formula is
copied here, not imported: a migration must keep doing what it did when it was written, whatever later becomes
of the app's code.

A row whose key would repeat another's in the same review (an existing key, or an earlier row of this backfill)
keeps an empty key, which the unique constraint allows; the migration prints how many rows it left so. Reverse: a
no-op (the keys are harmless to keep, and 0002's reverse drops the column anyway).
"""

import hashlib
import itertools

from django.db import migrations

BATCH = 2000


def _natural_key(*, kind: str, paragraph_ref: str, text: str, recommending_state_ids) -> str:
    """Copy of recommendations.imports.keys.recommendation_natural_key as of this migration (see the docstring)."""
    paragraph = paragraph_ref.strip().casefold()
    if paragraph:
        raw = f"p\x1f{paragraph}"
    else:
        states = ",".join(str(pk) for pk in sorted(set(recommending_state_ids)))
        text_normalised = " ".join(text.split()).casefold()
        raw = f"t\x1f{kind}\x1f{states}\x1f{text_normalised}"
    return hashlib.sha256(raw.encode()).hexdigest()


def natural_keys_backfill(apps, schema_editor=None, *, batch_size: int = BATCH) -> dict[str, int]:
    """Key every recommendation whose key is empty, batch by batch; returns {"keyed": n, "skipped": n}.

    Rows come in review order, so a batch touches few reviews; per batch, one query fetches the recommending
    states, one the keys already taken among those computed, and one bulk UPDATE writes the batch.
    """
    Recommendation = apps.get_model("recommendations", "Recommendation")
    Links = Recommendation.recommending_states.through
    blank = (
        Recommendation.objects.filter(natural_key="")
        .order_by("review_id", "pk")
        .only("pk", "review_id", "kind", "paragraph_ref", "text")
    )
    counts = {"keyed": 0, "skipped": 0}
    for batch in itertools.batched(blank.iterator(chunk_size=batch_size), batch_size):
        states: dict[int, list[int]] = {}
        for recommendation_id, state_id in Links.objects.filter(
            recommendation_id__in=[row.pk for row in batch]
        ).values_list("recommendation_id", "state_id"):
            states.setdefault(recommendation_id, []).append(state_id)
        keys = {
            row.pk: _natural_key(kind=row.kind, paragraph_ref=row.paragraph_ref, text=row.text,
                                 recommending_state_ids=states.get(row.pk, ()))
            for row in batch
        }  # fmt: skip
        # Keys written by earlier batches are in the table by now, so this also sees them.
        taken = set(
            Recommendation.objects.filter(
                review_id__in={row.review_id for row in batch}, natural_key__in=set(keys.values())
            ).values_list("review_id", "natural_key")
        )
        keyed = []
        for row in batch:
            if (row.review_id, keys[row.pk]) in taken:
                counts["skipped"] += 1
                continue
            taken.add((row.review_id, keys[row.pk]))
            row.natural_key = keys[row.pk]
            keyed.append(row)
        Recommendation.objects.bulk_update(keyed, ["natural_key"], batch_size=batch_size)
        counts["keyed"] += len(keyed)
    if counts["skipped"]:
        print(
            f"\n  Natural keys: {counts['keyed']} recommendations keyed; {counts['skipped']} left without a key, as "
            "their key would repeat another recommendation's in the same review."
        )
    return counts


class Migration(migrations.Migration):
    dependencies = [
        ("recommendations", "0004_importmapping_kind"),
    ]

    operations = [
        migrations.RunPython(natural_keys_backfill, migrations.RunPython.noop, elidable=True),
    ]
