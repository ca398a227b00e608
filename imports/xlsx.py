"""The rows of a workbook's pledge sheet (XLSX), streamed: what a file costs to read never depends on what it claims.

A workbook is a zip of XML parts. Each part read here (the package's relations, the workbook, its relations, the
styles, the shared strings, the sheet) is parsed by expat as it unpacks, a chunk at a time, with:
- its unpacked size at most MAX_PART_BYTES and at most MAX_RATIO times its packed size (past the first MB): a
  zip bomb is refused from the sizes its zip declares, before anything is unpacked (zipfile never unpacks more
  than a part declares, and checks its CRC at the end);
- no DTD at all (so no entity can expand), at most MAX_DEPTH nested elements, and at most MAX_PENDING bytes held
  for one unfinished tag, comment or instruction;
- only what the import needs kept: from the sheet, each row's cells in the columns the header names (a sheet's
  `dimension`, the width it claims, is never read), at most 16,384 cells a row in column order, rows in order;
  from the shared strings, their text packed as UTF-8 within MAX_SHARED_BYTES.
Cell values are what openpyxl would give (numbers, text, booleans, dates for date-formatted numbers, the saved
value of a formula); a cell that claims a type its value does not have is an error on its row.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import posixpath
import re
import zipfile
import zlib
from array import array
from collections.abc import Iterator
from typing import Any
from xml.parsers import expat

from django.utils.translation import gettext as _
from openpyxl.styles.numbers import builtin_format_code, is_date_format, is_timedelta_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

from imports.cells import (
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    MAX_SHEET_ROWS,
    CellProblem,
    Columns,
    FileRefused,
    SheetRow,
    present,
    refuse_long_cell,
    refuse_wide_row,
    shown,
)

MAX_PART_BYTES = 32 * 1024 * 1024  # unpacked; a 5,000-row template's sheet is about 1.3 MB
MAX_RATIO = 100  # unpacked to packed; XML deflates about 10 to 20 times, whitespace 1,000 times
RATIO_GRACE = 1024 * 1024  # parts smaller than this unpack as they like
MAX_PARTS = 1_000  # entries in the zip (a template has 10)
MAX_DEPTH = 64  # nested elements (a sheet needs 7)
MAX_ELEMENTS = 500_000  # of one part: each costs microseconds (a 5,000-row template of 16 columns has 130,000)
MAX_PENDING = 1024 * 1024  # bytes expat may hold for one unfinished token
MAX_SHARED_BYTES = 8 * 1024 * 1024  # the shared strings' text, as UTF-8
MAX_SHARED_STRINGS = 1_000_000
MAX_RELATIONSHIPS = 10_000
MAX_STYLES = 65_536  # cell formats (Excel allows 64,000)
CHUNK = 64 * 1024
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?")
OFFICE_DOCUMENT = "/officeDocument"  # relationship types end so, transitional or strict OOXML alike


def sheet_rows(data: bytes) -> Iterator[SheetRow]:
    """Each row of the pledge sheet ("Pledges", or else the first worksheet) that holds something."""
    if data.count(b"PK\x01\x02") > MAX_PARTS:  # central directory entries, counted before zipfile lists them
        raise FileRefused(_("The workbook has more than %(limit)s parts: is it a pledge spreadsheet?") % {
            "limit": f"{MAX_PARTS:,}"})
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        raise _damaged() from None
    names = set(archive.namelist())
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise FileRefused(_("The workbook contains macros: save it as an Excel workbook (.xlsx) without them."))
    book_path = (_Relationships(archive, "_rels/.rels", source="").find(OFFICE_DOCUMENT) if "_rels/.rels" in names
                 else "xl/workbook.xml")
    if book_path is None:
        raise _damaged(_("it names no workbook part"))
    book = _Workbook(archive, book_path)
    relations = _Relationships(archive, _relationships_of(book_path), source=book_path)
    sheet = book.pledge_sheet(relations)
    styles_path = relations.find("/styles")
    date_styles = _Styles(archive, styles_path).kinds if styles_path else bytearray()
    strings_path = relations.find("/sharedStrings")
    strings = _SharedStrings(archive, strings_path or "")
    yield from _Sheet(archive, sheet, strings, date_styles, book.epoch).rows()


def _damaged(detail: str | None = None) -> FileRefused:
    if detail is None:
        return FileRefused(_("The file could not be read as an Excel workbook (.xlsx): is it damaged?"))
    return FileRefused(_("The file could not be read as an Excel workbook (.xlsx): %(detail)s. Open it in a "
                         "spreadsheet, save it again and upload that.") % {"detail": detail})


def _relationships_of(path: str) -> str:
    folder, name = posixpath.split(path)
    return posixpath.join(folder, "_rels", f"{name}.rels")


class _Part:
    """One XML part parsed as it unpacks; subclasses take the elements they need by local name."""

    def __init__(self, archive: zipfile.ZipFile, path: str) -> None:
        self.archive, self.path = archive, path
        self.depth = self.elements = 0
        self.names: dict[str, str] = {}  # expat's "namespace}name" -> name
        self.parser = expat.ParserCreate(namespace_separator="}")
        self.parser.buffer_text = True
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.CharacterDataHandler = self.text
        self.parser.StartDoctypeDeclHandler = self._doctype
        self.parser.EntityDeclHandler = self._doctype

    def parse(self) -> Iterator[None]:
        """Feed the part to expat a chunk at a time, pausing after each chunk (a sheet hands over its rows)."""
        try:
            info = self.archive.getinfo(self.path)
        except KeyError:
            raise _damaged(_("its part %(part)s is missing") % {"part": shown(self.path)}) from None
        if info.file_size > MAX_PART_BYTES:
            raise FileRefused(_("Part %(part)s of the workbook unpacks to %(size)s MB, more than the %(limit)s MB a "
                                "pledge sheet needs: copy the pledges into a new workbook and upload that.") % {
                "part": shown(self.path), "size": f"{info.file_size / 2**20:,.0f}",
                "limit": f"{MAX_PART_BYTES // 2**20}"})
        if info.file_size > RATIO_GRACE and info.file_size > MAX_RATIO * info.compress_size:
            raise FileRefused(_("Part %(part)s of the workbook unpacks to %(ratio)s times its packed size, where a "
                                "spreadsheet's parts unpack to at most %(limit)s times theirs: open the file in a "
                                "spreadsheet, save it again and upload that.") % {
                "part": shown(self.path), "ratio": f"{info.file_size // max(info.compress_size, 1):,}",
                "limit": MAX_RATIO})
        try:
            with self.archive.open(info) as stream:
                fed = 0
                while chunk := stream.read(CHUNK):
                    fed += len(chunk)
                    self.parser.Parse(chunk, False)
                    # Outside its handlers expat's position is just past its last event: what lies beyond is a
                    # token it holds unfinished (a tag, a comment), growing until it ends.
                    if fed - self.parser.CurrentByteIndex > MAX_PENDING:
                        raise _damaged(_("its part %(part)s holds a tag of more than 1 MB") % {
                            "part": shown(self.path)})
                    yield
                self.parser.Parse(b"", True)
                yield
        except expat.ExpatError as error:
            raise _damaged(_("the XML of its part %(part)s is broken at line %(line)s, column %(column)s") % {
                "part": shown(self.path), "line": error.lineno, "column": error.offset + 1}) from None
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError):
            raise _damaged() from None  # cut short, a wrong CRC, encrypted entries, an unknown compression

    def read(self) -> None:
        for _chunk in self.parse():
            pass

    def local(self, name: str) -> str:
        local = self.names.get(name)
        if local is None:
            local = name.rpartition("}")[2]
            if len(self.names) < 256:
                self.names[name] = local
        return local

    def counted(self) -> None:
        """One more element opened: refuse a part nested too deep or holding too many."""
        self.depth += 1
        self.elements += 1
        if self.depth > MAX_DEPTH:
            raise _damaged(_("its part %(part)s nests more than %(limit)s elements") % {
                "part": shown(self.path), "limit": MAX_DEPTH})
        if self.elements > MAX_ELEMENTS:
            raise FileRefused(_("Part %(part)s of the workbook holds more than %(limit)s elements, far more than a "
                                "pledge sheet needs: copy the pledges into a new workbook and upload that.") % {
                "part": shown(self.path), "limit": f"{MAX_ELEMENTS:,}"})

    def _doctype(self, *args: Any) -> None:
        raise _damaged(_("its part %(part)s declares a DTD, which a workbook never has") % {
            "part": shown(self.path)})

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        self.counted()
        self.start(self.local(name), attributes)

    def _end(self, name: str) -> None:
        self.depth -= 1
        self.end(self.local(name))

    def start(self, name: str, attributes: dict[str, str]) -> None:
        pass

    def end(self, name: str) -> None:
        pass

    def text(self, text: str) -> None:
        pass


class _Relationships(_Part):
    """A part's relations: id -> (type, target path)."""

    def __init__(self, archive: zipfile.ZipFile, path: str, *, source: str) -> None:
        super().__init__(archive, path)
        self.folder = posixpath.dirname(source)
        self.found: dict[str, tuple[str, str]] = {}
        self.read()

    def start(self, name: str, attributes: dict[str, str]) -> None:
        if name != "Relationship" or attributes.get("TargetMode") == "External":
            return
        if len(self.found) >= MAX_RELATIONSHIPS:
            raise _damaged(_("its part %(part)s has more than %(limit)s relations") % {
                "part": shown(self.path), "limit": f"{MAX_RELATIONSHIPS:,}"})
        target = attributes.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else posixpath.join(self.folder, target)
        self.found[attributes.get("Id", "")] = (attributes.get("Type", ""), posixpath.normpath(path))

    def find(self, kind: str) -> str | None:
        return next((path for type_, path in self.found.values() if type_.endswith(kind)), None)


class _Workbook(_Part):
    """The workbook's sheets (kept: the one named "Pledges" and the first) and its calendar."""

    def __init__(self, archive: zipfile.ZipFile, path: str) -> None:
        super().__init__(archive, path)
        self.epoch = CALENDAR_WINDOWS_1900
        self.sheets: list[tuple[str, str]] = []  # (name, relation id) of the sheets in order, at most a few kept
        self.named: tuple[str, str] | None = None
        self.read()

    def start(self, name: str, attributes: dict[str, str]) -> None:
        if name == "workbookPr" and attributes.get("date1904", "").lower() in ("1", "true"):
            self.epoch = CALENDAR_MAC_1904
        elif name == "sheet":
            relation = next((value for key, value in attributes.items() if key.endswith("}id")), "")
            sheet = (attributes.get("name", "")[:31], relation)
            if sheet[0] == "Pledges" and self.named is None:
                self.named = sheet
            if len(self.sheets) < 100:  # the first worksheet is among them, unless a hundred charts come first
                self.sheets.append(sheet)

    def pledge_sheet(self, relations: _Relationships) -> tuple[str, str]:
        """(name, part path) of the "Pledges" worksheet, or else of the first worksheet (not a chart sheet)."""
        candidates = ([self.named] if self.named else []) + self.sheets
        for sheet_name, relation in candidates:
            kind, path = relations.found.get(relation, ("", ""))
            if kind.endswith("/worksheet"):
                return sheet_name, path
        raise FileRefused(_("The workbook has no worksheet with cells (only charts or other kinds of sheet): put "
                            "the pledges in a worksheet."))


class _Styles(_Part):
    """Which cell formats show a number as a date (1) or a duration (2), by format index."""

    def __init__(self, archive: zipfile.ZipFile, path: str) -> None:
        super().__init__(archive, path)
        self.custom: dict[int, str] = {}
        self.formats: list[int] = []  # numFmtId of each cell format, in order
        self.in_number_formats = self.in_cell_formats = False
        self.read()
        self.kinds = bytearray(self._kind(number_format) for number_format in self.formats)

    def _kind(self, number_format: int) -> int:
        code = self.custom.get(number_format) or builtin_format_code(number_format)
        return 2 if is_timedelta_format(code) else 1 if is_date_format(code) else 0

    def start(self, name: str, attributes: dict[str, str]) -> None:
        if name == "numFmts":
            self.in_number_formats = True
        elif name == "numFmt" and self.in_number_formats and len(self.custom) < MAX_STYLES:
            code = attributes.get("formatCode", "")
            if len(code) <= 1000 and (number := _small_int(attributes.get("numFmtId"))) is not None:
                self.custom[number] = code
        elif name == "cellXfs":
            self.in_cell_formats = True
        elif name == "xf" and self.in_cell_formats:
            if len(self.formats) >= MAX_STYLES:
                raise _damaged(_("it has more than %(limit)s cell formats") % {"limit": f"{MAX_STYLES:,}"})
            self.formats.append(_small_int(attributes.get("numFmtId")) or 0)

    def end(self, name: str) -> None:
        if name == "numFmts":
            self.in_number_formats = False
        elif name == "cellXfs":
            self.in_cell_formats = False


def _small_int(text: str | None) -> int | None:
    return int(text) if text is not None and text.isascii() and text.isdigit() and len(text) <= 9 else None


class _SharedStrings(_Part):
    """The workbook's shared strings, packed: one UTF-8 buffer, where each ends, and which are blank."""

    def __init__(self, archive: zipfile.ZipFile, path: str) -> None:
        """`path` empty: the workbook has no shared strings."""
        super().__init__(archive, path)
        self.buffer = bytearray()
        self.ends = array("I")
        self.blank = bytearray()
        self.pieces: list[str] = []
        self.length = 0
        self.phonetic = 0  # inside <rPh>: a reading aid, not the text
        self.in_text = False
        if path:
            self.read()

    def __len__(self) -> int:
        return len(self.ends)

    def get(self, index: int) -> str:
        start = self.ends[index - 1] if index else 0
        return self.buffer[start:self.ends[index]].decode()

    def start(self, name: str, attributes: dict[str, str]) -> None:
        if name == "si":
            self.pieces, self.length = [], 0
        elif name == "rPh":
            self.phonetic += 1
        elif name == "t" and not self.phonetic:
            self.in_text = True

    def end(self, name: str) -> None:
        if name == "t":
            self.in_text = False
        elif name == "rPh":
            self.phonetic -= 1
        elif name == "si":
            text = "".join(self.pieces)
            self.buffer += text.encode()
            if len(self.buffer) > MAX_SHARED_BYTES or len(self.ends) >= MAX_SHARED_STRINGS:
                raise FileRefused(_("The workbook's shared texts take more than %(limit)s MB: copy the pledges into "
                                    "a new workbook and upload that.") % {"limit": MAX_SHARED_BYTES // 2**20})
            self.ends.append(len(self.buffer))
            self.blank.append(not text.strip())
            self.pieces = []

    def text(self, text: str) -> None:
        if self.in_text:
            self.length += len(text)
            if self.length > MAX_CELL_CHARS:
                raise FileRefused(_("The workbook holds a text of more than %(limit)s characters, the most a "
                                    "spreadsheet cell can hold.") % {"limit": f"{MAX_CELL_CHARS:,}"})
            self.pieces.append(text)


class _Sheet(_Part):
    """The rows of the pledge sheet, handed over as they are parsed. The cell being parsed is kept in attributes
    of the sheet rather than an object of its own: this runs for every cell, and a sheet may have a million."""

    def __init__(self, archive: zipfile.ZipFile, sheet: tuple[str, str], strings: _SharedStrings,
                 date_styles: bytearray, epoch: dt.datetime) -> None:
        super().__init__(archive, sheet[1])
        self.name, self.strings, self.date_styles, self.epoch = sheet[0], strings, date_styles, epoch
        self.columns = Columns()
        self.ready: list[SheetRow] = []
        self.in_row = False
        self.cells: dict[int, Any] = {}  # of the row being parsed, kept columns only
        self.unsaved: set[int] = set()
        self.row_number = 0
        self.row_has_value = False  # anywhere in the row, kept column or not
        self.column = -1
        self.merged: list[str] = []
        self.merged_count = 0
        # the cell being parsed
        self.in_cell = self.keep = self.formula = self.saved = self.collecting = self.nonblank = False
        self.in_inline = False
        self.kind, self.style_kind, self.phonetic, self.length = "n", 0, 0, 0
        self.pieces: list[str] = []

    def rows(self) -> Iterator[SheetRow]:
        for _chunk in self.parse():
            yield from self.ready
            self.ready.clear()
        if self.merged_count:
            raise FileRefused(_("The sheet '%(sheet)s' has merged cells (%(cells)s): unmerge them, one value per "
                                "cell.") % {"sheet": self.name, "cells": ", ".join(self.merged)})

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        self.elements += 1
        self.depth += 1
        if self.elements > MAX_ELEMENTS or self.depth > MAX_DEPTH:
            self.counted()  # which one, in words
        local = self.names.get(name) or self.local(name)
        if self.in_cell:
            if local == "v":
                if self.kind != "inlineStr":
                    self.collecting = self.saved = True
            elif local == "f":
                self.formula = True
            elif local == "is":
                self.in_inline = self.saved = True
            elif local == "rPh":
                self.phonetic += 1
            elif local == "t" and self.in_inline and not self.phonetic:
                self.collecting = True
        elif local == "c":
            if self.in_row:
                self._start_cell(attributes)
        elif local == "row":
            self._start_row(attributes.get("r"))
        elif local == "mergeCell":
            self.merged_count += 1
            if len(self.merged) < 5:
                self.merged.append(shown(attributes.get("ref", ""), 24))

    def _end(self, name: str) -> None:
        self.depth -= 1
        local = self.names.get(name) or self.local(name)
        if self.in_cell:
            if local == "c":
                self.in_cell = False
                self._end_cell()
            elif local in ("v", "t"):
                self.collecting = False
            elif local == "is":
                self.in_inline = False
            elif local == "rPh":
                self.phonetic -= 1
        elif local == "row" and self.in_row:
            self.in_row = False
            if self.row_has_value:
                self._end_row()

    def text(self, text: str) -> None:
        if not self.collecting:
            return
        self.nonblank = self.nonblank or not text.isspace()
        if not self.keep and self.kind != "s":  # a shared string's index is kept: is the string blank?
            return
        self.length += len(text)
        if self.length > MAX_CELL_CHARS:
            raise refuse_long_cell(self.row_number)
        self.pieces.append(text)

    def _start_row(self, given: str | None) -> None:
        if given is None:
            number = self.row_number + 1
        elif given.isdigit() and given.isascii() and len(given) <= 7:
            number = int(given)
        else:
            number = 0
        if not 0 < number <= MAX_SHEET_ROWS:
            raise _damaged(_("it has a row numbered '%(row)s'") % {"row": shown(given or "", 12)})
        if number <= self.row_number:
            raise _damaged(_("its rows are out of order at row %(row)s") % {"row": number})
        self.row_number, self.column, self.row_has_value, self.in_row = number, -1, False, True
        if self.cells or self.unsaved:
            self.cells, self.unsaved = {}, set()

    def _start_cell(self, attributes: dict[str, str]) -> None:
        reference = attributes.get("r")
        if reference is None:
            column = self.column + 1
            if column >= MAX_COLUMNS:
                raise refuse_wide_row(self.row_number)
        else:
            column = _column_index(reference)
            if column < 0:
                raise _damaged(_("it has a cell '%(cell)s', not a cell's name") % {"cell": shown(reference, 12)})
            if column >= MAX_COLUMNS:
                raise _damaged(_("cell %(cell)s lies beyond column XFD, the last a sheet can have") % {
                    "cell": shown(reference, 12)})
            if column <= self.column:
                raise _damaged(_("the cells of row %(row)s are out of order at %(cell)s") % {
                    "row": self.row_number, "cell": reference})
        self.column = column
        style = _small_int(attributes.get("s")) or 0
        named = self.columns.named
        self.in_cell, self.keep = True, named is None or column in named
        self.kind = attributes.get("t", "n")
        self.style_kind = self.date_styles[style] if style < len(self.date_styles) else 0
        self.formula = self.saved = self.collecting = self.nonblank = self.in_inline = False
        self.phonetic = self.length = 0
        self.pieces = []

    def _end_cell(self) -> None:
        if self.formula and not (self.saved and self.nonblank):
            # A formula saved without its value (openpyxl's data_only gives None): never evaluated here.
            self.row_has_value = True
            if self.keep:
                self.unsaved.add(self.column)
        elif not self.keep:
            self.row_has_value = self.row_has_value or self._holds_something()
        elif (value := self._value()) is not None:
            self.cells[self.column] = value
            self.row_has_value = self.row_has_value or present(value)

    def _end_row(self) -> None:
        row = SheetRow(number=self.row_number, cells=self.cells, unsaved=self.unsaved)
        self.cells, self.unsaved = {}, set()
        if self.columns.named is None:
            self.columns.header_found(row)
        self.ready.append(row)

    def _reference(self) -> str:
        return f"{_column_letters(self.column)}{self.row_number}"

    def _holds_something(self) -> bool:
        """Whether a cell of a column not kept holds something (its row then counts), without keeping it."""
        if self.kind == "s" and self.nonblank:
            return not self.strings.blank[self._string_index("".join(self.pieces))]
        return self.nonblank

    def _string_index(self, text: str) -> int:
        index = _small_int(text.strip())
        if index is None or index >= len(self.strings):
            raise _damaged(_("cell %(cell)s refers to shared text number %(index)s, which the workbook does not "
                             "have") % {"cell": self._reference(), "index": shown(text, 12)})
        return index

    def _value(self) -> Any:
        """What openpyxl would give for the cell, or a CellProblem (never an exception for a value)."""
        text = "".join(self.pieces)
        kind = self.kind
        if kind == "s" and text:
            text = self.strings.get(self._string_index(text))
        self.columns.count(text)
        if kind in ("s", "inlineStr"):
            return text
        if not text:
            return None
        if kind in ("str", "e"):
            return text
        if kind == "b":
            if text.strip().lower() in ("0", "1", "true", "false"):
                return text.strip().lower() in ("1", "true")
            return CellProblem(_("the cell is marked as true or false but holds '%(text)s'.") % {
                "text": shown(text)}, shown(text))
        if kind == "d":
            try:
                return dt.datetime.fromisoformat(text.strip())
            except ValueError:
                return CellProblem(_("the cell is marked as a date but holds '%(text)s': type the date again, as "
                                     "year-month-day.") % {"text": shown(text)}, shown(text))
        if kind != "n":
            raise _damaged(_("cell %(cell)s has the unknown type '%(type)s'") % {
                "cell": self._reference(), "type": shown(kind, 12)})
        return self._number(text.strip())

    def _number(self, text: str) -> Any:
        if len(text) > 40 or not NUMBER.fullmatch(text):
            return CellProblem(_("the cell is marked as a number but holds '%(text)s': type the value again.") % {
                "text": shown(text)}, shown(text))
        number: int | float = float(text) if any(c in text for c in ".eE") else int(text)
        if not self.style_kind:
            return number
        try:
            return from_excel(number, self.epoch, timedelta=self.style_kind == 2)
        except (OverflowError, ValueError):
            return CellProblem(_("the cell is shown as a date but its value %(number)s is no day of the calendar: "
                                 "type the date again.") % {"number": shown(text)}, shown(text))


def _column_index(reference: str) -> int:
    """The column of a cell reference such as "AB12" (0 for A), -1 if it is not one (its row is not needed: the
    row element gives it)."""
    letters = reference.rstrip("0123456789")
    if len(letters) == len(reference):
        return -1
    return _letters_index(letters)


@functools.lru_cache(maxsize=1024)  # a sheet names the same few columns on every row
def _letters_index(letters: str) -> int:
    if not (letters.isascii() and letters.isalpha()):
        return -1
    if len(letters) > 3:
        return MAX_COLUMNS
    index = 0
    for letter in letters.upper():
        index = index * 26 + ord(letter) - 64
    return index - 1


def _column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters
