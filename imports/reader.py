"""A pledge spreadsheet (XLSX or CSV) read into rows of cell values, refusing what a desk officer should fix first.

Both formats are streamed (imports.xlsx for workbooks; the CSV a line at a time) and bounded as imports.cells
says: only rows that hold something, only the columns the header names, every length counted. Formulas are never
evaluated: a formula cell gives the value the spreadsheet saved with it, and one saved without a value is an error
on its row. Macro workbooks (.xlsm), encrypted files, merged cells, files over 5 MB or 5,000 rows are refused whole.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from imports import xlsx
from imports.cells import (
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    CellProblem,
    Columns,
    FileRefused,
    SheetRow,
    present,
    refuse_long_cell,
    refuse_wide_row,
    shown,
)
from imports.columns import BY_NAME, EXPORT_ONLY, REQUIRED

MAX_BYTES = settings.IMPORT_MAX_BYTES
MAX_ROWS = 5_000
MAX_CSV_ROW_CHARS = 1_000_000  # one CSV record, however many lines its quoted cells span
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an encrypted workbook (or an old .xls) is an OLE compound file
FORMULA_QUOTE = re.compile(r"^'(?=[=+\-@\t\r])")  # the CSV export's guard against formulas, taken off again


@dataclass
class Row:
    number: int  # the spreadsheet's row number, as the desk officer sees it
    values: dict[str, Any]
    errors: dict[str, list[str]] = field(default_factory=dict)


def read_rows(filename: str, data: bytes) -> list[Row]:
    if not data:
        raise FileRefused(_("The file is empty."))
    if len(data) > MAX_BYTES:
        raise FileRefused(_("The file is %(size).1f MB; at most 5 MB can be imported.") % {
            "size": len(data) / 1024 / 1024})
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".xlsm":
        raise FileRefused(_("Workbooks with macros (.xlsm) are not accepted: save it as an Excel workbook (.xlsx)."))
    if data.startswith(OLE_MAGIC):
        raise FileRefused(_("The file is password-protected (encrypted) or an old Excel 97-2003 file: save it as an "
                            "Excel workbook (.xlsx) without a password."))
    if suffix == ".xlsx":
        if not data.startswith(b"PK"):
            raise FileRefused(_("The file is not an Excel workbook (.xlsx), although its name says so."))
        return _with_header(xlsx.sheet_rows(data))
    if suffix == ".csv":
        return _with_header(_csv_rows(data))
    raise FileRefused(_("Upload an Excel workbook (.xlsx) or a CSV file (.csv)."))


class _Lines:
    """The CSV's lines for csv.reader, decoded as they are read, refusing a record longer than MAX_CSV_ROW_CHARS
    (csv.reader asks for the next line only when its record goes on)."""

    def __init__(self, data: bytes) -> None:
        self.stream = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
        self.record = 0  # characters of the record being read
        self.records = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self.stream.readline(MAX_CSV_ROW_CHARS + 1)
        if not line:
            raise StopIteration
        self.record += len(line)
        if self.record > MAX_CSV_ROW_CHARS:
            raise FileRefused(_("Row %(row)s of the CSV file is longer than %(limit)s characters.") % {
                "row": self.records + 1, "limit": f"{MAX_CSV_ROW_CHARS:,}"})
        return line


def _csv_rows(data: bytes) -> Iterator[SheetRow]:
    if b"\x00" in data:
        raise (_not_utf8() if not _is_utf8(data) else FileRefused(_("The file is not a CSV text file.")))
    first_line = data.split(b"\n", 1)[0]
    delimiter = ";" if first_line.count(b";") > first_line.count(b",") else ","  # Excel in much of Europe uses ;
    lines = _Lines(data)
    columns = Columns()
    records = csv.reader(lines, delimiter=delimiter)
    while True:
        try:
            cells = next(records)
        except StopIteration:
            return
        except UnicodeDecodeError:
            raise _not_utf8() from None
        except csv.Error as error:
            if "field limit" in str(error):  # csv's own limit: 131,072 characters
                raise refuse_long_cell(lines.records + 1) from None
            raise FileRefused(_("Row %(row)s of the CSV file cannot be read as CSV: save the file again as 'CSV "
                                "UTF-8' and upload that.") % {"row": lines.records + 1}) from None
        lines.records += 1
        lines.record = 0
        number = lines.records
        if len(cells) > MAX_COLUMNS:
            raise refuse_wide_row(number)
        if not any(present(cell) for cell in cells):
            continue
        row = SheetRow(number=number, cells={})
        for position, cell in enumerate(cells):
            if columns.keeps(position) and cell:
                if len(cell) > MAX_CELL_CHARS:
                    raise refuse_long_cell(number)
                columns.count(cell)
                row.cells[position] = FORMULA_QUOTE.sub("", cell)
        if columns.named is None:
            columns.header_found(row)
        yield row


def _not_utf8() -> FileRefused:
    return FileRefused(_("The CSV file is not UTF-8 text: save it as 'CSV UTF-8'."))


def _is_utf8(data: bytes) -> bool:
    """Checked a piece at a time: decoding it whole could take four times its size."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(0, len(data), 64 * 1024):
            decoder.decode(data[start:start + 64 * 1024])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _header_name(cell: Any) -> str:
    return re.sub(r"\s+", "_", str(cell or "").strip().lower())


def _with_header(rows: Iterator[SheetRow]) -> list[Row]:
    header_row = next(rows, None)
    if header_row is None:
        raise FileRefused(_("The file has no rows: the first row names the columns, the next ones are pledges."))
    header = {position: _header_name(cell) for position, cell in sorted(header_row.cells.items())
              if _header_name(cell)}
    named = list(header.values())
    unknown = [name for name in named if name not in BY_NAME and name not in EXPORT_ONLY]
    missing = [name for name in REQUIRED if name not in named]
    duplicated = sorted({name for name in named if named.count(name) > 1})
    problems = []
    if unknown:
        problems.append(_("unknown column(s) %(names)s") % {"names": _listed(unknown)})
    if missing:
        problems.append(_("missing column(s) %(names)s") % {"names": _listed(missing)})
    if duplicated:
        problems.append(_("column(s) given twice %(names)s") % {"names": _listed(duplicated)})
    if problems:
        raise FileRefused(_("Row %(row)s must name the columns: %(problems)s. The columns are: %(columns)s (download "
                            "the template to start from them).") % {
            "row": header_row.number, "problems": "; ".join(problems), "columns": ", ".join(BY_NAME)})
    read = {position: name for position, name in header.items() if name not in EXPORT_ONLY or name == "coalition"}
    result: list[Row] = []
    for sheet_row in rows:
        if len(result) == MAX_ROWS:
            raise FileRefused(_("The file has more than %(rows)s pledge rows; split it into several files.") % {
                "rows": f"{MAX_ROWS:,}"})
        row = Row(number=sheet_row.number, values={})
        for position, name in read.items():
            value = sheet_row.cells.get(position)
            if position in sheet_row.unsaved:
                row.errors.setdefault(name, []).append(
                    _("a formula with no saved value: open the file in a spreadsheet, save it, and upload it again "
                      "(or type the value)."))
            if isinstance(value, CellProblem):
                row.errors.setdefault(name, []).append(value.message)
                value = None
            row.values[name] = value.strip() if isinstance(value, str) else value
        result.append(row)
    if not result:
        raise FileRefused(_("The file has no pledge rows under its header row."))
    return result


def _listed(names: list[str]) -> str:
    quoted = [f"'{shown(name, 40)}'" for name in names[:10]]
    return ", ".join(quoted + (["…"] if len(names) > 10 else []))


def as_date(value: Any) -> dt.date | None:
    """A date cell, or text written year-month-day. Anything else raises ValueError with words to show."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    if re.fullmatch(r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}", text):
        raise ValueError(_("'%(text)s' could be read day-month or month-day: write it as year-month-day "
                           "(e.g. 2026-04-03) or use a date cell.") % {"text": shown(text)})
    raise ValueError(_("'%(text)s' is not a date: write it as year-month-day (e.g. 2026-04-03) or use a date "
                       "cell.") % {"text": shown(text)})
