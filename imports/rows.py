"""Each spreadsheet row read into the values a pledge service takes, with a message per field a desk officer can
act on. The values are kept JSON-ready (ids, ISO dates, decimal text), so an import stores what it will write."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from imports.cells import shown
from imports.reader import Row, as_date
from places.models import Place
from pledges.models import CapabilityCategory, CaveatKind, Coalition, Country, PledgeStatus, Releasability

WHOLE = re.compile(r"^\d{1,3}([ ,\u00a0\u202f]?\d{3})*$|^\d+$")  # 1200, 1,200, 1 200
MAX_DIGITS = 18  # a whole number past this is no quantity, id or day count (and int() of thousands of digits fails)
MAX_CAVEATS_PER_ROW = 20  # each is a write of its own: the limits keep one file's work within minutes
MAX_CAVEATS_PER_FILE = 5_000


@dataclass
class Lookups:
    """Categories, units and which units each category counts in: read once per file."""

    categories: dict[str, CapabilityCategory]  # by code and by lower-case name
    units_of: dict[int, dict[str, int]]  # category id -> unit code -> unit id
    places: dict[int, Place | None] = field(default_factory=dict)  # asked once per id in the file

    def place(self, place_id: int) -> Place | None:
        if place_id not in self.places:
            self.places[place_id] = Place.objects.filter(pk=place_id).first()
        return self.places[place_id]

    @classmethod
    def load(cls) -> Lookups:
        categories: dict[str, CapabilityCategory] = {}
        units_of: dict[int, dict[str, int]] = {}
        for category in CapabilityCategory.objects.prefetch_related("units"):
            categories[category.code.lower()] = categories[category.name.lower()] = category
            units_of[category.pk] = {unit.code.lower(): unit.pk for unit in category.units.all()}
        return cls(categories, units_of)


@dataclass
class PledgeRow:
    number: int
    pledge_id: int | None
    version: int | None
    status: str
    fields: dict[str, Any]  # pledge_create / pledge_update keyword values, JSON-ready (category_id, unit_id, ...)
    caveats: list[tuple[str, str]]
    errors: dict[str, list[str]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """What a worker needs to run the row as read: its values and the errors reading found."""
        return {"number": self.number, "pledge_id": self.pledge_id, "version": self.version, "status": self.status,
                "fields": self.fields, "caveats": [list(c) for c in self.caveats], "errors": self.errors}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PledgeRow:
        return cls(number=data["number"], pledge_id=data["pledge_id"], version=data["version"],
                   status=data["status"], fields=data["fields"],
                   caveats=[(kind, text) for kind, text in data["caveats"]], errors=data.get("errors", {}))


def clean_row(row: Row, *, country: Country, coalition: Coalition, lookups: Lookups) -> PledgeRow:
    values, errors = row.values, {name: list(messages) for name, messages in row.errors.items()}

    def error(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    def text(name: str) -> str:
        value = values.get(name)
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return str(value).strip()

    fields: dict[str, Any] = {}
    given_country = text("country")
    if given_country and given_country.upper() != country.code:
        error("country", _("'%(given)s' is not your country (%(code)s): rows for another country are refused.")
              % {"given": shown(given_country), "code": country.code})
    given_coalition = text("coalition")
    if given_coalition and given_coalition not in (str(coalition.pk), coalition.short_name):
        error("coalition", _("this row is for coalition %(given)s, the file is imported into %(name)s (id %(id)s).")
              % {"given": shown(given_coalition), "name": coalition.short_name, "id": coalition.pk})

    pledge_id = _whole(text("id"), "id", error, minimum=1)
    version = _whole(text("version"), "version", error, minimum=1)
    if pledge_id is not None and version is None and "version" not in errors:
        error("version", _("give the version next to the id, as downloaded, so that a pledge changed since is "
                           "not overwritten."))

    category = lookups.categories.get(text("category").lower())
    if not text("category"):
        error("category", _("required."))
    elif category is None:
        error("category", _("'%(given)s' is not a capability category (see the sheet 'Lists').") % {
            "given": shown(text("category"))})
    else:
        fields["category_id"] = category.pk
        unit_code = text("unit").lower()
        if not unit_code:
            error("unit", _("required."))
        elif unit_code not in lookups.units_of[category.pk]:
            allowed = ", ".join(lookups.units_of[category.pk]) or "none"
            error("unit", _("'%(given)s' is not a unit of %(category)s (its units: %(allowed)s).") % {
                "given": shown(text("unit")), "category": _(category.name), "allowed": allowed})
        else:
            fields["unit_id"] = lookups.units_of[category.pk][unit_code]

    quantity = _whole(text("quantity"), "quantity", error, minimum=1)
    if quantity is None and "quantity" not in errors:
        error("quantity", _("required: a whole number, 1 or more."))
    elif quantity is not None:
        fields["quantity"] = quantity

    status = text("status").lower()
    if not status:
        error("status", _("required: draft, indicative, confirmed, deployed or withdrawn."))
    elif status not in PledgeStatus.values:
        error("status", _("'%(given)s' is not a status: draft, indicative, confirmed, deployed or withdrawn.") % {
            "given": shown(text("status"))})

    releasability = text("releasability").lower()
    if releasability and releasability not in Releasability.values:
        error("releasability", _("'%(given)s' is not one of: secretariat, coalition.") % {
            "given": shown(text("releasability"))})
    elif releasability:
        fields["releasability"] = releasability

    for name in ("description", "location"):
        if name in values:
            fields[name] = text(name)
    if "place" in values:
        fields["place_id"] = None
        place_id = _whole(text("place"), "place", error, minimum=1)
        if place_id is not None:
            # the theatre is the pledge services' rule: the preview meets it when it runs them
            if lookups.place(place_id) is None:
                error("place", _("no place has the GeoNames id %(id)s.") % {"id": place_id})
            else:
                fields["place_id"] = place_id
    for name in ("available_from", "available_until"):
        if name in values:
            try:
                day = as_date(values.get(name))
            except ValueError as problem:
                error(name, str(problem))
            else:
                fields[name] = day.isoformat() if day else None
    if "notice_to_move_days" in values:
        fields["notice_to_move_days"] = _whole(text("notice_to_move_days"), "notice_to_move_days", error, minimum=0)
    if "estimated_value_eur" in values:
        fields["estimated_value_eur"] = _decimal(text("estimated_value_eur"), "estimated_value_eur", error)

    caveats = []
    lines = [line for line in text("caveats").splitlines() if line.strip()]
    if len(lines) > MAX_CAVEATS_PER_ROW:
        error("caveats", _("%(count)s caveats: at most %(limit)s can be added with one pledge.") % {
            "count": len(lines), "limit": MAX_CAVEATS_PER_ROW})
        lines = []
    for line in lines:
        kind, _colon, caveat_text = line.partition(":")
        kind = kind.strip().lower().replace(" ", "_")
        if not caveat_text.strip() or kind not in CaveatKind.values:
            error("caveats", _("'%(given)s' is not 'kind: text' with a kind among %(kinds)s.") % {
                "given": shown(line.strip()), "kinds": ", ".join(CaveatKind.values)})
        else:
            caveats.append((kind, caveat_text.strip()))
    return PledgeRow(number=row.number, pledge_id=pledge_id, version=version, status=status, fields=fields,
                     caveats=caveats, errors=errors)


def _whole(text: str, name: str, error: Any, *, minimum: int) -> int | None:
    if not text:
        return None
    if not WHOLE.match(text):
        error(name, _("'%(given)s' is not a whole number.") % {"given": shown(text)})
        return None
    digits = re.sub(r"\D", "", text).lstrip("0") or "0"
    if len(digits) > MAX_DIGITS:
        error(name, _("%(count)s digits: too large a number.") % {"count": len(digits)})
        return None
    number = int(digits)
    if number < minimum:
        error(name, _("must be %(minimum)s or more.") % {"minimum": minimum})
        return None
    return number


def _decimal(text: str, name: str, error: Any) -> str | None:
    if not text:
        return None
    try:
        value = Decimal(text.replace(" ", "").replace("\u00a0", ""))
    except InvalidOperation:
        error(name, _("'%(given)s' is not a number (write 1250000.50).") % {"given": shown(text)})
        return None
    if not value.is_finite() or value < 0:
        error(name, _("must be a number of 0 or more."))
        return None
    if value.adjusted() >= MAX_DIGITS:
        error(name, _("%(count)s digits: too large a number.") % {"count": value.adjusted() + 1})
        return None
    return str(value)
