"""Every write path leaves a history event naming the person who acted (pghistory context metadata).

Walks the services directly, the admin and the REST API, and after each write
reads the newest event row of the object written and its context.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Model
from django.test import Client
from django.utils import timezone

from accounts.models import User
from meetings import services as meeting_services
from meetings.models import AgendaItem, Invitation, Meeting
from pledges import services
from pledges.models import Caveat, Pledge, Requirement
from tests.conftest import World
from tests.factories import TEST_PASSWORD


def latest_event(model: type[Model], obj_id: int) -> Any:
    events = model.pgh_event_model.objects.filter(pgh_obj_id=obj_id)  # type: ignore[attr-defined]
    return events.select_related("pgh_context").latest("pgh_id")


def assert_acted_by(model: type[Model], obj_id: int, user: User, label: str) -> dict[str, Any]:
    event = latest_event(model, obj_id)
    assert event.pgh_label == label
    assert event.pgh_context is not None, f"{model.__name__} {obj_id}: {label} event without a context"
    metadata = event.pgh_context.metadata
    assert metadata.get("user") == user.pk, metadata
    assert metadata.get("username") == user.username, metadata
    return metadata


def test_every_service_write_records_the_actor(world: World) -> None:
    pl, secretariat = world.ministry_pl, world.secretariat
    pledge = services.pledge_create(actor=pl, coalition=world.coalition, category=world.troops,
                                    unit=world.personnel, quantity=100)
    assert assert_acted_by(Pledge, pledge.pk, pl, "insert")["action"] == "pledge_create"
    pledge = services.pledge_update(actor=pl, pledge=pledge, quantity=150)
    assert_acted_by(Pledge, pledge.pk, pl, "update")
    pledge = services.pledge_transition(actor=pl, pledge=pledge, to_status="indicative")
    assert assert_acted_by(Pledge, pledge.pk, pl, "update")["action"] == "pledge_indicative"

    caveat = services.caveat_add(actor=pl, pledge=pledge, kind="condition", text="Needs a US backstop.")
    assert_acted_by(Caveat, caveat.pk, pl, "insert")
    caveat = services.caveat_update(actor=pl, caveat=caveat, text="Needs a United States backstop.")
    assert_acted_by(Caveat, caveat.pk, pl, "update")
    caveat = services.caveat_lift(actor=pl, caveat=caveat)
    assert assert_acted_by(Caveat, caveat.pk, pl, "update")["action"] == "caveat_lift"

    requirement = services.requirement_set(actor=secretariat, coalition=world.coalition, category=world.troops,
                                           unit=world.personnel, quantity=5000)
    assert_acted_by(Requirement, requirement.pk, secretariat, "insert")
    services.requirement_delete(actor=secretariat, requirement=requirement)
    assert_acted_by(Requirement, requirement.pk, secretariat, "delete")

    draft = services.pledge_create(actor=pl, coalition=world.coalition, category=world.troops,
                                   unit=world.personnel, quantity=10)
    services.pledge_delete(actor=pl, pledge=draft)
    assert_acted_by(Pledge, draft.pk, pl, "delete")

    starts = timezone.now() + dt.timedelta(days=7)
    meeting = meeting_services.meeting_create(actor=secretariat, coalition=world.coalition, title="Ministerial",
                                              starts_at=starts, ends_at=starts + dt.timedelta(hours=4))
    assert_acted_by(Meeting, meeting.pk, secretariat, "insert")
    invitation = meeting_services.invitation_set(actor=secretariat, meeting=meeting, country=world.pl)
    assert_acted_by(Invitation, invitation.pk, secretariat, "insert")
    item = meeting_services.agenda_item_add(actor=secretariat, meeting=meeting, title="Force picture")
    assert_acted_by(AgendaItem, item.pk, secretariat, "insert")


def test_admin_writes_record_the_signed_in_user(client: Client, world: World) -> None:
    client.force_login(world.ministry_pl)
    response = client.post("/admin/pledges/pledge/add/", {
        "coalition": world.coalition.pk, "category": world.troops.pk, "unit": world.personnel.pk,
        "quantity": "250", "status": "draft", "description": "Engineer company", "releasability": "secretariat",
        "deliveries-TOTAL_FORMS": "0", "deliveries-INITIAL_FORMS": "0", "deliveries-MIN_NUM_FORMS": "0",
        "deliveries-MAX_NUM_FORMS": "1000",
        "caveats-TOTAL_FORMS": "0", "caveats-INITIAL_FORMS": "0", "caveats-MIN_NUM_FORMS": "0",
        "caveats-MAX_NUM_FORMS": "1000",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    pledge = Pledge.objects.get(description="Engineer company")
    assert_acted_by(Pledge, pledge.pk, world.ministry_pl, "insert")


def _token(client: Client, user: User) -> dict[str, str]:
    response = client.post("/api/v1/auth/token/", {"username": user.username, "password": TEST_PASSWORD},
                           content_type="application/json")
    assert response.status_code == 200, response.content
    return {"HTTP_AUTHORIZATION": f"Token {response.json()['token']}"}


def test_api_writes_record_the_token_user(client: Client, world: World) -> None:
    auth = _token(client, world.ministry_pl)
    created = client.post("/api/v1/pledges/", {
        "coalition": world.coalition.pk, "category": "troops", "unit": "personnel", "quantity": 300,
    }, content_type="application/json", **auth)
    assert created.status_code == 201, created.content
    pledge_id = created.json()["id"]
    assert_acted_by(Pledge, pledge_id, world.ministry_pl, "insert")

    moved = client.post(f"/api/v1/pledges/{pledge_id}/transition/", {"status": "indicative"},
                        content_type="application/json", **auth)
    assert moved.status_code == 200, moved.content
    assert_acted_by(Pledge, pledge_id, world.ministry_pl, "update")

    secretariat_auth = _token(client, world.secretariat)
    requirement = client.post("/api/v1/requirements/", {
        "coalition": world.coalition.pk, "category": "troops", "unit": "personnel", "quantity": 9000,
    }, content_type="application/json", **secretariat_auth)
    assert requirement.status_code in (200, 201), requirement.content
    assert_acted_by(Requirement, requirement.json()["id"], world.secretariat, "insert")
