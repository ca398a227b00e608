"""The annex's data rows, written into the saved workbook as openpyxl writes them, without openpyxl's cells.

openpyxl builds an object per cell and an element tree per cell to serialise it: at 100,000 pledges the annex has
some 390,000 cells and that took about 5 s of CPU (its write-only mode writes cells the same way and saved nothing
measurable). Here openpyxl writes the workbook with each sheet's header row only (styles, widths, the frozen
header, the filter, the workbook's parts), and the rows under each header are then written as text into the
sheet's part, the XML openpyxl itself writes for such a cell, byte for byte
(tests/meetings/test_brief_xlsx_rows.py compares the two):

- a str is an inline string (type "s", never a formula or an error code, whatever it starts with), with the text
  rule of utilities.spreadsheet.text_cell (characters XML cannot carry removed, line breaks as line feeds) and
  openpyxl's cut at 32,767 characters;
- an int or a float a number, a bool a boolean; None no cell at all.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Mapping
from typing import Any

from openpyxl.utils import column_index_from_string, get_column_letter

from utilities.spreadsheet import LINE_BREAKS
from utilities.text import printable

MAX_TEXT = 32_767  # openpyxl's (and Excel's) longest cell text
_DIMENSION = re.compile(rb'<dimension ref="A1:([A-Z]+)1" />')
_ROWS_END = b"</sheetData>"


def _text_cell(reference: str, value: str) -> str:
    text = LINE_BREAKS.sub("\n", printable(value))[:MAX_TEXT]
    if not text:
        return f'<c r="{reference}" t="inlineStr" />'
    stripped = text.strip()
    space = ' xml:space="preserve"' if stripped and stripped != text else ""  # as openpyxl's `whitespace`
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<c r="{reference}" t="inlineStr"><is><t{space}>{text}</t></is></c>'


def rows_xml(rows: Iterable[list[Any]], first: int) -> tuple[str, int, int]:
    """The XML of `rows` numbered from row `first`, and the last row and widest column written."""
    letters: list[str] = []
    parts: list[str] = []
    append = parts.append
    number, widest = first - 1, 0
    for number, row in enumerate(rows, start=first):
        if len(row) > len(letters):
            letters = [get_column_letter(index) for index in range(1, len(row) + 1)]
        widest = max(widest, len(row))
        append(f'<row r="{number}">')
        for letter, value in zip(letters, row, strict=False):
            if value is None:
                continue
            if isinstance(value, str):
                append(_text_cell(f"{letter}{number}", value))
            elif isinstance(value, bool):
                append(f'<c r="{letter}{number}" t="b"><v>{int(value)}</v></c>')
            elif isinstance(value, int | float):
                append(f'<c r="{letter}{number}" t="n"><v>{value:.16g}</v></c>')
            else:
                raise TypeError(f"An annex cell holds text, a number, a boolean or nothing, not {type(value)!r}.")
        append("</row>")
    return "".join(parts), number, widest


def with_rows(content: bytes, rows_by_part: Mapping[str, list[list[Any]]]) -> bytes:
    """The saved workbook `content` with each part's rows (by the sheet's path in the package, openpyxl's
    `sheet.path` without its leading slash) written after its header row, and its dimension widened to them."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            rows = rows_by_part.get(info.filename)
            if rows:
                header = _DIMENSION.search(data)  # the header row's: A1 to its last column
                head, end, tail = data.partition(_ROWS_END)
                if header is None or not end:
                    raise RuntimeError(f"{info.filename}: not a sheet of one header row as openpyxl writes it")
                body, last, widest = rows_xml(rows, 2)
                columns = max(column_index_from_string(header.group(1).decode()), widest)
                dimension = f'<dimension ref="A1:{get_column_letter(columns)}{last}" />'.encode()
                head = head[:header.start()] + dimension + head[header.end():]
                data = head + body.encode() + end + tail
            target.writestr(info, data)
    return out.getvalue()
