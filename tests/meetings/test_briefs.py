"""Compiling a brief in-process: its content, as of its moment, idempotence, the reaper and the scheduler."""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
from pathlib import Path

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from meetings import services
from meetings.briefs import pipeline
from meetings.models import Brief, BriefStatus, Meeting
from meetings.tasks import compile_brief_task, queue_due_briefs
from pledges.models import Pledge
from pledges.selectors import coalition_force
from tests.conftest import World
from tests.factories import make_pledge
from tests.meetings.conftest import pledges_with_caveats, upcoming_meeting
from tests.meetings.helpers import pdf_text, xlsx_rows


def compiled(world: World, meeting: Meeting) -> Brief:
    brief = services.brief_request(actor=world.secretariat, meeting=meeting)
    result = pipeline.brief_compile(brief_id=brief.pk)
    assert result is not None, Brief.objects.get(pk=brief.pk).error
    return result


def test_brief_pdf_shows_the_meeting_the_force_and_every_caveat(world: World, meeting: Meeting) -> None:
    pledges_with_caveats(world)
    Pledge.objects.filter(country=world.gb).update(is_illustrative=True)  # a demo figure among them
    brief = compiled(world, meeting)
    assert (brief.status, brief.progress, brief.number) == (BriefStatus.READY, 100, 1)
    text = pdf_text(bytes(brief.pdf))
    for expected in (
        "COALITION RESTRICTED — illustrative demo figures", "Defence ministers", "NATO Headquarters, Brussels",
        "France, United Kingdom", "(Europe/Brussels)",
        "Poland", "France", "United Kingdom",
        "Only once a ceasefire is in force.", "Parliamentary mandate.",
        "No Polish troops on Ukrainian territory.", "Threat from Belarus.",
        "Force requirement and force picture", "National caveats",
        "Minister of Poland",
    ):
        assert expected in text, expected
    layout = pdf_text(bytes(brief.pdf), layout=True)
    troops = next(line for line in layout.splitlines() if line.strip().startswith("Troops") and "5,000" in line)
    # requirement 5,000; confirmed 1,200; indicative 800; conditional 800; gap 3,800
    assert troops.split()[1:] == ["personnel", "5,000", "1,200", "800", "800", "3,800", "3,800"]
    assert "Secret draft squadron" not in text and " 77 " not in text  # a draft is never in a brief


def test_xlsx_figures_equal_the_force_picture_as_of_the_brief(world: World, meeting: Meeting) -> None:
    pledges_with_caveats(world)
    brief = compiled(world, meeting)
    force = coalition_force(coalition=world.coalition, user=world.analyst, as_of=brief.as_of)
    rows = xlsx_rows(bytes(brief.xlsx), "Force")
    expected = [
        {"Category": line.category, "Unit": line.unit, "Requirement": line.requirement,
         "Confirmed": line.confirmed, "Indicative": line.indicative, "Conditional": line.conditional,
         "Gap": line.gap}
        for line in force.categories
    ]
    assert [{key: row[key] for key in expected[0]} for row in rows] == expected
    assert {"Category": "troops", "Unit": "personnel", "Requirement": 5000, "Confirmed": 1200, "Indicative": 800,
            "Conditional": 800, "Gap": 3800} in expected
    caveats = xlsx_rows(bytes(brief.xlsx), "Caveats")
    assert {c["Caveat"] for c in caveats} == {"Only once a ceasefire is in force.",
                                               "No Polish troops on Ukrainian territory."}
    attendance = xlsx_rows(bytes(brief.xlsx), "Attendance")
    assert {(r["Country code"], r["Answer"]) for r in attendance} == {("FR", "confirmed"), ("GB", "declined"),
                                                                       ("PL", "confirmed")}
    countries = xlsx_rows(bytes(brief.xlsx), "Countries")
    assert sum(r["Confirmed"] for r in countries if r["Category"] == "troops") == 1200
    assert load_workbook(io.BytesIO(bytes(brief.xlsx))).sheetnames == [
        "About", "Force", "Countries", "Caveats", "Changes", "Delivery", "Overdue tranches", "Stale pledges",
        "Places", "Attendance", "Force over time", "Handovers", "Ending unrelieved", "Conditions", "Scenarios",
        "Decisions and actions"]  # the last: registered by the outcomes app (meetings.briefs.sections)


def test_running_the_task_twice_makes_one_version(world: World, meeting: Meeting) -> None:
    pledges_with_caveats(world)
    brief = services.brief_request(actor=world.secretariat, meeting=meeting)
    first = compile_brief_task.apply(args=[brief.pk]).get()
    finished = Brief.objects.get(pk=brief.pk)
    second = compile_brief_task.apply(args=[brief.pk]).get()
    again = Brief.objects.get(pk=brief.pk)
    assert (first, second) == (brief.pk, None)
    assert Brief.objects.filter(meeting=meeting).count() == 1
    assert (again.attempts, again.finished_at, bytes(again.pdf)) == (1, finished.finished_at, bytes(finished.pdf))


def test_a_brief_taken_by_another_worker_is_left_alone(world: World, meeting: Meeting) -> None:
    brief = services.brief_request(actor=world.secretariat, meeting=meeting)
    Brief.objects.filter(pk=brief.pk).update(status=BriefStatus.RUNNING, attempts=1, heartbeat_at=timezone.now())
    assert pipeline.brief_compile(brief_id=brief.pk) is None
    assert Brief.objects.get(pk=brief.pk).status == BriefStatus.RUNNING
    assert pipeline.brief_compile(brief_id=999_999) is None  # gone: nothing to do, no error


def test_numbers_count_up_per_meeting(world: World, meeting: Meeting) -> None:
    other = upcoming_meeting(world, days=20, title="Chiefs of defence")
    numbers = [services.brief_request(actor=world.secretariat, meeting=m).number
               for m in (meeting, meeting, other, meeting)]
    assert numbers == [1, 2, 1, 3]


def test_only_the_secretariat_asks_for_a_brief(world: World, meeting: Meeting) -> None:
    from django.core.exceptions import PermissionDenied

    for user in (world.analyst, world.ministry_pl):
        with pytest.raises(PermissionDenied):
            services.brief_request(actor=user, meeting=meeting)
    assert not Brief.objects.exists()


def test_a_failing_compile_is_marked_failed_with_its_error(world: World, meeting: Meeting) -> None:
    brief = services.brief_request(actor=world.secretariat, meeting=meeting)
    Meeting.objects.filter(pk=meeting.pk).update(time_zone="Nowhere/Atlantis")  # bypassing validation
    assert pipeline.brief_compile(brief_id=brief.pk) is None
    failed = Brief.objects.get(pk=brief.pk)
    assert failed.status == BriefStatus.FAILED and "Atlantis" in failed.error


def test_reaper_requeues_a_brief_whose_worker_died_then_gives_up(world: World, meeting: Meeting) -> None:
    brief = services.brief_request(actor=world.secretariat, meeting=meeting)
    long_ago = timezone.now() - dt.timedelta(hours=1)
    Brief.objects.filter(pk=brief.pk).update(status=BriefStatus.RUNNING, attempts=1, heartbeat_at=long_ago,
                                             started_at=long_ago)
    fresh = services.brief_request(actor=world.secretariat, meeting=meeting)
    Brief.objects.filter(pk=fresh.pk).update(status=BriefStatus.RUNNING, attempts=1, heartbeat_at=timezone.now())
    assert pipeline.briefs_reap_stale()["requeued"] == 1
    assert Brief.objects.get(pk=brief.pk).status == BriefStatus.QUEUED
    assert Brief.objects.get(pk=fresh.pk).status == BriefStatus.RUNNING  # still beating: left alone
    assert pipeline.brief_compile(brief_id=brief.pk) is not None  # the next worker finishes it

    Brief.objects.filter(pk=fresh.pk).update(attempts=pipeline.MAX_ATTEMPTS, heartbeat_at=long_ago)
    assert pipeline.briefs_reap_stale()["failed"] == 1
    given_up = Brief.objects.get(pk=fresh.pk)
    assert given_up.status == BriefStatus.FAILED and "stopped responding" in given_up.error


@pytest.mark.django_db(transaction=True)  # each change commits with its own NOW(), after the last brief's as_of
def test_scheduler_queues_a_brief_before_each_meeting_and_after_changes(world: World) -> None:
    soon = upcoming_meeting(world, days=1, title="Ministers tomorrow")
    upcoming_meeting(world, days=5, title="Ministers next week")
    assert [Brief.objects.get(pk=pk).meeting for pk in queue_due_briefs.apply().get()] == [soon]
    assert pipeline.briefs_queue_due() == []  # one is queued already
    pipeline.brief_compile(brief_id=Brief.objects.get(meeting=soon).pk)
    assert pipeline.briefs_queue_due() == []  # ready and nothing changed since
    make_pledge(country=world.gb, coalition=world.coalition, status="draft", quantity=7)
    assert pipeline.briefs_queue_due() == []  # a draft is no change a brief could show
    pledges_with_caveats(world)
    again = pipeline.briefs_queue_due()
    assert [(b.meeting, b.number, b.requested_by) for b in again] == [(soon, 2, None)]


def test_compile_brief_command_compiles_in_the_foreground(world: World, meeting: Meeting, tmp_path) -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    pledges_with_caveats(world)
    out = StringIO()
    call_command("compile_brief", str(meeting.pk), "--out", str(tmp_path), stdout=out)
    brief = Brief.objects.get(meeting=meeting)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith(f"Brief {brief.pk} (no. 1) ready")
    pdf, xlsx = (tmp_path / brief.filename("pdf"), tmp_path / brief.filename("xlsx"))
    assert lines[1:] == [str(pdf), str(xlsx)]
    assert "No Polish troops on Ukrainian territory." in pdf_text(pdf.read_bytes())
    assert xlsx.read_bytes() == bytes(brief.xlsx)
    with pytest.raises(CommandError, match="no meeting 999999"):
        call_command("compile_brief", "999999")


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_at_once_make_one_version(world: World, meeting: Meeting) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    pledges_with_caveats(world)
    brief = Brief.objects.create(meeting=meeting, number=1, as_of=timezone.now())  # no message: compiled here

    def deliver() -> int | None:
        try:
            return compile_brief_task.apply(args=[brief.pk]).get()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: deliver(), range(2)))
    assert sorted(results, key=str) == sorted([brief.pk, None], key=str)
    done = Brief.objects.get(pk=brief.pk)
    assert (done.status, done.attempts, Brief.objects.count()) == (BriefStatus.READY, 1, 1)


def test_delivery_and_currency_section_in_the_pdf_and_the_xlsx(world: World, meeting: Meeting) -> None:
    import datetime as dt

    from pledges import services as pledge_services
    from utilities.versioning import SystemActor

    pledges_with_caveats(world)
    pl_troops = Pledge.objects.get(country=world.pl, status="confirmed")
    today = timezone.localdate()
    pledge_services.delivery_plan(actor=world.ministry_pl, pledge=pl_troops, quantity=500,
                                  planned_on=today - dt.timedelta(days=40), delivered_on=today - dt.timedelta(days=38))
    pledge_services.delivery_plan(actor=world.ministry_pl, pledge=pl_troops, quantity=300,
                                  planned_on=today - dt.timedelta(days=12))
    gb_air = Pledge.objects.get(country=world.gb, status="confirmed")
    pledge_services.pledge_reconfirm(actor=SystemActor("test"), system=True, pledge=gb_air,
                                     at=timezone.now() - dt.timedelta(days=300))
    brief = compiled(world, meeting)
    text = pdf_text(bytes(brief.pdf))
    for expected in ("4. Delivery and currency", "Overdue tranches (1)", "Stale pledges (1)", "Days late",
                     "Last reconfirmed"):
        assert expected in text, expected
    layout = pdf_text(bytes(brief.pdf), layout=True)
    troops = next(line for line in layout.splitlines() if line.strip().startswith("Troops") and "2,000" in line)
    # offered 1,200 confirmed + 800 indicative; 500 delivered (25%); 300 overdue; none stale
    assert troops.split()[1:] == ["personnel", "2,000", "500", "25%", "300", "0"]
    overdue = next(line for line in layout.splitlines() if line.strip().startswith("Poland") and "300" in line)
    assert "12" in overdue.split()[-1]
    rows = {(r["Category name"], r["Unit"]): r for r in xlsx_rows(bytes(brief.xlsx), "Delivery")}
    assert (rows[("Troops", "personnel")]["Delivered"], rows[("Troops", "personnel")]["Overdue"]) == (500, 300)
    assert rows[("Air", "aircraft")]["Stale"] == 12
    force = {(f["Category"], f["Unit"]): f for f in xlsx_rows(bytes(brief.xlsx), "Force")}
    assert (force[("troops", "personnel")]["Delivered"], force[("air", "aircraft")]["Stale"]) == (500, 12)
    assert [r["Days late"] for r in xlsx_rows(bytes(brief.xlsx), "Overdue tranches")] == [12]
    assert [r["Country code"] for r in xlsx_rows(bytes(brief.xlsx), "Stale pledges")] == ["GB"]


def test_a_long_list_is_cut_in_the_pdf_and_whole_in_the_xlsx(world: World, meeting: Meeting,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from meetings.briefs import pdf as brief_pdf
    from pledges import services as pledge_services
    from utilities.versioning import SystemActor

    monkeypatch.setattr(brief_pdf, "LISTED_IN_PDF", 2)
    for quantity in (3, 4, 5):
        offer = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops,
                            unit=world.personnel, quantity=quantity, status="indicative")
        pledge_services.pledge_reconfirm(actor=SystemActor("test"), system=True, pledge=offer,
                                         at=timezone.now() - dt.timedelta(days=300))
    brief = compiled(world, meeting)
    text = " ".join(pdf_text(bytes(brief.pdf)).split())
    assert "Stale pledges (3)" in text
    assert "The first 2 of 3, by country; all 3 are in the XLSX annex, sheet “Stale pledges”." in text
    assert sorted(r["Quantity"] for r in xlsx_rows(bytes(brief.xlsx), "Stale pledges")) == [3, 4, 5]


def test_a_french_brief_reads_in_french(world: World, meeting: Meeting) -> None:
    import re

    from pledges import services as pledge_services

    pledges_with_caveats(world)
    pledge_services.requirement_set(actor=world.secretariat, coalition=world.coalition, category=world.air,
                                    unit=world.aircraft, quantity=25000)
    brief = services.brief_request(actor=world.secretariat, meeting=meeting, language="fr")
    assert brief.language == "fr"
    done = pipeline.brief_compile(brief_id=brief.pk)
    assert done is not None, Brief.objects.get(pk=brief.pk).error
    text = " ".join(pdf_text(bytes(done.pdf)).replace("\u202f", " ").replace("\xa0", " ").split())
    for heading in ("1. Participation", "2. État des forces", "3. Où se trouvent les forces",
                    "4. Livraisons et actualité des offres", "5. Contributions par pays", "6. Réserves",
                    "7. Changements depuis la réunion précédente", "8. Ordre du jour",
                    "DIFFUSION RESTREINTE COALITION", "pays invités", "Pologne", "France", "NOTE PRÉPARATOIRE",
                    "Sommaire",
                    "Royaume-Uni"):  # country names from Babel; "Minister of Poland", as typed, stays
        assert heading in text, heading
    for english in ("1. Attendance", "2. Force picture", "3. Where the force", "4. Delivery and currency",
                    "5. Contributions by country", "6. Caveats", "7. Changes since", "8. Agenda",
                    "COALITION RESTRICTED", "countries invited", "Delivered", "Requirement", "PRE-MEETING BRIEF",
                    "Contents", " over"):
        assert english not in text, english
    day = timezone.localtime(meeting.starts_at, timezone.get_fixed_timezone(60))
    assert re.search(r"(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche) \d{1,2} "
                     r"(janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre) "
                     rf"{day.year}", text), text[:600]
    assert "25 000" in text and "1 200" in text  # French digit grouping
    assert "Only once a ceasefire is in force." in text  # typed text stays as typed
    sheets = load_workbook(io.BytesIO(bytes(done.xlsx)), read_only=True).sheetnames
    assert sheets[:3] == ["À propos", "Forces", "Pays"] and "Tranches en retard" in sheets


def test_the_brief_language_is_en_or_fr(world: World, meeting: Meeting) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        services.brief_request(actor=world.secretariat, meeting=meeting, language="de")
    assert "language" in refused.value.message_dict
    world.secretariat.preferred_language = "fr"
    assert services.brief_request(actor=world.secretariat, meeting=meeting).language == "fr"
    world.coalition.default_language = "fr"
    world.coalition.save()
    meeting.refresh_from_db()
    assert services.brief_request(actor=None, meeting=meeting, system=True).language == "fr"


@pytest.mark.usefixtures("gazetteer")
def test_the_brief_has_a_map_page_a_minister_can_read(world: World, meeting: Meeting, tmp_path: Path) -> None:
    """The map page read back (pdftotext) and rendered (pdftoppm): places, numbers and a drawn map; the XLSX
    sheet of places; a draft's place nowhere."""
    from places.models import Place

    kyiv, odesa, lviv, rzeszow = (Place.objects.get(pk=pk) for pk in (703448, 698740, 702550, 759734))
    make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, quantity=1200,
                status="confirmed", place=rzeszow, location="Rzeszów hub")
    make_pledge(country=world.fr, coalition=world.coalition, category=world.troops, quantity=800, status="indicative",
                place=kyiv)
    make_pledge(country=world.gb, coalition=world.coalition, category=world.air, unit=world.aircraft, quantity=6,
                status="confirmed", place=kyiv)
    make_pledge(country=world.gb, coalition=world.coalition, category=world.air, unit=world.aircraft, quantity=2,
                status="indicative", place=odesa)
    make_pledge(country=world.gb, coalition=world.coalition, category=world.troops, quantity=50, status="indicative",
                location="Western Ukraine")
    make_pledge(country=world.fr, coalition=world.coalition, category=world.troops, quantity=77, place=lviv)  # draft
    brief = compiled(world, meeting)
    text = pdf_text(bytes(brief.pdf))
    assert "3. Where the force stands" in text
    assert "1 offered pledge has no place (its location is in words only)" in text
    layout = pdf_text(bytes(brief.pdf), layout=True)
    assert re.search(r"1\s+Kyiv\s+UA\s+Air: 6 aircraft; Troops: 800 personnel\s+2", layout), layout
    assert re.search(r"2\s+Odesa\s+UA\s+Air: 2 aircraft\s+1", layout)
    assert re.search(r"3\s+Rzeszów\s+PL\s+Troops: 1,200 personnel\s+1", layout)
    assert "Lviv" not in text  # only a draft is there
    (tmp_path / "brief.pdf").write_bytes(bytes(brief.pdf))
    page = next(number for number in range(1, 12) if "Where the force stands" in subprocess.run(
        ["pdftotext", "-f", str(number), "-l", str(number), str(tmp_path / "brief.pdf"), "-"],
        capture_output=True, text=True, check=True).stdout)
    subprocess.run(["pdftoppm", "-f", str(page), "-l", str(page), "-r", "60", "-png", str(tmp_path / "brief.pdf"),
                    str(tmp_path / "map")], check=True)
    image = next(tmp_path.glob("map*.png")).read_bytes()
    assert image.startswith(b"\x89PNG")
    from matplotlib import image as mpimage

    pixels = mpimage.imread(str(next(tmp_path.glob("map*.png"))))
    colours = {tuple(round(float(c), 1) for c in pixel[:3]) for row in pixels[::4] for pixel in row[::4]}
    sea, land = (0.9, 0.9, 0.9), (1.0, 0.9, 0.9)  # #DCE8F1 and #F4F1EA, rounded
    assert sea in colours and land in colours, "the page shows the map's sea and land"
    rows = xlsx_rows(bytes(brief.xlsx), "Places")
    assert {(r["Place"], r["Capability"], r["Offered"]) for r in rows} == {
        ("Kyiv", "Troops", 800), ("Kyiv", "Air", 6), ("Odesa", "Air", 2), ("Rzeszów", "Troops", 1200)}
    assert {r["GeoNames id"] for r in rows} == {703448, 698740, 759734}
