"""Fill locale/fr/LC_MESSAGES/django.po from translation tables, and compile it (Babel; no gettext needed).

    python locale/translate.py fill TABLE.py   # after makemessages: add French for msgids found in TABLE
    python locale/translate.py compile         # what `make deps` runs: django.po -> django.mo
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parent / "fr" / "LC_MESSAGES" / "django.po"


def fill(table_path: str) -> None:
    tables = runpy.run_path(table_path)
    table, plurals = tables["FR"], tables.get("PLURALS", {})
    with PO.open("rb") as handle:
        catalog = read_po(handle, locale="fr")
    for message in catalog:
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        if key and isinstance(message.id, tuple) and key in plurals:
            message.string = plurals[key]
        elif key and key in table:
            message.string = table[key]
        else:
            continue
        message.flags.discard("fuzzy")
    with PO.open("wb") as handle:
        write_po(handle, catalog, width=120)


def compile_catalog() -> None:
    with PO.open("rb") as handle:
        catalog = read_po(handle, locale="fr")
    with PO.with_suffix(".mo").open("wb") as handle:
        write_mo(handle, catalog, use_fuzzy=False)


if __name__ == "__main__":
    if sys.argv[1:2] == ["fill"]:
        fill(sys.argv[2])
    else:
        compile_catalog()
