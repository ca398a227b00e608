"""The demo coalition: real countries and formats, illustrative pledge figures.

Country names, codes, formats and the caveats' substance follow public
reporting of the 2025 coalition of the willing; every quantity is illustrative
and flagged `is_illustrative`. Loading is idempotent: a second run finds what
the first made and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from places.gazetteer import ensure_gazetteer
from places.models import Place
from pledges import services
from pledges.models import (
    CapabilityCategory,
    CategoryUnit,
    Caveat,
    CaveatKind,
    Coalition,
    Condition,
    Country,
    Membership,
    Pledge,
    PledgeStatus,
    Releasability,
    Unit,
)
from utilities.versioning import SystemActor

COUNTRIES = {
    "AL": "Albania", "AU": "Australia", "AT": "Austria", "BE": "Belgium", "BG": "Bulgaria", "CA": "Canada",
    "HR": "Croatia", "CY": "Cyprus", "CZ": "Czechia", "DK": "Denmark", "EE": "Estonia", "FI": "Finland",
    "FR": "France", "DE": "Germany", "GR": "Greece", "IS": "Iceland", "IE": "Ireland", "IT": "Italy",
    "JP": "Japan", "LV": "Latvia", "LT": "Lithuania", "LU": "Luxembourg", "MD": "Moldova", "ME": "Montenegro",
    "NL": "Netherlands", "NZ": "New Zealand", "MK": "North Macedonia", "NO": "Norway", "PL": "Poland",
    "PT": "Portugal", "RO": "Romania", "SK": "Slovakia", "SI": "Slovenia", "ES": "Spain", "SE": "Sweden",
    "TR": "Türkiye", "UA": "Ukraine", "GB": "United Kingdom", "US": "United States", "KR": "Republic of Korea",
    "HU": "Hungary", "CH": "Switzerland", "QA": "Qatar", "MA": "Morocco", "KE": "Kenya", "IL": "Israel",
    "GE": "Georgia", "AZ": "Azerbaijan", "TN": "Tunisia", "LR": "Liberia", "KO": "Kosovo",
}
# Kosovo has no ISO 3166-1 code; XK is the code in common use, so it replaces "KO" below.
COUNTRIES["XK"] = COUNTRIES.pop("KO")

COALITION_OF_THE_WILLING = [
    "AU", "AT", "BE", "BG", "CA", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "IS", "IE", "IT",
    "JP", "LV", "LT", "LU", "NL", "NZ", "NO", "PL", "PT", "RO", "ES", "SE", "TR", "UA", "GB", "MD", "SI",
]
CONTACT_GROUP = sorted(set(COALITION_OF_THE_WILLING) | {
    "AL", "ME", "MK", "SK", "US", "KR", "MA", "KE", "IL", "GE", "QA", "TN", "LR", "XK", "CH", "HU",
})

UNITS = {
    "personnel": "Personnel", "aircraft": "Aircraft", "vessels": "Vessels", "systems": "Systems",
    "vehicles": "Vehicles", "platforms": "Platforms", "teams": "Teams", "facilities": "Facilities",
}
# Category names are stored in English and shown in the reader's language (marked here, translated on display).
CATEGORIES = [  # code, name, units
    ("troops", gettext_noop("Land forces (troops)"), ["personnel"]),
    ("air", gettext_noop("Air forces"), ["aircraft", "personnel"]),
    ("naval", gettext_noop("Naval forces"), ["vessels"]),
    ("air_defense", gettext_noop("Air defence"), ["systems"]),
    ("logistics", gettext_noop("Logistics"), ["personnel", "vehicles"]),
    ("intelligence", gettext_noop("Intelligence, surveillance and reconnaissance"), ["personnel", "platforms"]),
    ("training", gettext_noop("Training"), ["personnel"]),
    ("medical", gettext_noop("Medical"), ["personnel", "facilities"]),
    ("engineering", gettext_noop("Engineering"), ["personnel"]),
    ("cyber", gettext_noop("Cyber"), ["teams"]),
]
REQUIREMENTS = [  # category, unit, quantity (illustrative)
    ("troops", "personnel", 25000), ("air", "aircraft", 60), ("naval", "vessels", 12),
    ("air_defense", "systems", 20), ("logistics", "personnel", 3000), ("intelligence", "platforms", 15),
    ("training", "personnel", 2000), ("medical", "personnel", 800),
]


SEED_ACTOR = SystemActor("seed_demo")  # history names the demo loader as the author of what it wrote


@dataclass(frozen=True)
class DemoPledge:
    country: str
    category: str
    unit: str
    quantity: int
    status: str
    description: str
    location: str = ""
    place: int | None = None  # a GeoNames id (places.Place)
    releasability: str = Releasability.COALITION
    notice_days: int | None = None
    caveat: tuple[str, str, str] | None = None  # kind, text, rationale


# GeoNames ids of the demo's places (the gazetteer shipped with the product).
KYIV, ODESA, LVIV, KHARKIV = 703448, 698740, 702550, 706483
RZESZOW, CONSTANTA, ALEXANDROUPOLI, GRAFENWOHR = 759734, 680963, 736928, 2918258
# Where the coalition of the willing's pledges may be placed: Ukraine, its neighbours and the Black Sea states,
# and the countries where Ukrainian forces are trained.
COALITION_OF_THE_WILLING_THEATRE = ["UA", "PL", "RO", "MD", "SK", "HU", "BG", "GR", "TR", "LT", "LV", "EE", "FI",
                                    "DE", "FR", "GB"]

P, S = DemoPledge, PledgeStatus
STEPS_AFTER_OFFER: dict[str, list[str]] = {
    S.DRAFT: [], S.INDICATIVE: [], S.CONFIRMED: [S.CONFIRMED], S.DEPLOYED: [S.CONFIRMED, S.DEPLOYED],
}
PLEDGES = [
    P("GB", "troops", "personnel", 10000, S.INDICATIVE, "Reassurance brigade headquarters and battlegroups",
      "Kyiv", notice_days=30, place=KYIV),
    P("GB", "air", "aircraft", 12, S.CONFIRMED, "Typhoon air policing detachment", "Western Ukraine"),
    P("GB", "naval", "vessels", 2, S.CONFIRMED, "Mine countermeasures vessels, Black Sea", "Odesa", place=ODESA),
    P("GB", "intelligence", "platforms", 3, S.CONFIRMED, "ISR aircraft sorties", "Black Sea", place=CONSTANTA),
    P("FR", "troops", "personnel", 8000, S.INDICATIVE, "Armoured brigade in strategic cities", "Kyiv, Lviv, Odesa",
      notice_days=30,
      caveat=(CaveatKind.GEOGRAPHIC, "Deployed only in strategic cities, away from the line of contact.",
              "Reassurance role, not a combat mission.")),
    P("FR", "air", "aircraft", 10, S.CONFIRMED, "Rafale air policing detachment", "Western Ukraine"),
    P("FR", "air_defense", "systems", 2, S.CONFIRMED, "SAMP/T batteries", "Kyiv", place=KYIV),
    P("FR", "training", "personnel", 400, S.DEPLOYED, "Training teams for Ukrainian brigades", "Poland and France"),
    P("DE", "air_defense", "systems", 3, S.CONFIRMED, "Patriot and IRIS-T SLM fire units", "Western Ukraine",
      releasability=Releasability.SECRETARIAT),
    P("DE", "logistics", "vehicles", 300, S.INDICATIVE, "Heavy transport and recovery vehicles", "Rzeszów hub",
      place=RZESZOW),
    P("DE", "training", "personnel", 500, S.DEPLOYED, "Training mission (EUMAM)", "Germany", place=GRAFENWOHR),
    P("PL", "logistics", "personnel", 1200, S.CONFIRMED, "Logistics hub and onward movement", "Rzeszów", place=RZESZOW),
    P("PL", "air", "aircraft", 6, S.INDICATIVE, "Air policing from Polish bases", "Eastern Poland"),
    P("PL", "air_defense", "systems", 2, S.DRAFT, "Short-range air defence (government decision pending)",
      "Rzeszów", place=RZESZOW),
    P("GR", "naval", "vessels", 2, S.INDICATIVE, "Frigate and support ship for maritime security", "Black Sea",
      place=CONSTANTA),
    P("GR", "logistics", "personnel", 150, S.INDICATIVE, "Sealift and port support", "Alexandroupolis",
      place=ALEXANDROUPOLI),
    P("IT", "naval", "vessels", 2, S.INDICATIVE, "Minehunters, Black Sea demining", "Odesa", place=ODESA),
    P("IT", "air_defense", "systems", 1, S.CONFIRMED, "SAMP/T battery", "Western Ukraine"),
    P("NL", "air", "aircraft", 8, S.INDICATIVE, "F-35 detachment", "Western Ukraine"),
    P("NL", "troops", "personnel", 1000, S.DRAFT, "Airmobile battalion (national decision pending)", "",
      releasability=Releasability.SECRETARIAT),
    P("DK", "troops", "personnel", 500, S.INDICATIVE, "Mechanised company group", "Lviv",
      caveat=(CaveatKind.CONDITION, "Subject to a ceasefire agreement being in force.", "Parliamentary mandate."),
      place=LVIV),
    P("SE", "naval", "vessels", 2, S.INDICATIVE, "Corvettes for maritime security", "Black Sea", place=CONSTANTA),
    P("SE", "intelligence", "platforms", 2, S.CONFIRMED, "Airborne early warning sorties", "Baltic/Black Sea"),
    P("NO", "naval", "vessels", 1, S.CONFIRMED, "Frigate", "Black Sea", place=CONSTANTA),
    P("FI", "engineering", "personnel", 200, S.INDICATIVE, "Demining and engineering company", "Kharkiv region",
      place=KHARKIV),
    P("EE", "troops", "personnel", 150, S.INDICATIVE, "Infantry company", "Kyiv", place=KYIV),
    P("LT", "troops", "personnel", 200, S.INDICATIVE, "Infantry company", "Kyiv", place=KYIV),
    P("LV", "troops", "personnel", 100, S.INDICATIVE, "Staff officers and a rifle platoon", "Kyiv", place=KYIV),
    P("BE", "air", "aircraft", 4, S.INDICATIVE, "F-16 detachment", "Western Ukraine"),
    P("CA", "training", "personnel", 300, S.CONFIRMED, "Operation UNIFIER trainers", "United Kingdom"),
    P("AU", "troops", "personnel", 250, S.INDICATIVE, "Peacekeeping contribution under consideration", "Kyiv",
      notice_days=60, place=KYIV),
    P("TR", "naval", "vessels", 2, S.INDICATIVE, "Black Sea maritime security and demining", "Black Sea",
      caveat=(CaveatKind.GEOGRAPHIC, "Black Sea operations only, under the Montreux Convention.",
              "Turkish control of the Straits.")),
    P("ES", "medical", "personnel", 120, S.INDICATIVE, "Role 2 field hospital staff", "Lviv", place=LVIV),
    P("CZ", "logistics", "personnel", 100, S.INDICATIVE, "CBRN defence unit", "Kyiv region", place=KYIV),
    P("RO", "medical", "facilities", 1, S.CONFIRMED, "Field hospital", "Odesa region", place=ODESA),
    P("PT", "naval", "vessels", 1, S.INDICATIVE, "Patrol vessel", "Black Sea", place=CONSTANTA),
    P("JP", "logistics", "vehicles", 50, S.INDICATIVE, "Non-lethal vehicles and equipment", "Rzeszów hub",
      place=RZESZOW),
]
# Tranches, in days from today (so that a fresh start always has some overdue): (country, pledge description) ->
# [(quantity, planned in, delivered in or None)]. Illustrative, like every figure here.
TRANCHES: dict[tuple[str, str], list[tuple[int, int, int | None]]] = {
    ("GB", "Typhoon air policing detachment"): [(6, -120, -118), (6, -30, None)],
    ("FR", "SAMP/T batteries"): [(1, -90, -85), (1, 45, None)],
    ("FR", "Training teams for Ukrainian brigades"): [(400, -180, -175)],
    ("DE", "Patriot and IRIS-T SLM fire units"): [(1, -150, -150), (1, -60, -55), (1, -14, None)],
    ("DE", "Training mission (EUMAM)"): [(300, -200, -200), (200, -60, -58)],
    ("PL", "Logistics hub and onward movement"): [(600, -100, -100), (300, -12, None), (300, 20, None)],
    ("IT", "SAMP/T battery"): [(1, -10, None)],
    ("NO", "Frigate"): [(1, -200, -190)],
    ("CA", "Operation UNIFIER trainers"): [(150, -40, -40), (150, -5, None)],
}
# Offers last reconfirmed this many days ago: stale under the default 180 days.
STALE_DAYS = {("IT", "Minehunters, Black Sea demining"): 240, ("GR", "Frigate and support ship for maritime security"):
              200, ("NL", "F-35 detachment"): 300, ("JP", "Non-lethal vehicles and equipment"): 190,
              ("PL", "Air policing from Polish bases"): 210}
COUNTRY_CAVEATS = [  # country, kind, text, rationale
    ("PL", CaveatKind.NO_DEPLOYMENT, "No Polish troops will be deployed on Ukrainian territory.",
     "Threat from Belarus and Russia on Poland's own border."),
    ("GR", CaveatKind.NO_DEPLOYMENT, "No Greek troops will be deployed on Ukrainian territory.",
     "Forces held at home given tensions with Turkey."),
    ("IT", CaveatKind.CONDITION, "Italy's contribution is conditional on United States participation.",
     "Italy will not take part in a force without US involvement."),
    ("GB", CaveatKind.CONDITION, "Deployment of ground forces requires a United States backstop.",
     "Air cover and intelligence sharing from the United States are needed."),
    ("DE", CaveatKind.CONDITION, "Ground forces only after a ceasefire and a Bundestag mandate.",
     "Parliamentary approval is required for any deployment."),
]


def _load_tranches(coalition: Coalition, countries: dict[str, Country]) -> None:
    """The demo tranches, on pledges that have none yet (so loading twice adds nothing)."""
    today = timezone.localdate()
    for (code, description), tranches in TRANCHES.items():
        pledge = Pledge.objects.filter(country=countries[code], coalition=coalition, description=description).first()
        if pledge is None or pledge.deliveries.exists() or not pledge.is_offered:
            continue
        for quantity, planned_in, delivered_in in tranches:
            services.delivery_plan(
                actor=SEED_ACTOR, system=True, pledge=pledge, quantity=quantity,
                planned_on=today + dt.timedelta(days=planned_in),
                delivered_on=None if delivered_in is None else today + dt.timedelta(days=delivered_in),
                note="Illustrative tranche.",
            )


def _coalitions() -> tuple[Coalition, Coalition]:
    cotw, _ = Coalition.objects.get_or_create(
        short_name="CotW",
        defaults={"name": "Coalition of the willing",
                  "description": "Countries planning a multinational reassurance force for Ukraine, "
                                 "chaired by France and the United Kingdom."},
    )
    udcg, _ = Coalition.objects.get_or_create(
        short_name="UDCG",
        defaults={"name": "Ukraine Defense Contact Group",
                  "description": "The roughly 50-nation group coordinating military support to Ukraine."},
    )
    return cotw, udcg


@transaction.atomic
def load_reference_data() -> tuple[Coalition, Coalition]:
    for code, name in COUNTRIES.items():
        Country.objects.get_or_create(code=code, defaults={"name": name})
    for code, name in UNITS.items():
        Unit.objects.get_or_create(code=code, defaults={"name": name})
    for order, (code, name, units) in enumerate(CATEGORIES, start=1):
        category, _ = CapabilityCategory.objects.get_or_create(code=code, defaults={"name": name,
                                                                                    "sort_order": order * 10})
        for unit_code in units:
            CategoryUnit.objects.get_or_create(category=category, unit=Unit.objects.get(code=unit_code))
    cotw, udcg = _coalitions()
    if not cotw.theatre:
        cotw.theatre = COALITION_OF_THE_WILLING_THEATRE
        cotw.save(update_fields=["theatre"])
    for coalition, codes in ((cotw, COALITION_OF_THE_WILLING), (udcg, CONTACT_GROUP)):
        for code in codes:
            Membership.objects.get_or_create(coalition=coalition, country=Country.objects.get(code=code))
    return cotw, udcg


@transaction.atomic
def load_pledges(coalition: Coalition) -> int:
    """Create the illustrative pledges, caveats and requirements once; return how many pledges were new."""
    categories = {c.code: c for c in CapabilityCategory.objects.all()}
    units = {u.code: u for u in Unit.objects.all()}
    countries = {c.code: c for c in Country.objects.all()}
    for category, unit, quantity in REQUIREMENTS:
        services.requirement_set(actor=SEED_ACTOR, system=True, coalition=coalition, category=categories[category],
                                 unit=units[unit], quantity=quantity, notes="Illustrative figure.")
    ensure_gazetteer()  # a test database flushed between tests has an empty gazetteer
    places = Place.objects.in_bulk([demo.place for demo in PLEDGES if demo.place])
    created = 0
    for demo in PLEDGES:
        country = countries[demo.country]
        place = places.get(demo.place) if demo.place else None
        if existing := Pledge.objects.filter(country=country, coalition=coalition, description=demo.description,
                                             ).first():
            if place is not None and existing.place_id is None and existing.status != S.WITHDRAWN:
                # loaded before places existed: placed now, as a change like any other
                services.pledge_update(actor=SEED_ACTOR, system=True, pledge=existing, place=place)
            continue
        pledge = services.pledge_create(
            actor=SEED_ACTOR, system=True, country=country, coalition=coalition, category=categories[demo.category],
            unit=units[demo.unit], quantity=demo.quantity, description=demo.description, location=demo.location,
            place=place, releasability=demo.releasability, notice_to_move_days=demo.notice_days, is_illustrative=True,
            available_from=dt.date(2025, 6, 1) if demo.status != S.DRAFT else None,
            status=S.DRAFT if demo.status == S.DRAFT else S.INDICATIVE,
        )
        for step in STEPS_AFTER_OFFER[demo.status]:
            pledge = services.pledge_transition(actor=SEED_ACTOR, system=True, pledge=pledge, to_status=step)
        if demo.caveat:
            kind, text, rationale = demo.caveat
            services.caveat_add(actor=SEED_ACTOR, system=True, pledge=pledge, kind=kind, text=text, rationale=rationale,
                                imposed_on=dt.date(2025, 3, 1))
        if (days := STALE_DAYS.get((demo.country, demo.description))) is not None:
            services.pledge_reconfirm(actor=SEED_ACTOR, system=True, pledge=pledge,
                                      at=timezone.now() - dt.timedelta(days=days))
        created += 1
    _load_tranches(coalition, countries)
    _load_rotations(coalition, countries)
    for code, kind, text, rationale in COUNTRY_CAVEATS:
        country = countries[code]
        if not Caveat.objects.filter(country=country, coalition=coalition, pledge=None, text=text).exists():
            services.caveat_add(actor=SEED_ACTOR, system=True, country=country, coalition=coalition, kind=kind,
                                text=text, rationale=rationale, releasability=Releasability.COALITION,
                                imposed_on=dt.date(2025, 3, 1))
    _load_conditions(coalition, countries)
    return created


# --- time and conditions --------------------------------------------------------------------------

ROTATION_MONTHS = 6
# The first rotations of the troops that enter Ukraine once a ceasefire holds: (country, description of the
# first rotation, description of the second, days uncovered between them; None: nobody relieves the first).
ROTATIONS: list[tuple[str, str, str | None, int]] = [
    ("GB", "Reassurance brigade headquarters and battlegroups",
     "Reassurance brigade, second rotation", 14),  # a two-week hole: the demo's handover to watch
    ("FR", "Armoured brigade in strategic cities", "Armoured brigade, second rotation", 0),
    ("EE", "Infantry company", None, 0),
    ("LT", "Infantry company", None, 0),
    ("LV", "Staff officers and a rifle platoon", None, 0),
    ("DK", "Mechanised company group", None, 0),
]
CONDITIONS = [  # name, description, the caveats that name it: (country, text of a pledge's or country-wide caveat)
    ("United States backstop", "United States air cover, intelligence sharing and a security guarantee.",
     [("IT", "Italy's contribution is conditional on United States participation."),
      ("GB", "Deployment of ground forces requires a United States backstop.")]),
    ("Ceasefire in force", "A ceasefire agreed by both parties and holding.",
     [("DK", "Subject to a ceasefire agreement being in force."),
      ("DE", "Ground forces only after a ceasefire and a Bundestag mandate.")]),
]
CEASEFIRE_TEXT = "Deployment into Ukraine only once a ceasefire is in force."


def entry_day(today: dt.date | None = None) -> dt.date:
    """The demo's day of entry into Ukraine: the first day of the month after next (so a fresh demo always plans
    ahead of its viewer)."""
    today = today or timezone.localdate()
    index = today.year * 12 + today.month + 1
    return dt.date(index // 12, index % 12 + 1, 1)


def _months_later(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return day.replace(year=index // 12, month=index % 12 + 1)


def _load_rotations(coalition: Coalition, countries: dict[str, Country]) -> None:
    """Windows on the entering troops (six months from the entry day) and the second rotations that relieve two
    of them, once: a pledge that already has its last day is left as it is."""
    entry = entry_day()
    ends = _months_later(entry, ROTATION_MONTHS) - dt.timedelta(days=1)
    for code, description, second, hole in ROTATIONS:
        first = Pledge.objects.filter(country=countries[code], coalition=coalition, description=description).first()
        if first is None or first.available_until is not None or first.status == S.WITHDRAWN:
            continue
        first = services.pledge_update(actor=SEED_ACTOR, system=True, pledge=first, available_from=entry,
                                       available_until=ends)
        if second is None:
            continue
        relief = services.pledge_create(
            actor=SEED_ACTOR, system=True, country=first.country, coalition=coalition, category=first.category,
            unit=first.unit, quantity=first.quantity, description=second, location=first.location,
            place=first.place, releasability=first.releasability, notice_to_move_days=first.notice_to_move_days,
            is_illustrative=True, available_from=ends + dt.timedelta(days=hole + 1),
            available_until=_months_later(ends + dt.timedelta(days=hole + 1), ROTATION_MONTHS) - dt.timedelta(days=1),
            status=S.INDICATIVE, relieves=first,
        )
        services.caveat_add(actor=SEED_ACTOR, system=True, pledge=relief, kind=CaveatKind.CONDITION,
                            text=CEASEFIRE_TEXT, imposed_on=dt.date(2025, 3, 1))


def _load_conditions(coalition: Coalition, countries: dict[str, Country]) -> None:
    """The coalition's two named conditions, both open, and the caveats that name them: the country-wide ones of
    COUNTRY_CAVEATS and the DK pledge's, and every troop pledge entering Ukraine on a ceasefire."""
    for name, description, caveats in CONDITIONS:
        condition = Condition.objects.filter(coalition=coalition, name=name).first() or services.condition_create(
            actor=SEED_ACTOR, system=True, coalition=coalition, name=name, description=description)
        texts = [text for _code, text in caveats] + ([CEASEFIRE_TEXT] if name == "Ceasefire in force" else [])
        for caveat in Caveat.objects.filter(coalition=coalition, text__in=texts, condition=None, is_active=True):
            services.caveat_update(actor=SEED_ACTOR, system=True, caveat=caveat, condition=condition)
        if name == "Ceasefire in force":
            first_rotations = [description for _code, description, _second, _hole in ROTATIONS]
            for pledge in Pledge.objects.filter(coalition=coalition, description__in=first_rotations,
                                                category__code="troops").exclude(caveats__condition=condition):
                services.caveat_add(actor=SEED_ACTOR, system=True, pledge=pledge, kind=CaveatKind.CONDITION,
                                    text=CEASEFIRE_TEXT, condition=condition, imposed_on=dt.date(2025, 3, 1))
