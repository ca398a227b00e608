"""One rule for every text a spreadsheet of ours holds (the brief's annex, the import template)."""

from __future__ import annotations

import re
from typing import Any

from openpyxl.cell.cell import Cell

from utilities.text import printable

LINE_BREAKS = re.compile(r"\r\n?")


def text_cell(sheet: Any, value: str) -> Cell:
    """Text stays text: a value starting with "=" is never a formula (openpyxl would store it as one); characters
    XML cannot carry are removed; and since a carriage return cannot survive in XML text (every reader turns it
    into a line feed), line breaks are written as the line feeds a spreadsheet shows."""
    cell = Cell(sheet, value=LINE_BREAKS.sub("\n", printable(value)))
    cell.data_type = "s"
    return cell
