"""What a spreadsheet row is read into, and the bounds every reader (XLSX or CSV) holds it to.

A reader streams its file and hands over one `SheetRow` at a time, never the whole file: only rows that hold
something, and of each row only the cells the import will look at. Until the header row is found every column is
kept; from then on only the columns the header names (`Columns`). Everything kept is bounded: a cell's length (a
spreadsheet cell holds at most 32,767 characters), cells per row (a sheet has 16,384 columns), and the text kept
in all (as much as a 5 MB CSV file could hold), so that what a file costs to read never depends on what it
claims.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

MAX_COLUMNS = 16_384  # column XFD: the most a spreadsheet row can have
MAX_SHEET_ROWS = 1_048_576  # the most a sheet can have
MAX_CELL_CHARS = 32_767  # the most a spreadsheet cell can hold
MAX_TEXT_CHARS = settings.IMPORT_MAX_BYTES  # characters kept from all cells: what a 5 MB CSV file could hold


class FileRefused(Exception):
    """The whole file is refused; the message says what to do."""


@dataclass(frozen=True)
class CellProblem:
    """A cell whose value cannot be taken as it is (a number cell holding words, a date no calendar has): an error
    on its row, naming its column, rather than a refusal of the whole file."""

    message: str
    text: str  # what the cell held, cut short: the header uses it as the column's name

    def __str__(self) -> str:
        return self.text


@dataclass
class SheetRow:
    number: int  # the spreadsheet's row number, as the desk officer sees it
    cells: dict[int, Any]  # column position (0 for A) -> value, for the kept columns
    unsaved: set[int] = field(default_factory=set)  # kept columns holding a formula saved without its value


def present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


class Columns:
    """Which columns a reader keeps, and the text kept so far."""

    def __init__(self) -> None:
        self.named: set[int] | None = None  # None until the header row is read: every column is kept
        self.text = 0

    def keeps(self, position: int) -> bool:
        return self.named is None or position in self.named

    def header_found(self, row: SheetRow) -> None:
        """The first row that holds something names the columns: from the next row on, only those are kept."""
        self.named = {position for position, value in row.cells.items() if present(value)}

    def count(self, text: str) -> None:
        self.text += len(text)
        if self.text > MAX_TEXT_CHARS:
            raise FileRefused(_("The cells hold more than %(limit)s characters of text, more than a 5 MB file can "
                                "import: split it into several files.") % {"limit": f"{MAX_TEXT_CHARS:,}"})


def refuse_long_cell(row: int) -> FileRefused:
    return FileRefused(_("Row %(row)s has a cell of more than %(limit)s characters, the most a spreadsheet cell can "
                         "hold.") % {"row": row, "limit": f"{MAX_CELL_CHARS:,}"})


def refuse_wide_row(row: int) -> FileRefused:
    return FileRefused(_("Row %(row)s has more than %(limit)s cells, the most a spreadsheet row can have.") % {
        "row": row, "limit": f"{MAX_COLUMNS:,}"})


def shown(text: str, limit: int = 60) -> str:
    """A value the user gave, cut short to be quoted in a message."""
    return text if len(text) <= limit else text[:limit - 1] + "…"
