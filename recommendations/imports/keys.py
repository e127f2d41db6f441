"""The natural key that makes imports idempotent; the dataset generator computes the same one."""

import hashlib
from collections.abc import Iterable


def text_normalise(text: str) -> str:
    """Whitespace collapsed, case folded: the form under which two texts count as the same recommendation."""
    return " ".join(text.split()).casefold()


def recommendation_natural_key(
    *, kind: str, paragraph_ref: str, text: str, recommending_state_ids: Iterable[int]
) -> str:
    """sha256 hex of the paragraph reference where there is one, else of kind + recommending states + text.

    Unique together with the review (a constraint on Recommendation), so the review is not part of the hash.
    """
    paragraph = paragraph_ref.strip().casefold()
    if paragraph:
        raw = f"p\x1f{paragraph}"
    else:
        states = ",".join(str(pk) for pk in sorted(set(recommending_state_ids)))
        raw = f"t\x1f{kind}\x1f{states}\x1f{text_normalise(text)}"
    return hashlib.sha256(raw.encode()).hexdigest()
