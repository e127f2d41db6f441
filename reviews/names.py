"""How state names are compared: one normal form shared by aliases, importers and search."""

import re
import unicodedata

_NON_WORD = re.compile(r"[^a-z0-9]+")
_REPLACEMENTS = (("&", " and "), ("’", "'"))


def normalise_name(name: str) -> str:
    """Fold case, accents, '&' and punctuation: "Côte d’Ivoire" and "cote d'ivoire" compare equal."""
    text = name.strip().casefold()
    for old, new in _REPLACEMENTS:
        text = text.replace(old, new)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("'", "")
    return _NON_WORD.sub(" ", text).strip()
