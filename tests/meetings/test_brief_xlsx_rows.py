"""The annex's rows written as text (meetings.briefs.xlsx_rows) are the XML openpyxl writes for the same cells,
byte for byte, whatever the values: the workbook a reader opens is the one openpyxl would have made."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from meetings.briefs.xlsx_rows import with_rows
from tests.meetings.test_brief_any_text import TRICKY
from utilities.spreadsheet import text_cell

HEADER = ["Text", "Number", "More"]
SHEET = "xl/worksheets/sheet1.xml"

values = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**18), max_value=10**18),
    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(TRICKY),
    st.sampled_from(["", " ", "  padded ", "\tlead", "trail\n", "#N/A", "#DIV/0!", "x" * 40_000]),
    st.text(st.characters(exclude_categories=()), max_size=60),
)
rows_strategy = st.lists(st.lists(values, min_size=1, max_size=5), max_size=12)


def by_openpyxl(rows: list[list[Any]]) -> bytes:
    """The sheet as openpyxl writes it, each cell made as the annex used to make it."""
    book = Workbook()
    sheet = book.active
    for row in [HEADER, *rows]:
        sheet.append([text_cell(sheet, value) if isinstance(value, str) else value for value in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def by_text(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append([text_cell(sheet, value) for value in HEADER])
    buffer = io.BytesIO()
    book.save(buffer)
    return with_rows(buffer.getvalue(), {SHEET: rows})


def part(content: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        return package.read(name)


@pytest.mark.property
@settings(max_examples=150, deadline=None)
@given(rows=rows_strategy)
@example(rows=[[value] for value in TRICKY])
@example(rows=[["a", None, None], [None], [1.5, True, False, 0, -0.0, 1e300, 12345678901234567890]])
def test_rows_written_as_text_equal_openpyxls(rows: list[list[Any]]) -> None:
    expected, written = by_openpyxl(rows), by_text(rows)
    assert part(written, SHEET) == part(expected, SHEET)
    read = load_workbook(io.BytesIO(written)).active
    assert all(cell.data_type != "f" for row in read.iter_rows() for cell in row)


def test_a_cell_of_another_type_is_refused() -> None:
    with pytest.raises(TypeError):
        by_text([[{"not": "a cell"}]])
