"""Spreadsheets as a desk officer would send them: the template changed, or made from scratch."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook, load_workbook


def sheet_rows(data: bytes, sheet: str = "Pledges") -> list[dict[str, Any]]:
    book = load_workbook(io.BytesIO(data))
    rows = list(book[sheet].iter_rows(values_only=True))
    header = list(rows[0])
    return [dict(zip(header, row, strict=False)) for row in rows[1:] if any(v is not None for v in row)]


def edited(template: bytes, change: dict[int, dict[str, Any]] | None = None,
           add: list[dict[str, Any]] | None = None) -> bytes:
    """The template with some pledges' cells changed (by pledge id) and new rows added below."""
    book = load_workbook(io.BytesIO(template))
    sheet = book["Pledges"]
    header = [cell.value for cell in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        pledge_id = row[header.index("id")].value
        for name, value in (change or {}).get(pledge_id, {}).items():
            row[header.index(name)].value = value
    for values in add or []:
        sheet.append([values.get(name) for name in header])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def workbook(rows: list[list[Any]], *, merge: str | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Pledges"
    for row in rows:
        sheet.append(row)
    if merge:
        sheet.merge_cells(merge)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
