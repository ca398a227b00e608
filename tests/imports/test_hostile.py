"""Hostile or damaged files are refused in words, or read with an error on their row, on both upload paths (the API
and the admin's upload page): never a 500, and nothing written but the preview itself."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from imports import services
from imports.models import Import
from tests.conftest import World
from tests.imports import hostile
from tests.imports.test_admin import signed_in
from tests.imports.test_api import state, upload

CSV_HEADER = b"category,unit,quantity,status,description\n"


def billion_laughs() -> bytes:
    entities = '<!ENTITY a0 "lol">' + "".join(f'<!ENTITY a{n} "{f"&a{n - 1};" * 10}">' for n in range(1, 10))
    return hostile.with_sheet(f'<?xml version="1.0"?><!DOCTYPE worksheet [{entities}]><worksheet xmlns='
                              f'"{hostile.MAIN}"><sheetData><row r="1"><c t="inlineStr"><is><t>&a9;</t></is></c>'
                              f'</row></sheetData></worksheet>'.encode())


def nested(depth: int) -> bytes:
    return hostile.with_sheet(f'<worksheet xmlns="{hostile.MAIN}"><sheetData>{"<x>" * depth}{"</x>" * depth}'
                              f'</sheetData></worksheet>'.encode())


def rows_out_of_order() -> bytes:
    return hostile.with_sheet(f'<worksheet xmlns="{hostile.MAIN}"><sheetData><row r="3"/><row r="2"/></sheetData>'
                              f'</worksheet>'.encode())


# (file name, how it is made, what answers it: ("file", words of the refusal) or ("row", the field in error))
CASES: dict[str, tuple[str, Callable[[], bytes], tuple[str, str]]] = {
    # the seven
    "date-cell-not-a-date": ("x.xlsx", lambda: hostile.sheet_with_cells(hostile.valid_cells(
        available_from='<c r="L2" t="d"><v>not-a-date</v></c>')), ("row", "available_from")),
    "number-cell-of-words": ("x.xlsx", lambda: hostile.sheet_with_cells(hostile.valid_cells(
        quantity='<c r="F2" t="n"><v>abc</v></c>')), ("row", "quantity")),
    "reference-ZZZZ2": ("x.xlsx", lambda: hostile.sheet_with_cells(hostile.valid_cells(
        quantity='<c r="ZZZZ2"><v>5</v></c>')), ("file", "cell ZZZZ2 lies beyond column XFD")),
    "sheet-xml-cut-short": ("x.xlsx", hostile.truncated_sheet_xml, ("file", "is broken at line 1")),
    "sheet-stream-cut-short": ("x.xlsx", hostile.truncated_sheet_stream, ("file", "is it damaged?")),
    "chart-sheet-first": ("x.xlsx", hostile.chart_sheet_first, ("row", "")),  # the worksheet after it is read
    "csv-cell-over-131072": ("x.csv", lambda: CSV_HEADER + b"troops,personnel,5,draft," + b"x" * 140_000 + b"\n",
                             ("file", "Row 2 has a cell of more than 32,767 characters")),
    "csv-quantity-of-5000-digits": ("x.csv", lambda: b"category,unit,quantity,status\ntroops,personnel,"
                                    + b"9" * 5000 + b",draft\n", ("row", "quantity")),
    # their siblings
    "boolean-cell-of-words": ("x.xlsx", lambda: hostile.sheet_with_cells(hostile.valid_cells(
        description='<c r="I2" t="b"><v>maybe</v></c>')), ("row", "description")),
    "date-formatted-number-past-the-calendar": ("x.xlsx", lambda: hostile.sheet_with_cells(
        hostile.valid_cells(available_from='<c r="L2" s="1"><v>1e300</v></c>'), styles=True),
        ("row", "available_from")),
    "unknown-cell-type": ("x.xlsx", lambda: hostile.sheet_with_cells(hostile.valid_cells(
        quantity='<c r="F2" t="zz"><v>5</v></c>')), ("file", "has the unknown type 'zz'")),
    "shared-string-that-is-not-there": ("x.xlsx", lambda: hostile.sheet_with_cells(hostile.valid_cells(
        status='<c r="G2" t="s"><v>7</v></c>')), ("file", "refers to shared text number 7")),
    "cell-reference-of-junk": ("x.xlsx", lambda: hostile.sheet_with_cells(hostile.valid_cells(
        quantity='<c r="F-2"><v>5</v></c>')), ("file", "not a cell's name")),
    "cells-out-of-order": ("x.xlsx", lambda: hostile.sheet_with_cells(hostile.valid_cells(
        quantity='<c r="F2"><v>5</v></c><c r="B2"><v>1</v></c>')), ("file", "out of order at B2")),
    "rows-out-of-order": ("x.xlsx", rows_out_of_order, ("file", "rows are out of order at row 2")),
    "entity-expansion": ("x.xlsx", billion_laughs, ("file", "declares a DTD")),
    "nested-ten-thousand-deep": ("x.xlsx", lambda: nested(10_000), ("file", "nests more than 64 elements")),
    "chart-sheets-only": ("x.xlsx", lambda: hostile.chart_sheet_first(keep_worksheet=False),
                          ("file", "no worksheet with cells")),
    "csv-stray-quote": ("x.csv", lambda: CSV_HEADER + b'troops,personnel,5,draft,"unclosed\n',
                        ("row", "")),
    "csv-row-of-20000-cells": ("x.csv", lambda: CSV_HEADER + b"troops,personnel,5,draft" + b",x" * 20_000 + b"\n",
                               ("file", "Row 2 has more than 16,384 cells")),
    "csv-decimal-of-a-million-digits-exponent": ("x.csv", lambda: b"category,unit,quantity,status,estimated_value_eur"
                                                 b"\ntroops,personnel,5,draft,1e999999\n",
                                                 ("row", "estimated_value_eur")),
}


def check(answer: tuple[str, str], refused: str | None, rows: list[dict[str, Any]] | None) -> None:
    kind, words = answer
    if kind == "file":
        assert refused is not None and words in refused, refused
    else:
        assert refused is None and rows, refused
        if words:
            assert rows[0]["action"] == "error" and words in rows[0]["errors"], rows


@pytest.mark.parametrize("case", list(CASES))
def test_a_hostile_file_is_answered_in_words_through_the_api(world: World, client_for: Callable[[str], APIClient],
                                                               case: str) -> None:
    name, make, answer = CASES[case]
    before = state()
    response = upload(client_for("ministry_pl"), world.coalition.pk, make(), name)
    assert response.status_code in (201, 400), response.content[:500]
    body = response.json()
    if response.status_code == 400:
        assert list(body) == ["file"] and not Import.objects.exists(), body
        check(answer, body["file"][0], None)
    else:
        check(answer, None, body["rows"])
    assert state() == before


@pytest.mark.parametrize("case", list(CASES))
def test_a_hostile_file_is_answered_in_words_in_the_admin(world: World, case: str) -> None:
    name, make, answer = CASES[case]
    client = signed_in(world.ministry_pl)
    before = state()
    response = client.post("/admin/imports/import/upload/", {"coalition": world.coalition.pk,
                                                              "file": SimpleUploadedFile(name, make())})
    assert response.status_code in (200, 302), response.content[:500]
    if response.status_code == 200:  # the form again, with the refusal under the file field
        page = response.content.decode()
        errors = re.findall(r'<ul class="errorlist"[^>]*>(.*?)</ul>', page, re.DOTALL)
        assert errors and not Import.objects.exists(), page[:2000]
        check(answer, " ".join(re.sub(r"<[^>]+>", "", error) for error in errors).replace("&#x27;", "'"), None)
    else:
        imported = Import.objects.get()
        check(answer, None, [row for row in imported.rows])
        assert client.get(response["Location"]).status_code == 200
    assert state() == before


def test_a_long_imports_rows_keep_the_errors_reading_found(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file previewed by a worker is read in the request and run from what was stored: a value the reader could
    not take (here a date) stays an error on its row, rather than the row running without it."""
    monkeypatch.setattr(services, "QUEUED_ABOVE", 1)
    data = b"category,unit,quantity,status,available_from\ntroops,personnel,5,draft,next spring\n" \
           b"troops,personnel,6,draft,2026-05-01\n"
    imported = services.import_preview(actor=world.ministry_pl, coalition=world.coalition, filename="x.csv",
                                       data=data)
    assert imported.status == "previewing"
    ran = services.import_preview_run(actor=world.ministry_pl, import_id=imported.pk)
    assert [(row["row"], row["action"]) for row in ran.rows] == [(2, "error"), (3, "create")]
    assert "is not a date" in ran.rows[0]["errors"]["available_from"][0]


def test_caveats_are_limited_per_row_and_per_file(world: World, client_for: Callable[[str], APIClient]) -> None:
    """Each caveat is a write of its own: one row adds at most 20, one file at most 5,000 (the work of one file
    stays within minutes, not the twenty a 5 MB file of caveats took)."""
    pl = client_for("ministry_pl")
    lines = "\n".join(f"condition: Condition {n}." for n in range(21))
    data = b"category,unit,quantity,status,caveats\ntroops,personnel,5,draft,\"" + lines.encode() + b"\"\n"
    row = upload(pl, world.coalition.pk, data, "x.csv").json()["rows"][0]
    assert row["action"] == "error" and row["errors"]["caveats"] == [
        "21 caveats: at most 20 can be added with one pledge."]
    twenty = "\n".join(f"condition: Condition {n}." for n in range(20)).encode()
    before, imports = state(), Import.objects.count()
    data = b"category,unit,quantity,status,caveats\n" + b"troops,personnel,5,draft,\"" + twenty + b"\"\n"
    refused = upload(pl, world.coalition.pk, b"category,unit,quantity,status,caveats\n"
                     + (b"troops,personnel,5,draft,\"" + twenty + b"\"\n") * 251, "x.csv")
    assert refused.status_code == 400 and refused.json()["file"] == [
        "The file adds 5,020 caveats; at most 5,000 can be imported at once: split it into several files."]
    assert state() == before and Import.objects.count() == imports
    assert upload(pl, world.coalition.pk, data, "x.csv").json()["rows"][0]["action"] == "create"


def test_a_refusal_is_in_the_uploaders_language(world: World) -> None:
    french = APIClient(headers={"Accept-Language": "fr"})
    french.force_authenticate(world.ministry_pl)
    name, make, _answer = CASES["reference-ZZZZ2"]
    response = upload(french, world.coalition.pk, make(), name)
    assert response.status_code == 400 and response.json()["file"] == [
        "Le fichier n'a pas pu être lu comme un classeur Excel (.xlsx) : la cellule ZZZZ2 se trouve au-delà de la "
        "colonne XFD, la dernière qu'une feuille puisse avoir. Ouvrez-le dans un tableur, enregistrez-le à nouveau "
        "et déposez ce fichier."]
