"""The columns of a pledge spreadsheet: the CSV export's names, so an export imports as it is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from pledges.columns import PLEDGE_CSV_COLUMNS

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class Column:
    name: str
    help: StrOrPromise  # in the reader's language when it is read
    required: bool = False
    width: int = 14


COLUMNS = (
    Column("id", _("Leave empty for a new pledge. For one of yours, its number as downloaded: the row then changes "
                   "that pledge instead of adding another."), width=8),
    Column("version", _("As downloaded, next to the id. If the pledge was changed by someone since, the row is "
                        "refused rather than overwriting that change: download a fresh template."), width=9),
    Column("country", _("Your country's code (e.g. PL), or empty. Rows for another country are refused."), width=9),
    Column("category", _("The capability category's code (the drop-down lists them; the sheet 'Lists' gives the "
                         "names)."), required=True, width=16),
    Column("unit", _("The unit's code: one of the units of the category (e.g. personnel, aircraft)."), required=True,
           width=12),
    Column("quantity", _("A whole number, 1 or more."), required=True, width=10),
    Column("status", _("draft (seen only by your country), indicative (offered), confirmed, deployed or withdrawn. "
                       "A new pledge starts as draft or indicative; a change of status must be a legal move "
                       "(draft to indicative, indicative to confirmed, confirmed to deployed, or withdrawn)."),
           required=True, width=12),
    Column("releasability", _("secretariat (the secretariat and analysts only) or coalition (every member country). "
                              "Empty for a new pledge: secretariat."), width=14),
    Column("description", _("What exactly is offered."), width=40),
    Column("location", _("Where, in words: a region, or more about the place (e.g. Eastern Poland)."), width=18),
    Column("place", _("The place's GeoNames id, a whole number (the admin's Places, or GET /api/v1/places/?search=Kyiv "
                      "find it: Rzeszów is 759734). Empty for none."), width=10),
    Column("available_from", _("A date: a date cell, or written 2026-04-03 (year-month-day)."), width=14),
    Column("available_until", _("A date, as available_from; not before it."), width=14),
    Column("notice_to_move_days", _("Days' notice needed to move, a whole number."), width=10),
    Column("estimated_value_eur", _("Estimated value in euros, a number such as 1250000.50."), width=16),
    Column("caveats", _("Caveats to add with the pledge, one per line, as kind: text. Kinds: no_deployment, "
                        "geographic, condition, role, duration, other. Example: condition: Only with a ceasefire in "
                        "force. A caveat already on the pledge is not added twice; none is lifted from here."),
           width=40),
)
BY_NAME = {column.name: column for column in COLUMNS}
REQUIRED = tuple(column.name for column in COLUMNS if column.required)
# What the CSV export has besides (coalition, is_conditional, the figures, place_name...): read-only, taken as they
# come and ignored (`coalition` is checked).
EXPORT_ONLY = frozenset(PLEDGE_CSV_COLUMNS) - set(BY_NAME)
