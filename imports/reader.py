"""A pledge spreadsheet (XLSX or CSV) read into rows of cell values, refusing what a desk officer should fix first.

openpyxl reads the workbook in read-only mode with defusedxml installed (as openpyxl recommends: no XML entity
expansion); formulas are never evaluated: a formula cell gives the value the spreadsheet saved with it, and one
saved without a value is an error on its row. Macro workbooks (.xlsm), encrypted files, merged cells, files
over 5 MB or 5,000 rows are refused whole.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from imports.columns import BY_NAME, EXPORT_ONLY, REQUIRED

MAX_BYTES = settings.IMPORT_MAX_BYTES
MAX_ROWS = 5_000
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an encrypted workbook (or an old .xls) is an OLE compound file
FORMULA_QUOTE = re.compile(r"^'(?=[=+\-@\t\r])")  # the CSV export's guard against formulas, taken off again


class FileRefused(Exception):
    """The whole file is refused; the message says what to do."""


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
        rows = _xlsx_rows(data)
    elif suffix == ".csv":
        rows = _csv_rows(data)
    else:
        raise FileRefused(_("Upload an Excel workbook (.xlsx) or a CSV file (.csv)."))
    return _with_header(rows)


def _xlsx_rows(data: bytes) -> list[tuple[int, list[Any], list[bool]]]:
    """(row number, values, which cells are formulas without a saved value) for each row of the first sheet."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise FileRefused(_("The file is not an Excel workbook (.xlsx), although its name says so."))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if any(name.lower().endswith("vbaproject.bin") for name in names):
                raise FileRefused(_("The workbook contains macros: save it as an Excel workbook (.xlsx) without them."))
        values = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        formulas = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except FileRefused:
        raise
    except Exception:  # openpyxl's errors for a damaged or foreign file are many; none is the user's to read
        raise FileRefused(_("The file could not be read as an Excel workbook (.xlsx): is it damaged?")) from None
    sheet_name = "Pledges" if "Pledges" in values.sheetnames else values.sheetnames[0]
    sheet, formula_sheet = values[sheet_name], formulas[sheet_name]
    _refuse_merged_cells(data, values, sheet_name)
    rows = []
    for number, (cells, formula_cells) in enumerate(
            zip(sheet.iter_rows(values_only=True), formula_sheet.iter_rows(values_only=True), strict=False), start=1):
        unsaved = [value is None and isinstance(formula, str) and formula.startswith("=")
                   for value, formula in zip(cells, formula_cells, strict=False)]
        rows.append((number, list(cells), unsaved))
        if number > MAX_ROWS + 1:
            break
    values.close()
    formulas.close()
    return rows


def _refuse_merged_cells(data: bytes, book: Any, sheet_name: str) -> None:
    """Read-only worksheets do not list merged cells: look for them in the sheet's own XML."""
    path = book[sheet_name]._worksheet_path  # where the workbook's relations put this sheet
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read(path)
    found = re.findall(rb'<mergeCell ref="([A-Z]+[0-9]+:[A-Z]+[0-9]+)"', xml)
    if found:
        cells = ", ".join(ref.decode() for ref in found[:5])
        raise FileRefused(_("The sheet '%(sheet)s' has merged cells (%(cells)s): unmerge them, one value per cell.") % {
            "sheet": sheet_name, "cells": cells})


def _csv_rows(data: bytes) -> list[tuple[int, list[Any], list[bool]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileRefused(_("The CSV file is not UTF-8 text: save it as 'CSV UTF-8'.")) from None
    if "\x00" in text:
        raise FileRefused(_("The file is not a CSV text file."))
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","  # Excel in much of Europe uses ;
    rows = []
    for number, cells in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1):
        rows.append((number, [FORMULA_QUOTE.sub("", cell) for cell in cells], [False] * len(cells)))
        if number > MAX_ROWS + 1:
            break
    return rows


def _header_name(cell: Any) -> str:
    return re.sub(r"\s+", "_", str(cell or "").strip().lower())


def _with_header(rows: list[tuple[int, list[Any], list[bool]]]) -> list[Row]:
    rows = [(n, cells, unsaved) for n, cells, unsaved in rows if any(_present(c) for c in cells) or any(unsaved)]
    if not rows:
        raise FileRefused(_("The file has no rows: the first row names the columns, the next ones are pledges."))
    header_number, header_cells, _unsaved = rows[0]
    header = [_header_name(cell) for cell in header_cells]
    named = [name for name in header if name]
    unknown = [name for name in named if name not in BY_NAME and name not in EXPORT_ONLY]
    missing = [name for name in REQUIRED if name not in named]
    duplicated = sorted({name for name in named if named.count(name) > 1})
    problems = []
    if unknown:
        problems.append(_("unknown column(s) %(names)s") % {"names": ", ".join(f"'{name}'" for name in unknown)})
    if missing:
        problems.append(_("missing column(s) %(names)s") % {"names": ", ".join(f"'{name}'" for name in missing)})
    if duplicated:
        problems.append(_("column(s) given twice %(names)s") % {"names": ", ".join(f"'{n}'" for n in duplicated)})
    if problems:
        raise FileRefused(_("Row %(row)s must name the columns: %(problems)s. The columns are: %(columns)s (download "
                            "the template to start from them).") % {
            "row": header_number, "problems": "; ".join(problems), "columns": ", ".join(BY_NAME)})
    body = rows[1:]
    if not body:
        raise FileRefused(_("The file has no pledge rows under its header row."))
    if len(body) > MAX_ROWS:
        raise FileRefused(_("The file has more than %(rows)s pledge rows; split it into several files.") % {
            "rows": f"{MAX_ROWS:,}"})
    result = []
    for number, cells, unsaved in body:
        row = Row(number=number, values={})
        for position, name in enumerate(header):
            if not name or (name in EXPORT_ONLY and name != "coalition"):
                continue
            value = cells[position] if position < len(cells) else None
            if position < len(unsaved) and unsaved[position]:
                row.errors.setdefault(name, []).append(
                    _("a formula with no saved value: open the file in a spreadsheet, save it, and upload it again "
                      "(or type the value)."))
            row.values[name] = value.strip() if isinstance(value, str) else value
        result.append(row)
    return result


def _present(cell: Any) -> bool:
    return cell is not None and not (isinstance(cell, str) and not cell.strip())


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
                           "(e.g. 2026-04-03) or use a date cell.") % {"text": text})
    raise ValueError(_("'%(text)s' is not a date: write it as year-month-day (e.g. 2026-04-03) or use a date "
                       "cell.") % {"text": text})
