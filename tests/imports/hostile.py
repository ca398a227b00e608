"""Hostile spreadsheets, made here: zip bombs of each kind (up to the 5 MB upload limit), sheets that claim more
than they hold, damaged parts. The zip is written by hand so that a part can expand to gigabytes (ZIP64) while its
deflate stream is built from one compressed block repeated: a 5 GB bomb is made in well under a second."""

from __future__ import annotations

import io
import random
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from tests.imports.helpers import workbook

SHEET = "xl/worksheets/sheet1.xml"
SHARED = "xl/sharedStrings.xml"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
LIMIT = 5 * 1024 * 1024  # the upload limit (settings.IMPORT_MAX_BYTES)
VALID_ROW = [None, None, "PL", "troops", "personnel", 5, "draft"]


@dataclass(frozen=True)
class Deflated:
    """A part already compressed (raw deflate), with its CRC-32 and unpacked size."""

    data: bytes
    crc: int
    size: int


def _gf2_times(matrix: list[int], vector: int) -> int:
    total, row = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[row]
        vector >>= 1
        row += 1
    return total


def _gf2_square(matrix: list[int]) -> list[int]:
    return [_gf2_times(matrix, matrix[n]) for n in range(32)]


def crc32_combine(crc1: int, crc2: int, length2: int) -> int:
    """zlib's crc32_combine: the CRC-32 of A+B from those of A and B and B's length."""
    if length2 == 0:
        return crc1
    odd = [0xEDB88320] + [1 << n for n in range(31)]
    even = _gf2_square(odd)
    odd = _gf2_square(even)
    while True:
        even = _gf2_square(odd)
        if length2 & 1:
            crc1 = _gf2_times(even, crc1)
        length2 >>= 1
        if not length2:
            break
        odd = _gf2_square(even)
        if length2 & 1:
            crc1 = _gf2_times(odd, crc1)
        length2 >>= 1
        if not length2:
            break
    return crc1 ^ crc2


def _block(data: bytes, final: bool = False, level: int = 9) -> bytes:
    """`data` as deflate blocks that refer to nothing before them (a full flush): blocks can be concatenated."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(zlib.Z_FINISH if final else zlib.Z_FULL_FLUSH)


def repeated(prefix: bytes, unit: bytes, count: int, suffix: bytes) -> Deflated:
    """prefix + unit * count + suffix, compressed without ever holding it whole."""
    chunk_units = max(1, (1 << 20) // len(unit))  # about 1 MB a block
    chunk = unit * chunk_units
    chunks, rest = divmod(count, chunk_units)
    block, block_crc = _block(chunk), zlib.crc32(chunk)
    parts = [_block(prefix)]
    crc = zlib.crc32(prefix)
    # the CRC of `chunks` blocks, by doubling
    power_crc, power_length, times = block_crc, len(chunk), chunks
    repeated_crc, repeated_length = 0, 0
    while times:
        if times & 1:
            repeated_crc = crc32_combine(repeated_crc, power_crc, power_length)
            repeated_length += power_length
        power_crc = crc32_combine(power_crc, power_crc, power_length)
        power_length *= 2
        times >>= 1
    crc = crc32_combine(crc, repeated_crc, repeated_length)
    parts.append(block * chunks)
    tail = unit * rest + suffix
    parts.append(_block(tail, final=True))
    crc = crc32_combine(crc, zlib.crc32(tail), len(tail))
    return Deflated(b"".join(parts), crc, len(prefix) + len(unit) * count + len(suffix))


def deflated(data: bytes) -> Deflated:
    return Deflated(_block(data, final=True, level=6), zlib.crc32(data), len(data))


def write_zip(parts: dict[str, bytes | Deflated]) -> bytes:
    """A zip of these parts (ZIP64 sizes where a part unpacks past 4 GiB), as Python's zipfile reads it."""
    out = io.BytesIO()
    central = []
    for name, part in parts.items():
        entry = part if isinstance(part, Deflated) else deflated(part)
        encoded = name.encode()
        big = entry.size >= 0xFFFFFFFF or len(entry.data) >= 0xFFFFFFFF
        sizes = (0xFFFFFFFF, 0xFFFFFFFF) if big else (len(entry.data), entry.size)
        extra = struct.pack("<HHQQ", 1, 16, entry.size, len(entry.data)) if big else b""
        offset = out.tell()
        version = 45 if big else 20
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, version, 0, 8, 0, 0x21, entry.crc, sizes[0], sizes[1],
                              len(encoded), len(extra)))
        out.write(encoded + extra + entry.data)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, version, version, 0, 8, 0, 0x21, entry.crc,
                                   sizes[0], sizes[1], len(encoded), len(extra), 0, 0, 0, 0, offset)
                       + encoded + extra)
    start = out.tell()
    directory = b"".join(central)
    out.write(directory)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), len(directory), start, 0))
    return out.getvalue()


def template_parts(rows: list[list[object]] | None = None) -> dict[str, bytes]:
    """The parts of a small valid workbook: the import's header and one valid row."""
    from tests.imports.test_api import HEADER

    data = workbook([HEADER, *(rows if rows is not None else [VALID_ROW])])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def sheet_halves(parts: dict[str, bytes]) -> tuple[bytes, bytes]:
    """The sheet's XML cut just before </sheetData>: what comes before the end of its rows, and the rest."""
    sheet = parts[SHEET]
    cut = sheet.index(b"</sheetData>")
    return sheet[:cut], sheet[cut:]


def expanding_sheet(unpacked: int) -> bytes:
    """A valid workbook whose sheet part is padded with whitespace between its rows up to `unpacked` bytes (the
    issue's 209 KB file expanding to 200 MB: whitespace deflates about 1,000 to 1)."""
    parts: dict[str, bytes | Deflated] = dict(template_parts())
    head, tail = sheet_halves(template_parts())
    parts[SHEET] = repeated(head, b" ", unpacked - len(head) - len(tail), tail)
    return write_zip(parts)


def claimed_dimension(ref: str) -> bytes:
    """A small valid workbook whose sheet claims to span `ref` and has one empty styled cell in the claim's last
    row, as a spreadsheet writes a cell formatted far down (openpyxl padded every row in between to the width)."""
    parts: dict[str, bytes | Deflated] = dict(template_parts())
    head, tail = sheet_halves(template_parts())
    last_row = re.sub(r"^[A-Z]+", "", ref.split(":")[-1])
    start = head.index(b"<dimension")
    head = head[:start] + f'<dimension ref="{ref}"/>'.encode() + head[head.index(b"/>", start) + 2:]
    parts[SHEET] = head + f'<row r="{last_row}"><c r="A{last_row}" s="0"/></row>'.encode() + tail
    return write_zip(parts)


def wide_row(cells: int) -> bytes:
    """A valid header, then one row of `cells` cells (the issue's 10 KB row of 200,000 cells)."""
    parts: dict[str, bytes | Deflated] = dict(template_parts([]))
    head, tail = sheet_halves(template_parts([]))
    parts[SHEET] = repeated(head + b'<row r="2">', b"<c><v>1</v></c>", cells, b"</row>" + tail)
    return write_zip(parts)


def random_cells_row(packed: int, seed: int = 21) -> bytes:
    """One row of cells holding random numbers, as many as fit in `packed` bytes: deflate cannot shrink them much,
    so only a limit on cells per row (not the ratio of unpacked to packed size) stops this one."""
    head, tail = sheet_halves(template_parts([]))
    return _fitted(packed, lambda count: head + b'<row r="2"><c><v>' + b"</v></c><c><v>".join(
        _random_digits(seed, count)) + b"</v></c></row>" + tail, SHEET)


def many_rows(packed: int, seed: int = 22) -> bytes:
    """Row after row of random numbers in the quantity column, as many as fit in `packed` bytes."""
    head, tail = sheet_halves(template_parts([]))
    return _fitted(packed, lambda count: head + b"".join(
        b'<row r="%d"><c r="F%d"><v>%s</v></c></row>' % (n + 2, n + 2, digits)
        for n, digits in enumerate(_random_digits(seed, count))) + tail, SHEET)


def random_shared_strings(packed: int, seed: int = 23) -> bytes:
    """Shared strings of random letters, as many as fit in `packed` bytes: within any ratio, past any sane total."""
    letters = bytes(range(97, 123)) * 9 + b"  "  # 236 of the 256 byte values stand for a letter or a space
    table = bytes(letters[n % len(letters)] for n in range(256))

    def strings(count: int) -> bytes:
        text = random.Random(seed).randbytes(200 * count).translate(table)
        return (f'<sst xmlns="{MAIN}">'.encode() + b"".join(
            b"<si><t>" + text[n:n + 200] + b"</t></si>" for n in range(0, len(text), 200)) + b"</sst>")

    return _fitted(packed, strings, SHARED)


def _random_digits(seed: int, count: int) -> list[bytes]:
    table = bytes(48 + n % 10 for n in range(256))
    digits = random.Random(seed).randbytes(9 * count).translate(table)
    return [digits[n:n + 9] for n in range(0, len(digits), 9)]


def _fitted(packed: int, make: Callable[[int], bytes], name: str) -> bytes:
    """The workbook with part `name` made by `make(count)`, `count` as large as keeps the file within 10% under
    `packed` (estimated from a small sample, then corrected)."""
    count = 20_000
    while True:
        parts: dict[str, bytes | Deflated] = dict(template_parts([]))
        if name == SHARED:
            parts = shared_strings(template_parts(), b"")
        parts[name] = make(count)
        data = write_zip(parts)
        if packed * 0.9 <= len(data) <= packed:
            return data
        count = int(count * (packed * 0.95) / len(data))


def shared_strings(parts: dict[str, bytes], strings: Deflated | bytes) -> dict[str, bytes | Deflated]:
    """The workbook with a sharedStrings part (declared in its relations and content types)."""
    out: dict[str, bytes | Deflated] = dict(parts)
    out["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                             b'relationships/sharedStrings" Target="sharedStrings.xml" Id="rId99"/></Relationships>')
    out["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                     b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    out[SHARED] = strings
    return out


def expanding_shared_strings(unpacked: int) -> bytes:
    """A valid workbook whose sharedStrings part is one string of `unpacked` letters."""
    head = f'<sst xmlns="{MAIN}"><si><t>'.encode()
    return write_zip(shared_strings(template_parts(), repeated(head, b"x", unpacked - len(head) - 15,
                                                               b"</t></si></sst>")))


def with_sheet(sheet_xml: bytes, parts: dict[str, bytes] | None = None) -> bytes:
    """A workbook whose first sheet is this XML."""
    out: dict[str, bytes | Deflated] = dict(parts or template_parts())
    out[SHEET] = sheet_xml
    return write_zip(out)


DATE_STYLES = (f'<styleSheet xmlns="{MAIN}"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
               '</numFmts><cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/></cellXfs>'
               '</styleSheet>').encode()  # cell format 1 shows a number as a date (built in), 2 too (its own code)


def sheet_with_cells(cells: str, *, styles: bool = False) -> bytes:
    """A workbook whose sheet holds the import's header (inline strings) and one row of these <c> elements; with
    `styles`, cell formats 1 and 2 show numbers as dates."""
    from openpyxl.utils import get_column_letter

    from tests.imports.test_api import HEADER

    header_cells = "".join(f'<c r="{get_column_letter(n + 1)}1" t="inlineStr"><is><t>{name}</t></is></c>'
                           for n, name in enumerate(HEADER))
    parts = template_parts()
    if styles:
        parts["xl/styles.xml"] = DATE_STYLES
    return with_sheet(f'<worksheet xmlns="{MAIN}"><sheetData><row r="1">{header_cells}</row>'
                      f'<row r="2">{cells}</row></sheetData></worksheet>'.encode(), parts)


def valid_cells(**values: str) -> str:
    """The cells of a valid row (country PL, troops, personnel, 5, draft), some replaced by raw <c> XML."""
    from tests.imports.test_api import HEADER

    defaults = {"country": '<c r="C2" t="inlineStr"><is><t>PL</t></is></c>',
                "category": '<c r="D2" t="inlineStr"><is><t>troops</t></is></c>',
                "unit": '<c r="E2" t="inlineStr"><is><t>personnel</t></is></c>',
                "quantity": '<c r="F2"><v>5</v></c>',
                "status": '<c r="G2" t="inlineStr"><is><t>draft</t></is></c>'}
    defaults.update(values)
    return "".join(defaults[name] for name in HEADER if name in defaults)


def chart_sheet_first(*, keep_worksheet: bool = True) -> bytes:
    """A workbook whose first sheet is a chart sheet (no cells at all) and whose second is the pledges (named "Data",
    so that a reader must look past the first sheet); or, not keeping the worksheet, only the chart."""
    parts: dict[str, bytes | Deflated] = dict(template_parts())
    workbook_xml = parts["xl/workbook.xml"]
    rels = parts["xl/_rels/workbook.xml.rels"]
    assert isinstance(workbook_xml, bytes) and isinstance(rels, bytes)
    chart = b'<sheet name="Chart" sheetId="9" state="visible" r:id="rId9" />'
    if keep_worksheet:
        parts["xl/workbook.xml"] = workbook_xml.replace(b'<sheet name="Pledges"', chart + b'<sheet name="Data"')
    else:
        parts["xl/workbook.xml"] = re.sub(rb"<sheets>.*</sheets>", b"<sheets>" + chart + b"</sheets>", workbook_xml)
    parts["xl/_rels/workbook.xml.rels"] = rels.replace(
        b"</Relationships>", b'<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                             b'relationships/chartsheet" Target="chartsheets/sheet1.xml" Id="rId9"/></Relationships>')
    parts["xl/chartsheets/sheet1.xml"] = (
        b'<chartsheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetPr/>'
        b'<sheetViews><sheetView workbookViewId="0"/></sheetViews></chartsheet>')
    content = parts["[Content_Types].xml"]
    assert isinstance(content, bytes)
    parts["[Content_Types].xml"] = content.replace(
        b"</Types>", b'<Override PartName="/xl/chartsheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
                     b'officedocument.spreadsheetml.chartsheet+xml"/></Types>')
    return write_zip(parts)


def truncated_sheet_xml() -> bytes:
    """A workbook whose sheet's XML stops in the middle (the zip itself is sound)."""
    sheet = template_parts()[SHEET]
    return with_sheet(sheet[: len(sheet) * 2 // 3])


def truncated_sheet_stream() -> bytes:
    """A workbook whose sheet's compressed stream is cut short (its sizes and CRC claim the whole part)."""
    parts: dict[str, bytes | Deflated] = dict(template_parts())
    sheet = parts[SHEET]
    assert isinstance(sheet, bytes)
    whole = deflated(sheet)
    parts[SHEET] = Deflated(whole.data[: len(whole.data) // 2], whole.crc, whole.size)
    return write_zip(parts)
