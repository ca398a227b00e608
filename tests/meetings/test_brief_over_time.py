"""The brief's "Force over time" and "Conditions": a world with windows, a rotation with a hole and named conditions,
compiled in the foreground, read back (pdftotext, the XLSX) and held against the API's timeline and force."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path
from urllib.parse import urlencode

import pytest

from meetings.briefs.over_time import first_month
from meetings.models import Brief, Meeting
from pledges import services as pledge_services
from pledges.models import Pledge
from pledges.timeline import month_after, month_end
from tests.conftest import World
from tests.factories import make_pledge
from tests.meetings.conftest import client_for
from tests.meetings.helpers import pdf_text, xlsx_rows
from tests.meetings.test_briefs import compiled


def rotations_and_conditions(world: World, meeting: Meeting) -> dict[str, Pledge]:
    """From the meeting's month m0: PL 1,200 troops for four months, relieved by FR 1,000 troops two days late
    (a hole of 2 days) until m0+9, nobody after; GB 12 aircraft always, and 6 more under the open condition
    "United States backstop"; FR 800 troops indicative under it too; "Ceasefire in force", met, names nothing.
    Requirements: 5,000 troops, 20 aircraft."""
    m0 = first_month(meeting)
    pl = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, unit=world.personnel,
                     quantity=1200, status="confirmed", available_from=m0,
                     available_until=month_end(month_after(m0, 3)), releasability="coalition")
    fr = make_pledge(country=world.fr, coalition=world.coalition, category=world.troops, unit=world.personnel,
                     quantity=1000, status="confirmed", available_from=month_after(m0, 4) + dt.timedelta(days=2),
                     available_until=month_end(month_after(m0, 9)), relieves=pl)
    make_pledge(country=world.gb, coalition=world.coalition, category=world.air, unit=world.aircraft, quantity=12,
                status="confirmed")
    gb_more = make_pledge(country=world.gb, coalition=world.coalition, category=world.air, unit=world.aircraft,
                          quantity=6, status="confirmed")
    fr_more = make_pledge(country=world.fr, coalition=world.coalition, category=world.troops, unit=world.personnel,
                          quantity=800, status="indicative")
    backstop = pledge_services.condition_create(actor=world.secretariat, coalition=world.coalition,
                                                name="United States backstop")
    ceasefire = pledge_services.condition_create(actor=world.secretariat, coalition=world.coalition,
                                                 name="Ceasefire in force")
    pledge_services.condition_update(actor=world.secretariat, condition=ceasefire, status="met")
    pledge_services.caveat_add(actor=world.ministry_gb, kind="condition", text="Only with a US backstop",
                               pledge=gb_more, condition=backstop)
    pledge_services.caveat_add(actor=world.ministry_fr, kind="condition", text="Only with a US backstop",
                               pledge=fr_more, condition=backstop)
    make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, unit=world.personnel,
                quantity=77, status="draft", available_from=m0)  # a draft counts nowhere
    for category, unit, quantity in ((world.troops, world.personnel, 5000), (world.air, world.aircraft, 20)):
        pledge_services.requirement_set(actor=world.secretariat, coalition=world.coalition, category=category,
                                        unit=unit, quantity=quantity)
    return {"pl": pl, "fr": fr, "gb_more": gb_more, "fr_more": fr_more, "backstop": backstop, "ceasefire": ceasefire}


def api(world: World, path: str, **query: str) -> dict:
    response = client_for(world.analyst).get(f"/api/v1/coalitions/{world.coalition.pk}/{path}/?{urlencode(query)}")
    assert response.status_code == 200, response.content
    return response.json()


def test_force_over_time_and_conditions_in_the_pdf(world: World, meeting: Meeting) -> None:
    made = rotations_and_conditions(world, meeting)
    brief = compiled(world, meeting)
    text = pdf_text(bytes(brief.pdf))
    m0 = first_month(meeting)
    for expected in ("9. Force over time", "10. Conditions", "Handovers between rotations (1)",
                     "1 handover leaves days without cover.", "2 days uncovered",
                     "Pledges ending with nobody relieving them (1)", "United States backstop", "Ceasefire in force",
                     "If every open condition fails, or if all are met", "No offered pledge names it."):
        assert expected in text, expected
    layout = pdf_text(bytes(brief.pdf), layout=True)
    # The handover names both countries and amounts; the relief is 200 fewer.
    assert "Poland 1,200 personnel" in text and "France 1,000 personnel" in text and "200 fewer" in text
    handover_end = month_end(month_after(m0, 3))
    assert f"until {handover_end.day} {handover_end:%B} {handover_end.year}" in text
    # The month table: PL's 1,200 for four months, 0 in the month of the hole, FR's 1,000 to m0+9, then nothing.
    troops = next(line for line in layout.splitlines() if line.strip().startswith("Troops (personnel)")
                  and "1,200" in line)
    assert troops.split()[2:] == ["1,200"] * 4 + ["0"] + ["1,000"] * 5 + ["0", "0"], troops
    # Conditions: the backstop is open, 6 aircraft hang on it; if it fails the air gap is 8, if met 2.
    air = [line for line in layout.splitlines() if line.strip().startswith("Air") and " 20 " in line][-1]
    assert air.split()[1:] == ["aircraft", "20", "12", "8", "18", "2", "6"], air
    assert "Air: 6 aircraft offered, 6 confirmed (1 pledge)" in text
    assert made["pl"].pk and "77" not in troops  # the draft is nowhere


def test_the_xlsx_sheets_equal_the_api_as_of_the_brief(world: World, meeting: Meeting) -> None:
    made = rotations_and_conditions(world, meeting)
    brief = compiled(world, meeting)
    as_of = brief.as_of.isoformat()
    start = first_month(meeting).strftime("%Y-%m")
    timeline = api(world, "timeline", start=start, months="12", as_of=as_of)
    rows = xlsx_rows(bytes(brief.xlsx), "Force over time")
    assert [(r["Category"], r["Unit"], r["Month"], r["Requirement"], r["Offered"], r["Committed"], r["Conditional"],
             r["Gap"]) for r in rows] == [
        (c["category"], c["unit"], m["month"], c["requirement"], m["offered"], m["committed"], m["conditional"],
         m["gap"]) for c in timeline["capabilities"] for m in c["months"]]
    assert len(rows) == 24
    handovers = xlsx_rows(bytes(brief.xlsx), "Handovers")
    assert [(h["Relieved pledge id"], h["Relieving pledge id"], h["Ends on"],
             h["Starts on"], h["Uncovered days"], h["Relieved country code"],
             h["Relieving country code"]) for h in handovers] == [
        (h["relieved"], h["relieving"], h["ends_on"], h["starts_on"], h["uncovered_days"], h["relieved_country"],
         h["relieving_country"]) for h in timeline["handovers"]]
    assert [h["Uncovered days"] for h in handovers] == [2]
    ending = xlsx_rows(bytes(brief.xlsx), "Ending unrelieved")
    assert [(e["Pledge id"], e["Country code"], e["Quantity"], e["Last day"]) for e in ending] == [
        (e["pledge"], e["country"], e["quantity"], e["ends_on"]) for e in timeline["ending_unrelieved"]]
    assert [e["Pledge id"] for e in ending] == [made["fr"].pk]

    force = api(world, "force", as_of=as_of)
    conditions = xlsx_rows(bytes(brief.xlsx), "Conditions")
    assert [(c["Condition id"], c["Condition"], c["Status"], c["Category"], c["Offered"], c["Committed"],
             c["Pledges"]) for c in conditions] == [
        (c["id"], c["name"], c["status"], a["category"], a["offered"], a["committed"], a["pledge_count"])
        for c in force["conditions"] for a in c["capabilities"] or [
            {"category": None, "offered": 0, "committed": 0, "pledge_count": 0}]]
    assert {c["Condition"]: c["Status"] for c in conditions} == {"United States backstop": "open",
                                                                   "Ceasefire in force": "met"}
    backstop = made["backstop"].pk
    failed = {(c["category"], c["unit"]): c for c in api(world, "force", as_of=as_of,
                                                         assume=f"{backstop}:failed")["categories"]}
    met = {(c["category"], c["unit"]): c for c in api(world, "force", as_of=as_of,
                                                      assume=f"{backstop}:met")["categories"]}
    scenarios = xlsx_rows(bytes(brief.xlsx), "Scenarios")
    for row in scenarios:
        key = (row["Category"], row["Unit"])
        assert (row["Committed if all open fail"], row["Gap if all open fail"],
                row["Conditional if all open fail"]) == (failed[key]["confirmed"], failed[key]["gap"],
                                                         failed[key]["conditional"]), key
        assert (row["Committed if all open are met"], row["Gap if all open are met"],
                row["Conditional if all open are met"]) == (met[key]["confirmed"], met[key]["gap"],
                                                            met[key]["conditional"]), key
    assert {(r["Category"], r["Committed if all open fail"], r["Committed if all open are met"])
            for r in scenarios} == {("troops", 1200 + 1000, 2200), ("air", 12, 18)}
    assert {r["Assumed (failed)"] for r in scenarios} == {f"{backstop}:failed"}


def test_with_no_condition_and_no_window_the_sections_say_so(world: World, meeting: Meeting) -> None:
    make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, unit=world.personnel,
                quantity=10, status="confirmed")
    brief = compiled(world, meeting)
    text = pdf_text(bytes(brief.pdf))
    for expected in ("No rotation hands over in these months.", "No pledge ends in these months without a relief.",
                     "The coalition has no named conditions."):
        assert expected in text, expected
    assert [r["Committed"] for r in xlsx_rows(bytes(brief.xlsx), "Force over time")] == [10] * 12
    assert xlsx_rows(bytes(brief.xlsx), "Conditions") == []


def test_a_french_brief_has_the_new_sections_in_french(world: World, meeting: Meeting) -> None:
    from meetings import services
    from meetings.briefs import pipeline

    rotations_and_conditions(world, meeting)
    brief = services.brief_request(actor=world.secretariat, meeting=meeting, language="fr")
    done = pipeline.brief_compile(brief_id=brief.pk)
    assert done is not None, Brief.objects.get(pk=brief.pk).error
    text = " ".join(pdf_text(bytes(done.pdf)).replace("\u202f", " ").replace("\xa0", " ").split())
    for french in ("9. Les forces dans le temps", "10. Conditions", "2 jours sans couverture",
                   "Si toutes les conditions ouvertes échouent, ou si toutes sont remplies", "Ouverte", "Remplie"):
        assert french in text, french
    for english in ("Force over time", "days uncovered", "Handovers between", "If every open condition"):
        assert english not in text, english


def test_the_new_pages_render(world: World, meeting: Meeting, tmp_path: Path) -> None:
    """The pages of the two sections drawn (pdftoppm), for a person to look at: tmp_path/time-*.png."""
    rotations_and_conditions(world, meeting)
    brief = compiled(world, meeting)
    (tmp_path / "brief.pdf").write_bytes(bytes(brief.pdf))
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(tmp_path / "brief.pdf")],
                                                              capture_output=True, text=True, check=True).stdout)[1])
    first = next(number for number in range(1, pages + 1) if "Force over time" in subprocess.run(
        ["pdftotext", "-f", str(number), "-l", str(number), str(tmp_path / "brief.pdf"), "-"],
        capture_output=True, text=True, check=True).stdout and number > 1)
    subprocess.run(["pdftoppm", "-f", str(first), "-l", str(pages), "-r", "60", "-png", str(tmp_path / "brief.pdf"),
                    str(tmp_path / "time")], check=True)
    assert sorted(tmp_path.glob("time*.png"))


pytestmark = pytest.mark.django_db
