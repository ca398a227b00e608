"""Briefs over a known history: each service call commits with its own NOW(), as in production."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from meetings import services
from meetings.briefs import pipeline
from meetings.models import Brief
from pledges import services as pledge_services
from pledges.models import Caveat, Pledge
from tests.conftest import World
from tests.factories import make_pledge
from tests.meetings.conftest import upcoming_meeting
from tests.meetings.helpers import pdf_text, xlsx_rows

pytestmark = pytest.mark.django_db(transaction=True)


def brief_as_of(meeting: object, as_of: dt.datetime, number: int) -> Brief:
    """A queued brief made directly (no message for a worker: these tests compile in-process)."""
    brief = Brief.objects.create(meeting=meeting, number=number, as_of=as_of)
    compiled = pipeline.brief_compile(brief_id=brief.pk)
    assert compiled is not None, Brief.objects.get(pk=brief.pk).error
    return compiled


def test_changes_since_the_previous_meeting(world: World) -> None:
    w = world
    raised = make_pledge(country=w.pl, coalition=w.coalition, category=w.troops, unit=w.personnel, quantity=1200,
                         status="confirmed")
    lowered = make_pledge(country=w.gb, coalition=w.coalition, category=w.troops, unit=w.personnel, quantity=500,
                          status="confirmed")
    promoted = make_pledge(country=w.fr, coalition=w.coalition, category=w.troops, unit=w.personnel, quantity=800,
                           status="indicative")
    withdrawn = make_pledge(country=w.gb, coalition=w.coalition, category=w.air, unit=w.aircraft, quantity=12,
                            status="confirmed")
    lifted = pledge_services.caveat_add(actor=w.ministry_pl, country=w.pl, coalition=w.coalition,
                                        kind="no_deployment", text="No troops on Ukrainian territory.",
                                        rationale="Threat from Belarus.")
    start = timezone.now()
    previous = services.meeting_create(actor=w.secretariat, coalition=w.coalition, title="Paris leaders' meeting",
                                       starts_at=start, ends_at=start + dt.timedelta(hours=4), status="held")
    # after the previous meeting started:
    pledge_services.pledge_update(actor=w.ministry_pl, pledge=raised, quantity=1500)
    pledge_services.pledge_update(actor=w.ministry_gb, pledge=lowered, quantity=300)
    pledge_services.pledge_transition(actor=w.ministry_fr, pledge=promoted, to_status="confirmed")
    pledge_services.pledge_transition(actor=w.ministry_gb, pledge=withdrawn, to_status="withdrawn")
    make_pledge(country=w.fr, coalition=w.coalition, category=w.air, unit=w.aircraft, quantity=4,
                status="indicative")
    make_pledge(country=w.pl, coalition=w.coalition, category=w.air, unit=w.aircraft, quantity=9, status="draft")
    pledge_services.caveat_lift(actor=w.ministry_pl, caveat=lifted)
    pledge_services.caveat_add(actor=w.ministry_fr, pledge=promoted, kind="condition",
                               text="Only with a United States backstop.", rationale="Air cover needed.")
    meeting = upcoming_meeting(w, days=2)

    brief = brief_as_of(meeting, timezone.now(), 1)
    changes = brief.snapshot["changes"]
    assert changes["previous_meeting"]["title"] == previous.title
    got = {(c["kind"], c["code"], c["category"], c["quantity_before"], c["quantity_after"])
           for c in changes["pledges"]}
    assert got == {
        ("raised", "PL", "Troops", 1200, 1500),
        ("lowered", "GB", "Troops", 500, 300),
        ("status", "FR", "Troops", 800, 800),
        ("withdrawn", "GB", "Air", 12, 12),
        ("new", "FR", "Air", None, 4),
    }  # the PL draft is no one's business but Poland's
    assert {(c["kind"], c["code"], c["text"]) for c in changes["caveats"]} == {
        ("lifted", "PL", "No troops on Ukrainian territory."),
        ("added", "FR", "Only with a United States backstop."),
    }
    text = pdf_text(bytes(brief.pdf))
    assert "Since Paris leaders' meeting" in text
    for phrase in ("Raised Poland Troops 1,200 personnel, Confirmed 1,500 personnel, Confirmed",
                   "Withdrawn United Kingdom Air 12 aircraft, Confirmed 12 aircraft, Withdrawn",
                   "New pledge France Air — 4 aircraft, Indicative",
                   "Caveat lifted Poland No troops on Ukrainian territory.",
                   "Caveat added France Only with a United States backstop."):
        assert phrase in text, phrase
    sheet = {(r["Change"], r["Country code"]) for r in xlsx_rows(bytes(brief.xlsx), "Changes")}
    assert {("raised", "PL"), ("caveat_lifted", "PL"), ("caveat_added", "FR")} <= sheet


def test_a_brief_shows_its_moment_not_later_changes(world: World) -> None:
    w = world
    pledge = make_pledge(country=w.pl, coalition=w.coalition, category=w.troops, unit=w.personnel, quantity=1200,
                         status="confirmed")
    pledge_services.requirement_set(actor=w.secretariat, coalition=w.coalition, category=w.troops,
                                    unit=w.personnel, quantity=5000)
    before_the_raise = timezone.now()
    pledge_services.pledge_update(actor=w.ministry_pl, pledge=pledge, quantity=4000)
    caveat = pledge_services.caveat_add(actor=w.ministry_pl, pledge=Pledge.objects.get(pk=pledge.pk),
                                        kind="condition", text="Subject to a ceasefire.")
    meeting = upcoming_meeting(w)

    def troops(brief: Brief) -> dict[str, int]:
        return next(line for line in brief.snapshot["force"] if line["category"] == "troops")

    old, new = brief_as_of(meeting, before_the_raise, 1), brief_as_of(meeting, timezone.now(), 2)
    assert (troops(old)["confirmed"], troops(old)["gap"], troops(old)["conditional"]) == (1200, 3800, 0)
    assert (troops(new)["confirmed"], troops(new)["gap"], troops(new)["conditional"]) == (4000, 1000, 4000)
    assert old.snapshot["caveats"] == [] and [c["id"] for c in new.snapshot["caveats"]] == [caveat.pk]
    assert Caveat.objects.count() == 1
