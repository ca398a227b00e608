"""The brief's data annex: the same figures as the PDF, one sheet per table.

Every text cell is written as text (type "s"): a caveat reading `=HYPERLINK(...)` or `=1+2` stays words in
every spreadsheet, never a formula; characters XML cannot carry are removed (coalition.text.printable).
Texts are whole here (the PDF cuts a very long one and points to this annex).
"""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from coalition.text import printable

HEADER_FILL = PatternFill("solid", fgColor="1F3A5F")
HEADER_FONT = Font(bold=True, color="FFFFFF")


def _append(sheet: Worksheet, values: list[Any]) -> None:
    """One row; a str becomes a text cell whatever it starts with (openpyxl would store "=..." as a formula).
    The cells are made here, not looked up after the append: looking a row up scans the sheet, which made a
    sheet of n rows cost n² (minutes for the tranches of 100,000 pledges)."""
    sheet.append([_text_cell(sheet, value) if isinstance(value, str) else value for value in values])


def _text_cell(sheet: Worksheet, value: str) -> Cell:
    cell = Cell(sheet, value=printable(value))
    cell.data_type = "s"
    return cell


def _sheet(book: Workbook, title: str, header: list[str], rows: list[list[Any]], widths: list[int]) -> None:
    sheet = book.create_sheet(title)
    _append(sheet, header)
    for cell in sheet[1]:
        cell.fill, cell.font = HEADER_FILL, HEADER_FONT
        cell.alignment = Alignment(vertical="top", wrap_text=True)
    for row in rows:
        _append(sheet, row)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    if rows:
        sheet.auto_filter.ref = sheet.dimensions


def render_xlsx(snap: dict[str, Any]) -> bytes:
    book = Workbook()
    about = book.active
    about.title = "About"
    meeting = snap["meeting"]
    for label, value in [
        ("Marking", snap["marking"]),
        ("Meeting", meeting["title"]),
        ("When", meeting["when"]),
        ("Where", meeting["place"]),
        ("Chairs", ", ".join(meeting["chairs"])),
        ("Coalition", snap["coalition"]["name"]),
        ("Brief number", snap["brief"]["number"]),
        ("Data as of (UTC)", snap["as_of"]),
        ("Data as of (local)", snap["as_of_local"]),
    ]:
        _append(about, [label, value])
    for cell in about["A"]:
        cell.font = Font(bold=True)
    about.column_dimensions["A"].width = 20
    about.column_dimensions["B"].width = 80

    _sheet(book, "Force",
           ["Category", "Category name", "Unit", "Requirement", "Confirmed", "Deployed", "Indicative", "Conditional",
            "Conditional confirmed", "Gap", "Gap without conditional", "Pledges", "Delivered", "Overdue", "Stale"],
           [[f["category"], f["category_name"], f["unit"], f["requirement"], f["confirmed"], f["deployed"],
             f["indicative"], f["conditional"], f["conditional_confirmed"], f["gap"], f["gap_without_conditional"],
             f["pledge_count"], f["delivered"], f["overdue"], f["stale"]] for f in snap["force"]],
           [14, 34, 12, 12, 11, 11, 11, 12, 12, 10, 14, 9, 11, 11, 11])
    _sheet(book, "Countries",
           ["Country code", "Country", "Category", "Unit", "Confirmed", "Indicative", "Conditional", "Pledges",
            "Delivered", "Overdue", "Stale"],
           [[c["country"], c["country_name"], c["category"], c["unit"], c["confirmed"], c["indicative"],
             c["conditional"], c["pledge_count"], c["delivered"], c["overdue"], c["stale"]] for c in snap["countries"]],
           [10, 24, 14, 12, 11, 11, 12, 9, 11, 11, 11])
    _sheet(book, "Caveats",
           ["Country code", "Country", "Kind", "Caveat", "Rationale", "Applies to", "Imposed on"],
           [[c["code"], c["country"], c["kind"], c["text"], c["rationale"], c["scope"], c["imposed_on"]]
            for c in snap["caveats"]],
           [10, 20, 14, 60, 45, 45, 12])
    changes = snap["changes"]
    since = changes["previous_meeting"]["title"] if changes["previous_meeting"] else ""
    _sheet(book, "Changes",
           ["Since meeting", "Change", "Country code", "Country", "Category", "Unit", "Quantity before",
            "Quantity after", "Status before", "Status after", "Caveat", "At"],
           [[since, c["kind"], c["code"], c["country"], c["category"], c["unit"], c["quantity_before"],
             c["quantity_after"], c["status_before"], c["status_after"], "", c["at"]] for c in changes["pledges"]]
           + [[since, f"caveat_{c['kind']}", c["code"], c["country"], "", "", None, None, None, None, c["text"],
               c["at"]] for c in changes["caveats"]]
           + [[since, "delivered", c["code"], c["country"], c["category"], c["unit"], None, c["quantity"], None, None,
               "", c["at"]] for c in changes.get("deliveries", [])],
           [30, 16, 10, 20, 24, 12, 12, 12, 12, 12, 50, 22])
    delivery = snap["delivery"]
    _sheet(book, "Delivery",
           ["Category name", "Unit", "Offered", "Delivered", "Overdue", "Stale"],
           [[c["category_name"], c["unit"], c["offered"], c["delivered"], c["overdue"], c["stale"]]
            for c in delivery["capabilities"]],
           [34, 12, 11, 11, 11, 11])
    _sheet(book, "Overdue tranches",
           ["Country code", "Country", "Capability", "Quantity", "Unit", "Planned for", "Days late", "Pledge id",
            "Note"],
           [[r["code"], r["country"], r["category"], r["quantity"], r["unit"], r["planned_on"], r["days_late"],
             r["pledge_id"], r["note"]] for r in delivery["overdue"]],
           [10, 20, 30, 10, 12, 12, 10, 10, 50])
    _sheet(book, "Stale pledges",
           ["Country code", "Country", "Capability", "Quantity", "Unit", "Status", "Last reconfirmed", "Days since",
            "Pledge id"],
           [[r["code"], r["country"], r["category"], r["quantity"], r["unit"], r["status"], r["reconfirmed_on"],
             r["days_since"], r["pledge_id"]] for r in delivery["stale"]],
           [10, 20, 30, 10, 12, 12, 14, 10, 10])
    attendance = snap["attendance"]
    _sheet(book, "Attendance", ["Country code", "Country", "Answer", "Head of delegation", "Level"],
           [[r["code"], r["country"], r["status"], r["head_of_delegation"], r["level"]] for r in attendance["rows"]],
           [10, 24, 12, 30, 24])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
