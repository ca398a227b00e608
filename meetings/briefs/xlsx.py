"""The brief's data annex: the same figures as the PDF, one sheet per table.

Every text cell is written as text (type "s"): a caveat reading `=HYPERLINK(...)` or `=1+2` stays words in
every spreadsheet, never a formula; characters XML cannot carry are removed (utilities.text.printable).
Texts are whole here (the PDF cuts a very long one and points to this annex).
"""

from __future__ import annotations

import io
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from meetings.briefs import xlsx_time
from meetings.briefs.sections import section_sheets
from meetings.briefs.xlsx_rows import with_rows
from utilities.spreadsheet import text_cell

HEADER_FILL = PatternFill("solid", fgColor="1F3A5F")
HEADER_FONT = Font(bold=True, color="FFFFFF")


def _append(sheet: Worksheet, values: list[Any]) -> None:
    """One row; a str becomes a text cell whatever it starts with (openpyxl would store "=..." as a formula)."""
    sheet.append([text_cell(sheet, value) if isinstance(value, str) else value for value in values])


class _Annex:
    """The workbook's sheets: openpyxl writes each with its header row, widths, frozen header and filter; the
    rows under the header are written into the saved file (meetings.briefs.xlsx_rows), tens of thousands of
    them in a fraction of the time openpyxl's cells take."""

    def __init__(self) -> None:
        self.rows: list[tuple[Worksheet, list[list[Any]]]] = []

    def sheet(self, book: Workbook, title: str, header: list[str], rows: list[list[Any]], widths: list[int]) -> None:
        sheet = book.create_sheet(title)
        _append(sheet, header)
        for cell in sheet[1]:
            cell.fill, cell.font = HEADER_FILL, HEADER_FONT
            cell.alignment = Alignment(vertical="top", wrap_text=True)
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A2"
        if rows:  # the filter spans the header and every row, as sheet.dimensions would with the rows in it
            columns = max(len(header), *(len(row) for row in rows))
            sheet.auto_filter.ref = f"A1:{get_column_letter(columns)}{len(rows) + 1}"
            self.rows.append((sheet, rows))

    def save(self, book: Workbook) -> bytes:
        buffer = io.BytesIO()
        book.save(buffer)  # sets each sheet's path in the package
        return with_rows(buffer.getvalue(), {sheet.path.lstrip("/"): rows for sheet, rows in self.rows})


def render_xlsx(snap: dict[str, Any]) -> bytes:
    annex, book = _Annex(), Workbook()
    _sheet = annex.sheet
    about = book.active
    about.title = _("About")
    meeting = snap["meeting"]
    for label, value in [
        (_("Marking"), snap["marking"]),
        (_("Meeting"), meeting["title"]),
        (_("When"), meeting["when"]),
        (_("Where"), meeting["place"]),
        (_("Chairs"), ", ".join(meeting["chairs"])),
        (_("Coalition"), snap["coalition"]["name"]),
        (_("Brief number"), snap["brief"]["number"]),
        (_("Data as of (UTC)"), snap["as_of"]),
        (_("Data as of (local)"), snap["as_of_local"]),
    ]:
        _append(about, [label, value])
    for cell in about["A"]:
        cell.font = Font(bold=True)
    about.column_dimensions["A"].width = 20
    about.column_dimensions["B"].width = 80

    _sheet(book, _("Force"),
           [_("Category"), _("Category name"), _("Unit"), _("Requirement"), _("Confirmed"), _("Deployed"),
            _("Indicative"), _("Conditional"),
            _("Conditional confirmed"), _("Gap"), _("Gap without conditional"), _("Pledges"), _("Delivered"),
            _("Overdue"), _("Stale")],
           [[f["category"], f["category_name"], f["unit"], f["requirement"], f["confirmed"], f["deployed"],
             f["indicative"], f["conditional"], f["conditional_confirmed"], f["gap"], f["gap_without_conditional"],
             f["pledge_count"], f["delivered"], f["overdue"], f["stale"]] for f in snap["force"]],
           [14, 34, 12, 12, 11, 11, 11, 12, 12, 10, 14, 9, 11, 11, 11])
    _sheet(book, _("Countries"),
           [_("Country code"), _("Country"), _("Category"), _("Unit"), _("Confirmed"), _("Indicative"),
            _("Conditional"), _("Pledges"),
            _("Delivered"), _("Overdue"), _("Stale")],
           [[c["country"], c["country_name"], c["category"], c["unit"], c["confirmed"], c["indicative"],
             c["conditional"], c["pledge_count"], c["delivered"], c["overdue"], c["stale"]] for c in snap["countries"]],
           [10, 24, 14, 12, 11, 11, 12, 9, 11, 11, 11])
    _sheet(book, _("Caveats"),
           [_("Country code"), _("Country"), _("Kind"), _("Caveat"), _("Rationale"), _("Applies to"), _("Imposed on")],
           [[c["code"], c["country"], c["kind"], c["text"], c["rationale"], c["scope"], c["imposed_on"]]
            for c in snap["caveats"]],
           [10, 20, 14, 60, 45, 45, 12])
    changes = snap["changes"]
    since = changes["previous_meeting"]["title"] if changes["previous_meeting"] else ""
    _sheet(book, _("Changes"),
           [_("Since meeting"), _("Change"), _("Country code"), _("Country"), _("Category"), _("Unit"),
            _("Quantity before"),
            _("Quantity after"), _("Status before"), _("Status after"), _("Caveat"), _("At")],
           [[since, c["kind"], c["code"], c["country"], c["category"], c["unit"], c["quantity_before"],
             c["quantity_after"], c["status_before"], c["status_after"], "", c["at"]] for c in changes["pledges"]]
           + [[since, f"caveat_{c['kind']}", c["code"], c["country"], "", "", None, None, None, None, c["text"],
               c["at"]] for c in changes["caveats"]]
           + [[since, "delivered", c["code"], c["country"], c["category"], c["unit"], None, c["quantity"], None, None,
               "", c["at"]] for c in changes.get("deliveries", [])],
           [30, 16, 10, 20, 24, 12, 12, 12, 12, 12, 50, 22])
    delivery = snap["delivery"]
    _sheet(book, _("Delivery"),
           [_("Category name"), _("Unit"), _("Offered"), _("Delivered"), _("Overdue"), _("Stale")],
           [[c["category_name"], c["unit"], c["offered"], c["delivered"], c["overdue"], c["stale"]]
            for c in delivery["capabilities"]],
           [34, 12, 11, 11, 11, 11])
    _sheet(book, _("Overdue tranches"),
           [_("Country code"), _("Country"), _("Capability"), _("Quantity"), _("Unit"), _("Planned for"),
            _("Days late"), _("Pledge id"),
            _("Note")],
           [[r["code"], r["country"], r["category"], r["quantity"], r["unit"], r["planned_on"], r["days_late"],
             r["pledge_id"], r["note"]] for r in delivery["overdue"]],
           [10, 20, 30, 10, 12, 12, 10, 10, 50])
    _sheet(book, _("Stale pledges"),
           [_("Country code"), _("Country"), _("Capability"), _("Quantity"), _("Unit"), _("Status"),
            _("Last reconfirmed"), _("Days since"),
            _("Pledge id")],
           [[r["code"], r["country"], r["category"], r["quantity"], r["unit"], r["status"], r["reconfirmed_on"],
             r["days_since"], r["pledge_id"]] for r in delivery["stale"]],
           [10, 20, 30, 10, 12, 12, 14, 10, 10])
    places = snap.get("places", {"points": []})
    _sheet(book, _("Places"),
           [_("No."), _("Place"), _("Country code"), _("GeoNames id"), _("Latitude"), _("Longitude"), _("Capability"),
            _("Unit"), _("Offered"), _("Confirmed")],
           [[p["number"], p["name"], p["code"], p["id"], p["lat"], p["lon"], q["category_name"], q["unit"],
             q["quantity"], q["confirmed"]] for p in places["points"] for q in p["quantities"]],
           [6, 24, 10, 12, 10, 10, 34, 12, 11, 11])
    attendance = snap["attendance"]
    _sheet(book, _("Attendance"), [_("Country code"), _("Country"), _("Answer"), _("Head of delegation"), _("Level")],
           [[r["code"], r["country"], r["status"], r["head_of_delegation"], r["level"]] for r in attendance["rows"]],
           [10, 24, 12, 30, 24])
    xlsx_time.add_sheets(book, snap, _sheet)
    section_sheets(book, snap, _sheet)  # the floors above's (meetings.briefs.sections)
    return annex.save(book)
