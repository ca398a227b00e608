"""The search key of a place name: what a user types and what the gazetteer holds, brought to one form.

Accents go ("Rzeszów" is found by "rzeszow", "Constanța" and "Constanţa" by "constanta"), case folds, and the
letters Unicode does not decompose are spelled out. Transliterations ("Kiev" for Kyiv, "Odessa" for Odesa) are
GeoNames' own alternate names, each kept in the key.
"""

from __future__ import annotations

import unicodedata

# Letters with no decomposition into a base letter and a mark.
_SPELLED = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe",
                          "\u0131": "i", "ħ": "h", "ŧ": "t", "ŀ": "l", "'": "",
                          # the apostrophes of transliterations (modifier letters) and of typography
                          "\u02bb": "", "\u02bc": "", "\u2019": ""})
SEPARATOR = "|"


def search_key(text: str) -> str:
    """One name in search form: lower case, no accents, single spaces, no separator."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_SPELLED))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.replace(SEPARATOR, " ").replace("-", " ").split())


def names_key(names: list[str]) -> str:
    """Every name of a place in search form, each between separators, so "|kiev" finds a name starting so."""
    keys = dict.fromkeys(key for key in map(search_key, names) if key)
    return SEPARATOR + SEPARATOR.join(keys) + SEPARATOR
