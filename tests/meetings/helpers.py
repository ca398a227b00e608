"""Reading a brief back the way a person does: the PDF's text, the XLSX's cells."""

from __future__ import annotations

import io
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from openpyxl import load_workbook


def pdf_text(content: bytes, *, layout: bool = False) -> str:
    """The PDF's text by pdftotext: in drawing order with whitespace collapsed (a wrapped table cell reads as
    one phrase), or with `layout=True` line by line as printed (a table row on one line)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "brief.pdf"
        path.write_bytes(content)
        mode = "-layout" if layout else "-raw"
        result = subprocess.run(["pdftotext", mode, str(path), "-"], capture_output=True, check=True, text=True)
    return result.stdout if layout else " ".join(result.stdout.split())


def xlsx_rows(content: bytes, sheet: str) -> list[dict[str, Any]]:
    book = load_workbook(io.BytesIO(content), read_only=True)
    rows = list(book[sheet].iter_rows(values_only=True))
    header = rows[0]
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]
