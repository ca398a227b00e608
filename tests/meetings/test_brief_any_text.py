"""No member can break the secretariat's brief: any text the product accepts renders, in the PDF and the XLSX.

One limit per field for every write path (utilities.text), and renderers that take whatever is stored: long
cells cut in the PDF with the whole text in the XLSX, characters XML cannot carry removed, every text cell of
the XLSX a text (never a formula).
"""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from pypdf import PdfReader
from rest_framework.test import APIClient

from meetings import services
from meetings.briefs import pipeline
from meetings.briefs.pdf import CUT_NOTE, render_pdf
from meetings.briefs.snapshot import build_snapshot
from meetings.briefs.xlsx import render_xlsx
from meetings.models import Brief, BriefStatus, Meeting
from pledges import services as pledge_services
from pledges.models import Caveat
from tests.conftest import World
from tests.factories import make_pledge
from tests.meetings.conftest import upcoming_meeting
from tests.meetings.helpers import pdf_text, xlsx_rows
from utilities.text import LONG_TEXT, printable
from utilities.versioning import SystemActor, history_context

TRICKY = [
    "=1+2", '=HYPERLINK("http://evil.example/","Click")', "+cmd|' /C calc'!A0", "@SUM(A1:A9)", "-2+3",
    "<b>not bold</b> &amp; <font color=red>x</font>", "$x^2$ and $$", "\x01control", "nul\x00byte", "\ud800",
    "Rzeszów, Łódź, Türkiye, Київ, 東京, مرحبا, 🇺🇦", "\u202eright-to-left override", "tab\tand\nlines\r\n",
    "\ufeffbom", "x" * LONG_TEXT, ("word " * LONG_TEXT)[:LONG_TEXT], "\u00ad" * 500,
]


def long_text(unit: str) -> str:
    return (unit * (LONG_TEXT // max(len(unit), 1) + 1))[:LONG_TEXT]


any_text = st.one_of(
    st.sampled_from(TRICKY),
    st.text(st.characters(exclude_categories=()), max_size=400),  # any code point, surrogates included
    st.text(st.characters(exclude_categories=()), min_size=1, max_size=40).map(long_text),
)


def accepted(call: object) -> object | None:
    """The write, or None when the services refuse the text (which must then say which field and why)."""
    try:
        return call()  # type: ignore[operator]
    except ValidationError as error:
        assert error.message_dict, error
        return None


def render(meeting: Meeting) -> tuple[bytes, bytes]:
    brief = Brief.objects.create(meeting=meeting, number=Brief.objects.filter(meeting=meeting).count() + 1,
                                 as_of=timezone.now())
    snapshot = build_snapshot(brief)
    return render_pdf(snapshot), render_xlsx(snapshot)


@pytest.mark.property
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(text=any_text, other=any_text)
@example(text="0\r0", other="a\r\nb")  # found by hypothesis: a carriage return did not come back from the XLSX
def test_any_accepted_text_renders_in_the_pdf_and_the_xlsx(world: World, text: str, other: str) -> None:
    meeting = upcoming_meeting(world, title="Brief of anything")
    pledge = make_pledge(country=world.fr, coalition=world.coalition, status="indicative")
    accepted(lambda: pledge_services.pledge_update(actor=world.ministry_fr, pledge=pledge, description=text,
                                                   location=other[:200]))
    caveat = accepted(lambda: pledge_services.caveat_add(actor=world.ministry_fr, pledge=pledge, kind="condition",
                                                         text=text, rationale=other))
    accepted(lambda: pledge_services.caveat_add(actor=world.ministry_pl, coalition=world.coalition, kind="other",
                                                text=other, rationale=text))
    accepted(lambda: services.meeting_update(actor=world.secretariat, meeting=meeting, title=text[:200] or "t",
                                             place=other[:200], outcome_notes=text))
    accepted(lambda: services.agenda_item_add(actor=world.secretariat, meeting=meeting, title=other[:300] or "t",
                                              description=text))
    accepted(lambda: services.invitation_set(actor=world.secretariat, meeting=meeting, country=world.pl,
                                             head_of_delegation=text[:200]))

    pdf, xlsx = render(Meeting.objects.get(pk=meeting.pk))

    assert len(PdfReader(io.BytesIO(pdf)).pages) >= 3
    book = load_workbook(io.BytesIO(xlsx))
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    if isinstance(caveat, Caveat):
        shown = {row["Caveat"] for row in xlsx_rows(xlsx, "Caveats")}
        # whole, as stored (line breaks as line feeds: XML text cannot carry a carriage return)
        assert caveat.text.replace("\r\n", "\n").replace("\r", "\n") in shown


def test_a_thousand_caveats_of_the_maximum_length_compile(world: World) -> None:
    meeting = upcoming_meeting(world)
    pledge = make_pledge(country=world.pl, coalition=world.coalition, status="confirmed", quantity=10)
    with history_context(SystemActor("test-loader"), "bulk_load"):
        Caveat.objects.bulk_create([
            Caveat(country=world.pl, coalition=world.coalition, pledge=pledge if i % 2 else None, kind="role",
                   text=f"Caveat {i:04d} " + long_text("no-spaces-here-" if i % 3 else "many words ")[12:],
                   rationale=long_text("because "))
            for i in range(1000)
        ])
    brief = services.brief_request(actor=world.secretariat, meeting=meeting, queue=False)
    compiled = pipeline.brief_compile(brief_id=brief.pk)
    assert compiled is not None, Brief.objects.get(pk=brief.pk).error
    assert compiled.status == BriefStatus.READY
    text = pdf_text(bytes(compiled.pdf))
    assert "Caveat 0000" in text and "Caveat 0999" in text and CUT_NOTE in text
    rows = xlsx_rows(bytes(compiled.xlsx), "Caveats")
    assert len(rows) == 1000 and {len(row["Caveat"]) for row in rows} == {LONG_TEXT}


def test_formulas_in_user_text_stay_text_in_the_xlsx(world: World) -> None:
    meeting = upcoming_meeting(world)
    pledge = make_pledge(country=world.fr, coalition=world.coalition, status="indicative")
    Meeting.objects.filter(pk=meeting.pk).update(starts_at=timezone.now() + timezone.timedelta(days=1))
    previous = services.meeting_create(actor=world.secretariat, coalition=world.coalition, title="=1+2",
                                       starts_at=timezone.now() - timezone.timedelta(days=3),
                                       ends_at=timezone.now() - timezone.timedelta(days=3))
    assert previous.pk
    pledge_services.caveat_add(actor=world.ministry_fr, pledge=pledge, kind="condition",
                               text='=HYPERLINK("http://evil.example/","Click")', rationale="=1+2")
    _, xlsx = render(meeting)
    book = load_workbook(io.BytesIO(xlsx))
    caveat = next(row for row in book["Caveats"].iter_rows(min_row=2))
    assert caveat[3].value == '=HYPERLINK("http://evil.example/","Click")' and caveat[3].data_type == "s"
    assert caveat[4].value == "=1+2" and caveat[4].data_type == "s"
    changes = [cell for row in book["Changes"].iter_rows(min_row=2) for cell in row if cell.value]
    assert any(cell.value == '=HYPERLINK("http://evil.example/","Click")' for cell in changes)
    assert all(cell.data_type != "f" for cell in changes)


def test_text_stored_before_the_rules_still_renders(world: World) -> None:
    """A control character written by SQL (or before the validators): removed in the XLSX, the brief made."""
    meeting = upcoming_meeting(world)
    caveat = pledge_services.caveat_add(actor=world.ministry_pl, coalition=world.coalition, kind="other",
                                        text="placeholder")
    with history_context(SystemActor("test-sql"), "raw_sql"), connection.cursor() as cursor:
        cursor.execute("UPDATE pledges_caveat SET text = %s WHERE id = %s", ["bell\x07and\x01start", caveat.pk])
    pdf, xlsx = render(meeting)
    assert [row["Caveat"] for row in xlsx_rows(xlsx, "Caveats")] == ["bellandstart"]
    assert "bellandstart" in pdf_text(pdf)


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("text", "x" * (LONG_TEXT + 1), "10000 characters"),
    ("text", "bell\x07", "control character"),
    ("rationale", "x" * (LONG_TEXT + 1), "10000 characters"),
    ("rationale", "a\x1bb", "control character"),
])
def test_the_api_and_the_admin_refuse_the_same_text(world: World, field: str, value: str, reason: str) -> None:
    api = APIClient()
    api.force_authenticate(world.ministry_pl)
    body = {"coalition": world.coalition.pk, "kind": "other", "text": "fine", field: value}
    response = api.post("/api/v1/caveats/", body, format="json")
    assert response.status_code == 400 and field in response.json(), response.content[:200]
    assert reason in str(response.json()[field])
    admin = Client()
    admin.force_login(world.ministry_pl)
    page = admin.post(reverse("admin:pledges_caveat_add"), {
        "coalition": world.coalition.pk, "kind": "other", "text": "fine", "releasability": "secretariat",
        field: value})
    assert page.status_code == 200 and reason in page.content.decode()
    assert not Caveat.objects.exists()


def test_the_admin_form_takes_no_more_than_the_api(world: World) -> None:
    client = Client()
    client.force_login(world.ministry_pl)
    page = client.post(reverse("admin:pledges_caveat_add"), {
        "coalition": world.coalition.pk, "kind": "other", "text": "y" * 400_016, "releasability": "secretariat"})
    assert page.status_code == 200 and "at most 10000 characters (it has 400016)" in page.content.decode()
    assert not Caveat.objects.exists()
    assert printable("a\x01b") == "ab"
