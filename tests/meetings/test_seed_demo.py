from __future__ import annotations

import pytest
from django.core.management import call_command

from accounts.models import User
from meetings.models import Invitation, Meeting
from meetings.selectors import BRIEF_VIEWER
from places.models import Place
from pledges.history import PledgeEvent
from pledges.models import Caveat, Coalition, Country, Pledge
from pledges.selectors import coalition_map


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count()
            for model in (Country, Coalition, Pledge, Caveat, Meeting, Invitation, User, PledgeEvent)}


@pytest.mark.django_db
def test_seed_demo_twice_changes_nothing_the_second_time(settings: object) -> None:
    call_command("seed_demo", with_demo_users=True)
    first = counts()
    call_command("seed_demo", with_demo_users=True)
    assert counts() == first

    cotw = Coalition.objects.get(short_name="CotW")
    assert Coalition.objects.filter(short_name="UDCG").exists()
    assert cotw.members.count() == 34
    nato = Meeting.objects.get(place="NATO Headquarters, Brussels")
    assert nato.starts_at.date().isoformat() == "2025-04-10"
    assert {c.code for c in nato.chairs.all()} == {"FR", "GB"}
    assert nato.invitations.count() == 34
    assert nato.invitations.filter(status="attended").count() == 30
    assert Meeting.objects.filter(status="planned", starts_at__gt=nato.starts_at).count() == 1
    poland = Caveat.objects.get(country__code="PL", kind="no_deployment")
    assert "Belarus" in poland.rationale
    assert "Turkey" in Caveat.objects.get(country__code="GR", kind="no_deployment").rationale
    assert "United States" in Caveat.objects.get(country__code="IT", kind="condition").text
    assert not Pledge.objects.filter(is_illustrative=False).exists()
    for username in ("secretariat", "analyst", "ministry-pl", "ministry-fr", "ministry-gb"):
        assert User.objects.get(username=username).check_password("coalition-demo-2025")
    assert User.objects.get(username="ministry-pl").country.code == "PL"


@pytest.mark.django_db
def test_seed_demo_without_debug_creates_no_accounts() -> None:
    call_command("seed_demo")
    assert not User.objects.exists()


@pytest.mark.django_db(transaction=True)  # each write its own transaction, as on a real start: no context left over
def test_every_history_row_the_seed_writes_names_it() -> None:
    from django.apps import apps

    call_command("seed_demo", with_demo_users=True)
    event_models = [model for model in apps.get_models() if any(
        field.name == "pgh_context" and field.is_relation for field in model._meta.get_fields())
        and any(field.name == "pgh_obj" for field in model._meta.get_fields())]
    assert len(event_models) >= 6
    written = 0
    for model in event_models:
        for event in model.objects.select_related("pgh_context"):
            written += 1
            assert event.pgh_context.metadata.get("username") == "seed_demo", (model.__name__, event.pgh_context)
    assert written > 112  # meetings, invitations and the agenda among them


@pytest.mark.django_db(transaction=True)
def test_the_seed_leaves_the_planner_statistics_fresh() -> None:
    from django.db import connection

    call_command("seed_demo")
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL")
        analysed = {row[0] for row in cursor.fetchall()}
    assert {"pledges_pledge", "pledges_pledgeevent", "pledges_caveat", "pledges_caveatevent",
            "meetings_meeting", "meetings_invitationevent"} <= analysed


@pytest.mark.django_db
def test_the_demo_places_its_pledges_and_places_those_loaded_before_places_existed() -> None:
    call_command("seed_demo")
    cotw = Coalition.objects.get(short_name="CotW")
    assert "UA" in cotw.theatre and "PL" in cotw.theatre
    placed = Pledge.objects.filter(coalition=cotw, place__isnull=False)
    assert placed.count() >= 20
    assert not placed.exclude(place__country_code__in=cotw.theatre).exists()
    names = {point.place.name for point in coalition_map(coalition=cotw, user=BRIEF_VIEWER).points}
    assert {"Kyiv", "Odesa", "Lviv", "Rzeszów", "Constanţa"} <= names
    # A demo loaded before places existed: its pledges lose their places; loading again puts them back.
    kyiv = Pledge.objects.filter(coalition=cotw, place_id=703448, status="indicative").first()
    assert kyiv is not None
    Pledge.objects.filter(coalition=cotw).update(place=None)
    call_command("seed_demo")
    kyiv.refresh_from_db()
    assert kyiv.place_id == 703448 and Place.objects.filter(pk=703448).exists()
