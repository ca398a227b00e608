"""The spreadsheet a ministry fills in: its country's pledges in a coalition, ready to change or add to.

Sheet "Pledges": one row per pledge (id and version kept, so a row changes its pledge rather than adding
another), drop-down lists (data validation) for category, unit, status and releasability; "How to fill it in":
each column explained; "Lists": the codes the drop-downs offer, with their names. Column names, codes and the
sheet names the reader and the drop-downs look for ("Pledges", "Lists") stay as they are; every text a desk
officer reads (the help, the drop-downs' prompts) is in the language of the request.
"""

from __future__ import annotations

import io
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from accounts.roles import MinistryStaff
from imports.columns import COLUMNS
from pledges.models import CapabilityCategory, CaveatKind, Coalition, PledgeStatus, Releasability, Unit
from pledges.selectors import pledge_list
from utilities.spreadsheet import text_cell

HEADER_FILL = PatternFill("solid", fgColor="1F3A5F")
HEADER_FONT = Font(bold=True, color="FFFFFF")
ROOM = 1000  # rows below the pledges that still offer the drop-downs


def template_xlsx(*, user: MinistryStaff, coalition: Coalition) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Pledges"
    names = [column.name for column in COLUMNS]
    sheet.append(names)
    for cell in sheet[1]:
        cell.fill, cell.font = HEADER_FILL, HEADER_FONT
    pledges = pledge_list(user=user).filter(coalition=coalition, country_id=user.country_id).prefetch_related(
        "caveats").order_by("category__sort_order", "id")
    for pledge in pledges:
        caveats = "\n".join(f"{c.kind}: {c.text}" for c in pledge.caveats.all() if c.is_active)
        row = {
            "id": pledge.pk, "version": pledge.version, "country": pledge.country.code,
            "category": pledge.category.code, "unit": pledge.unit.code, "quantity": pledge.quantity,
            "status": pledge.status, "releasability": pledge.releasability, "description": pledge.description,
            "location": pledge.location, "place": pledge.place_id, "available_from": pledge.available_from,
            "available_until": pledge.available_until, "notice_to_move_days": pledge.notice_to_move_days,
            "estimated_value_eur": pledge.estimated_value_eur, "caveats": caveats,
        }
        sheet.append([text_cell(sheet, row[name]) if isinstance(row[name], str) else row[name] for name in names])
    last = sheet.max_row + ROOM
    for index, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = column.width
        if column.name in ("available_from", "available_until"):
            for (cell,) in sheet.iter_rows(min_row=2, max_row=sheet.max_row, min_col=index, max_col=index):
                cell.number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A2"
    _lists(book, sheet, names, last)
    _help(book, coalition)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _lists(book: Workbook, sheet: Any, names: list[str], last: int) -> None:
    lists = book.create_sheet("Lists")
    categories = list(CapabilityCategory.objects.order_by("sort_order", "code"))
    units = list(Unit.objects.order_by("code"))
    columns = {
        "category": [c.code for c in categories],
        "unit": [u.code for u in units],
        "status": list(PledgeStatus.values),
        "releasability": list(Releasability.values),
    }
    described = {
        "category": {c.code: _(c.name) for c in categories}, "unit": {u.code: u.name for u in units},
        "status": {code: str(label) for code, label in PledgeStatus.choices},
        "releasability": {code: str(label) for code, label in Releasability.choices},
    }
    position = 1
    for name, codes in columns.items():
        code_letter, name_letter = get_column_letter(position), get_column_letter(position + 1)
        lists.cell(row=1, column=position, value=name).font = Font(bold=True)
        lists.cell(row=1, column=position + 1, value=_("%(column)s means") % {"column": name}).font = Font(bold=True)
        for row, code in enumerate(codes, start=2):
            lists.cell(row=row, column=position, value=code)
            lists.cell(row=row, column=position + 1, value=described[name].get(code, ""))
        lists.column_dimensions[code_letter].width = 16
        lists.column_dimensions[name_letter].width = 30
        target = get_column_letter(names.index(name) + 1)
        rule = DataValidation(type="list", formula1=f"=Lists!${code_letter}$2:${code_letter}${len(codes) + 1}",
                              allow_blank=True, showErrorMessage=True,
                              errorTitle=_("Not a %(column)s") % {"column": name},
                              error=_("Choose a %(column)s from the list (the sheet 'Lists' says what each means).")
                              % {"column": name})
        rule.add(f"{target}2:{target}{last}")
        sheet.add_data_validation(rule)
        position += 3
    kinds_column = get_column_letter(position)
    lists.cell(row=1, column=position, value=_("caveat kind")).font = Font(bold=True)
    for row, kind in enumerate(CaveatKind.values, start=2):
        lists.cell(row=row, column=position, value=kind)
    lists.column_dimensions[kinds_column].width = 16


def _help(book: Workbook, coalition: Coalition) -> None:
    about = book.create_sheet("How to fill it in", 1)
    about.append([_("Your pledges to %(coalition)s: change a row to change that pledge; add a row (id empty) "
                    "for a new one; leave rows you do not change as they are. Then upload the file: you will see "
                    "what it would do before anything is changed.") % {"coalition": coalition.name}])
    about.append([])
    about.append([_("Column"), _("Required"), _("What to write")])
    for cell in about[3]:
        cell.fill, cell.font = HEADER_FILL, HEADER_FONT
    for column in COLUMNS:
        about.append([column.name, _("yes") if column.required else "", str(column.help)])
    about.column_dimensions["A"].width = 22
    about.column_dimensions["B"].width = 10
    about.column_dimensions["C"].width = 110
    for row in about.iter_rows(min_row=4):
        row[2].alignment = Alignment(wrap_text=True, vertical="top")
