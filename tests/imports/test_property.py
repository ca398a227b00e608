"""Whatever a file holds, an upload is answered in words: a valid workbook and a valid CSV, mutated every way a file
can be damaged or forged (bytes of any XML part changed, inserted or cut, a part or the whole file truncated, a
cell's type and value, a cell's reference, the sheet's claimed dimension, a CSV's bytes and cells), go through the
API or the admin's upload page, then are applied. Never a 500; a refusal names `file` (or is the upload form's
error) and writes nothing; an applied import is whole or nothing; and reading stays within the memory bound of
item 1 of issue 21.

Memory here is Python's own allocations (tracemalloc's peak during the request, which sees zlib's and expat's
buffers too: both allocate through Python), measured in this process; test_memory.py measures whole-process RSS.
Examples are fixed (derandomized) and few enough for a two-core CI: about 40 a test.
"""

from __future__ import annotations

import re
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from imports.models import Import, ImportStatus
from pledges.models import Pledge
from tests.conftest import World
from tests.imports import hostile
from tests.imports.test_api import HEADER, state

pytestmark = pytest.mark.property

BOUND = 50 * 1024 * 1024
EXAMPLES = settings(max_examples=40, deadline=None, database=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])
SHARED = ["id", "version", "country", "category", "unit", "quantity", "status", "releasability", "description",
          "location", "place", "available_from", "available_until", "notice_to_move_days", "estimated_value_eur",
          "caveats", "PL", "troops", "personnel", "indicative", "draft", "coalition", "Field hospital", "Rzeszów",
          "condition: With a ceasefire.\nrole: Training only."]
MARKUP = [b"<", b">", b"</", b"/>", b"&", b"&amp;", b"&#0;", b"&#xD800;", b'"', b"'", b"=", b"<c>", b"</c>",
          b"<row>", b"</row>", b'<c r="A1">', b"<v>", b"</v>", b"<f>1+1</f>", b"<!DOCTYPE x>", b"<![CDATA[x]]>",
          b"<?pi x?>", b"<!-- -->", b"\x00", b"\xff", b"\xc3\x28", b"xmlns:x=\"y\"", b" t=\"s\"", b" s=\"1\""]


def shared_string_workbook() -> dict[str, bytes]:
    """A workbook as a spreadsheet program writes one: shared strings, numbers shown as dates, a formula with its
    saved value; the header and two pledge rows."""
    from openpyxl.utils import get_column_letter

    def s(text: str) -> str:
        return f'<c r="{{ref}}" t="s"><v>{SHARED.index(text)}</v></c>'

    header = "".join(s(name).format(ref=f"{get_column_letter(n + 1)}1") for n, name in enumerate(HEADER))
    row2 = (s("PL").format(ref="C2") + s("troops").format(ref="D2") + s("personnel").format(ref="E2")
            + '<c r="F2"><f>2*600</f><v>1200</v></c>' + s("indicative").format(ref="G2")
            + s("coalition").format(ref="H2") + s("Field hospital").format(ref="I2") + s("Rzeszów").format(ref="J2")
            + '<c r="L2" s="1"><v>46000</v></c><c r="M2" s="2"><v>46100.5</v></c><c r="N2"><v>7</v></c>'
            + '<c r="O2"><v>1250000.5</v></c>' + s("condition: With a ceasefire.\nrole: Training only.").format(
                ref="P2"))
    row3 = (s("troops").format(ref="D3") + s("personnel").format(ref="E3") + '<c r="F3"><v>30</v></c>'
            + s("draft").format(ref="G3") + '<c r="L3" t="d"><v>2026-05-01</v></c>')
    sheet = (f'<worksheet xmlns="{hostile.MAIN}"><dimension ref="A1:P3"/><sheetData><row r="1">{header}</row>'
             f'<row r="2">{row2}</row><row r="3">{row3}</row></sheetData></worksheet>').encode()
    strings = (f'<sst xmlns="{hostile.MAIN}" count="{len(SHARED)}">'
               + "".join(f"<si><t>{text}</t></si>" for text in SHARED) + "</sst>").encode()
    parts = dict(hostile.template_parts())
    parts[hostile.SHEET], parts["xl/styles.xml"] = sheet, hostile.DATE_STYLES
    with_strings = hostile.shared_strings(parts, strings)
    return {name: part for name, part in with_strings.items() if isinstance(part, bytes)}


BASES = {"openpyxl": hostile.template_parts(), "spreadsheet": shared_string_workbook()}
CSV = (b"category,unit,quantity,status,releasability,description,available_from,caveats\n"
       b"troops,personnel,1200,indicative,coalition,Field hospital,2026-05-01,\"condition: With a ceasefire.\n"
       b"role: Training only.\"\ntroops,personnel,30,draft,,,,\n")


@st.composite
def mutated_workbook(draw: Any) -> tuple[str, bytes]:
    base = draw(st.sampled_from(sorted(BASES)))
    parts = dict(BASES[base])
    xml_parts = sorted(name for name in parts if name.endswith((".xml", ".rels")))
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["bytes", "truncate-part", "cell", "reference", "dimension", "row"]))
        sheet = parts[hostile.SHEET]
        if kind == "bytes":
            name = draw(st.sampled_from(xml_parts))
            parts[name] = draw(edited_bytes(parts[name]))
        elif kind == "truncate-part":
            name = draw(st.sampled_from(xml_parts))
            parts[name] = parts[name][:draw(st.integers(0, len(parts[name])))]
        elif kind == "cell":
            parts[hostile.SHEET] = draw(retyped_cell(sheet))
        elif kind == "reference":
            parts[hostile.SHEET] = draw(replaced(sheet, rb' r="[A-Z]+\d+"', st.one_of(
                st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ$abc0123456789-:", max_size=12),
                st.integers(0, 10**9).map(lambda n: f"XFE{n}")).map(lambda r: f' r="{r}"')))
        elif kind == "dimension":
            parts[hostile.SHEET] = draw(replaced(sheet, rb"<dimension [^>]*/>|<sheetData>", st.one_of(
                st.sampled_from(["A1:GZZ1048576", "A1:ZZZ1048576", "A1:XFD1048576", "A0:A0", "", "A1:A99999999"]),
                st.text("ABCDEFXZ0123456789:", max_size=20)).map(lambda ref: f'<dimension ref="{ref}"/><sheetData>')))
        else:
            parts[hostile.SHEET] = draw(replaced(sheet, rb'<row r="\d+"', st.one_of(
                st.integers(-2, 2**40), st.text("0123456789x ", max_size=8)).map(lambda n: f'<row r="{n}"')))
    data = hostile.write_zip(dict(parts))
    if draw(st.booleans()) and draw(st.integers(0, 9)) == 0:
        data = data[:draw(st.integers(0, len(data)))]  # the file itself cut short
    return "pledges.xlsx", data


@st.composite
def edited_bytes(draw: Any, data: bytes) -> bytes:
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        piece = draw(st.one_of(st.sampled_from(MARKUP), st.binary(max_size=6)))
        op = draw(st.sampled_from(["insert", "replace", "delete"]))
        if op == "insert":
            data = data[:at] + piece + data[at:]
        elif op == "replace":
            data = data[:at] + piece + data[at + len(piece):]
        else:
            data = data[:at] + data[at + draw(st.integers(1, 40)):]
    return data


@st.composite
def replaced(draw: Any, data: bytes, pattern: bytes, replacement: st.SearchStrategy[str]) -> bytes:
    """One match of `pattern` in `data` replaced by a drawn text."""
    matches = list(re.finditer(pattern, data))
    if not matches:
        return data
    match = draw(st.sampled_from(matches))
    return data[:match.start()] + draw(replacement).encode() + data[match.end():]


CELL_VALUES = st.one_of(
    st.sampled_from(["not-a-date", "abc", "1e999", "-0", "NaN", "inf", "9" * 5000, "", " ", "1.5E+308", "2026-13-45",
                     "2026-05-01T25:61:00", "0", "1", "true", "#N/A", "99999999999", "-1", "0x10", "1_000"]),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="<&\x00"), max_size=40),
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=False).map(repr),
)


@st.composite
def retyped_cell(draw: Any, sheet: bytes) -> bytes:
    """A cell given another type (or one it does not have) and another value."""
    cells = list(re.finditer(rb"<c r=\"([A-Z]+\d+)\"[^>]*?(/>|>.*?</c>)", sheet, re.DOTALL))
    if not cells:
        return sheet
    cell = draw(st.sampled_from(cells))
    kind = draw(st.sampled_from(["s", "n", "b", "d", "e", "str", "inlineStr", "zz", None]))
    style = draw(st.sampled_from(["", ' s="1"', ' s="2"', ' s="99"', ' s="x"']))
    value = draw(CELL_VALUES).replace("]]>", "")
    typed = f' t="{kind}"' if kind else ""
    body = (f"<is><t>{value}</t></is>" if kind == "inlineStr" and draw(st.booleans())
            else f"<v><![CDATA[{value}]]></v>")
    formula = "<f>1+1</f>" if draw(st.integers(0, 4)) == 0 else ""
    new = f'<c r="{cell.group(1).decode()}"{typed}{style}>{formula}{body}</c>'.encode()
    return sheet[:cell.start()] + new + sheet[cell.end():]


@st.composite
def mutated_csv(draw: Any) -> tuple[str, bytes]:
    data = CSV
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["bytes", "text", "cell", "truncate"]))
        at = draw(st.integers(0, len(data)))
        if kind == "bytes":
            data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
        elif kind == "text":
            text = draw(st.text(st.sampled_from(list(',;"\n\r\t\'=+-@ é€😀\u202e\ufeff')), min_size=1, max_size=10))
            data = data[:at] + text.encode() + data[at:]
        elif kind == "cell":
            cells = list(re.finditer(rb"[^,\n]+", data))
            if not cells:
                continue
            cell = draw(st.sampled_from(cells))
            value = draw(st.one_of(
                CELL_VALUES,
                st.integers(1, 6000).map(lambda n: "7" * n),
                st.sampled_from([131_073, 32_768, 200_000]).map(lambda n: "x" * n),
                st.integers(1, 40).map(lambda n: "\n".join(f"condition: C{i}" for i in range(n)))))
            quoted = '"' + value.replace('"', '""') + '"'
            data = data[:cell.start()] + quoted.encode(errors="replace") + data[cell.end():]
        else:
            data = data[:at]
    return "pledges.csv", data


@pytest.fixture
def traced() -> Iterator[None]:
    tracemalloc.start()
    yield
    tracemalloc.stop()


def upload_and_apply(world: World, path: str, name: str, data: bytes) -> None:
    """One file through one path: never a 500, a refusal writes nothing, applying is whole or nothing, and the
    upload's Python allocations peak under the bound."""
    before, imports = state(), Import.objects.count()
    tracemalloc.reset_peak()
    start = tracemalloc.get_traced_memory()[0]
    if path == "api":
        api = APIClient()
        api.force_authenticate(world.ministry_pl)
        response = api.post("/api/v1/imports/", {"file": SimpleUploadedFile(name, data),
                                                 "coalition": world.coalition.pk}, format="multipart")
        peak = tracemalloc.get_traced_memory()[1] - start
        assert response.status_code in (201, 400), response.content[:300]
        if response.status_code == 400:
            assert list(response.json()) == ["file"], response.json()
    else:
        admin = Client()
        admin.force_login(world.ministry_pl)
        response = admin.post("/admin/imports/import/upload/", {"coalition": world.coalition.pk,
                                                               "file": SimpleUploadedFile(name, data)})
        peak = tracemalloc.get_traced_memory()[1] - start
        assert response.status_code in (200, 302)
        if response.status_code == 200:
            assert 'class="errorlist' in response.content.decode()
    assert peak < BOUND, f"{peak / 2**20:.0f} MB"
    assert state() == before  # a preview writes nothing but itself
    if Import.objects.count() == imports:
        return  # refused
    imported = Import.objects.latest("id")
    if path == "api":
        applied = api.post(f"/api/v1/imports/{imported.pk}/apply/")
        assert applied.status_code in (200, 400), applied.content[:300]
    else:
        applied = admin.post(f"/admin/imports/import/{imported.pk}/apply/")
        assert applied.status_code == 302
    imported.refresh_from_db()
    if imported.status == ImportStatus.APPLIED:
        created = Pledge.objects.count() - len(before[0])
        assert created == imported.summary["create"], (created, imported.summary)
    else:
        assert state() == before  # nothing applied


@pytest.mark.usefixtures("traced")
@EXAMPLES
@given(file=mutated_workbook(), path=st.sampled_from(["api", "admin"]))
def test_any_mutated_workbook_is_answered_in_words(world: World, file: tuple[str, bytes], path: str) -> None:
    upload_and_apply(world, path, *file)


@pytest.mark.usefixtures("traced")
@EXAMPLES
@given(file=mutated_csv(), path=st.sampled_from(["api", "admin"]))
def test_any_mutated_csv_is_answered_in_words(world: World, file: tuple[str, bytes], path: str) -> None:
    upload_and_apply(world, path, *file)


def test_the_unmutated_files_import(world: World) -> None:
    """The bases the mutations start from are sound: each previews without an error and applies."""
    for name, data in [("a.xlsx", hostile.write_zip(dict(BASES["openpyxl"]))),
                       ("b.xlsx", hostile.write_zip(dict(BASES["spreadsheet"]))), ("c.csv", CSV)]:
        api = APIClient()
        api.force_authenticate(world.ministry_pl)
        body = api.post("/api/v1/imports/", {"file": SimpleUploadedFile(name, data),
                                             "coalition": world.coalition.pk}, format="multipart").json()
        assert body["summary"]["error"] == 0 and body["summary"]["create"] >= 1, body
        assert api.post(f"/api/v1/imports/{body['id']}/apply/").status_code == 200
