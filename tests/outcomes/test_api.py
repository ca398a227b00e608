"""The outcomes through the API: who may write what (every role against every field), the owner's restriction,
404 for outsiders, 400 naming the field, filters, CSV, and the changes feed."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from outcomes import services
from outcomes.models import Outcome
from tests.conftest import World
from tests.http import content_of
from tests.outcomes.conftest import Outcomes, held_meeting

pytestmark = pytest.mark.django_db

ROLES = ("ministry_pl", "ministry_fr", "ministry_gb", "analyst", "secretariat", "admin")
# A change of each field of the PL action (the values differ from the fixture's).
FIELD_CHANGES: dict[str, Any] = {
    "text": "Confirm the hub at Rzeszów and its railhead.",
    "owner": "GB",
    "due_on": "2031-05-30",
    "kind": "decision",
    "status": "done",
    "note": "Confirmed by letter.",
}
# Who may make each change: the secretariat (and administrators) everything; PL's staff the status and note.
MAY = {field: {"secretariat", "admin"} | ({"ministry_pl"} if field in ("status", "note") else set())
       for field in FIELD_CHANGES}


def as_role(world: World, role: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(getattr(world, role))
    return client


@pytest.mark.parametrize("role", [*ROLES, "ministry_us"])
@pytest.mark.parametrize("field", list(FIELD_CHANGES))
def test_who_may_change_which_field(world: World, outcomes: Outcomes, role: str, field: str) -> None:
    client = as_role(world, role)
    url = f"/api/v1/outcomes/{outcomes.pl_action.pk}/"
    etag = f'"{outcomes.pl_action.pk}-1"'
    response = client.patch(url, {field: FIELD_CHANGES[field]}, format="json", HTTP_IF_MATCH=etag)
    after = Outcome.objects.get(pk=outcomes.pl_action.pk)
    if role in MAY[field]:
        assert response.status_code == 200, response.content
        assert after.version == 2 and response["ETag"] == f'"{after.pk}-2"'
        if field != "kind":
            assert response.json()[field] == FIELD_CHANGES[field]
        return
    assert after.version == 1
    if role == "ministry_us":
        assert response.status_code == 404
    elif role == "ministry_pl":  # the owner, on a field that is the secretariat's: 400 naming it
        assert response.status_code == 400 and field in response.json(), response.content
    else:
        assert response.status_code == 403, response.content


def test_only_the_secretariat_records(world: World, outcomes: Outcomes) -> None:
    body = {"meeting": outcomes.meeting.pk, "kind": "action", "text": "Send engineers.", "owner": "pl",
            "due_on": "2031-01-31"}
    for role in ("ministry_pl", "analyst"):
        assert as_role(world, role).post("/api/v1/outcomes/", body, format="json").status_code == 403
    for role in ("secretariat", "admin"):
        response = as_role(world, role).post("/api/v1/outcomes/", body, format="json")
        assert response.status_code == 201, response.content
        assert {key: response.json()[key] for key in ("owner", "status", "closed_on", "is_overdue", "version")} == {
            "owner": "PL", "status": "open", "closed_on": None, "is_overdue": False, "version": 1}
        assert response["ETag"] == f'"{response.json()["id"]}-1"'
    decision = as_role(world, "secretariat").post("/api/v1/outcomes/", {
        "meeting": outcomes.meeting.pk, "kind": "decision", "text": "Headquarters in Kyiv."}, format="json")
    assert decision.status_code == 201 and decision.json()["status"] == "recorded"
    assert decision.json()["owner"] is None and decision.json()["coalition"] == world.coalition.pk


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "plan"}, "kind"),
    ({"kind": "action", "due_on": None}, "due_on"),
    ({"kind": "action", "due_on": "30 May"}, "due_on"),
    ({"kind": "action", "owner": "XX"}, "owner"),
    ({"kind": "action", "owner": "Poland"}, "owner"),
    ({"kind": "action", "owner": "US"}, "owner"),  # not a member of the coalition
    ({"kind": "action", "status": "recorded"}, "status"),
    ({"kind": "decision", "owner": "PL", "due_on": None}, "owner"),
    ({"kind": "decision", "status": "done", "due_on": None}, "status"),
    ({"kind": "action", "status": "finished"}, "status"),
    ({"kind": "action", "text": ""}, "text"),
    ({"kind": "action", "closed_on": "2026-01-01"}, "closed_on"),
    ({"kind": "action", "colour": "red"}, "colour"),
    ({"kind": "action", "meeting": "first"}, "meeting"),
    ({"kind": "action", "meeting": 999999}, "meeting"),
])
def test_bad_input_is_a_400_naming_the_field(world: World, outcomes: Outcomes, body: dict[str, Any],
                                             field: str) -> None:
    full = {"meeting": outcomes.meeting.pk, "text": "Do it.", "due_on": "2031-01-31", **body}
    response = as_role(world, "secretariat").post("/api/v1/outcomes/", full, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()


def test_outsiders_get_404_and_members_read(world: World, outcomes: Outcomes) -> None:
    us = as_role(world, "ministry_us")
    assert us.get(f"/api/v1/outcomes/{outcomes.decision.pk}/").status_code == 404
    assert us.get("/api/v1/outcomes/").json()["results"] == []
    for role in ROLES:
        client = as_role(world, role)
        assert client.get(f"/api/v1/outcomes/{outcomes.decision.pk}/").status_code == 200
        assert client.get("/api/v1/outcomes/").json()["count"] == 4


def test_overdue_flag_and_filters(world: World, outcomes: Outcomes) -> None:
    other = held_meeting(world, days_ago=40, title="Leaders")
    services.outcome_record(actor=world.secretariat, meeting=other, kind="action", owner=world.gb, text="Fly.",
                            due_on=timezone.localdate() - dt.timedelta(days=1), status="done")
    client = as_role(world, "analyst")

    def ids(query: str) -> set[int]:
        response = client.get(f"/api/v1/outcomes/?{query}")
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    row = client.get(f"/api/v1/outcomes/{outcomes.pl_action.pk}/").json()
    assert row["is_overdue"] is True and row["owner"] == "PL"
    assert ids("overdue=true") == {outcomes.pl_action.pk}
    assert outcomes.pl_action.pk not in ids("overdue=false") and len(ids("overdue=false")) == 4
    assert ids(f"meeting={outcomes.meeting.pk}&kind=decision") == {outcomes.decision.pk}
    assert ids("owner=pl,FR") == {outcomes.pl_action.pk, outcomes.fr_action.pk}
    assert ids("owner=secretariat") == {outcomes.secretariat_action.pk}
    assert len(ids("status=done")) == 1 and len(ids("status=open")) == 3
    assert len(ids(f"coalition={world.coalition.pk}")) == 5 and ids(f"coalition={world.other_coalition.pk}") == set()
    for query, field in (("overdue=maybe", "overdue"), ("owner=ZZ", "owner"), ("kind=plan", "kind"),
                         ("status=closed", "status"), ("meeting=x", "meeting"), ("coalition=999999", "coalition")):
        response = client.get(f"/api/v1/outcomes/?{query}")
        assert response.status_code == 400 and field in response.json(), (query, response.content)


def test_csv(world: World, outcomes: Outcomes) -> None:
    services.outcome_update(actor=world.secretariat, outcome=outcomes.fr_action, note="=HYPERLINK(1)")
    response = as_role(world, "ministry_fr").get("/api/v1/outcomes/?format=csv&owner=PL,FR")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(content_of(response).decode())))
    assert [(row["owner"], row["is_overdue"]) for row in rows] == [("PL", "true"), ("FR", "false")]
    assert rows[1]["note"] == "'=HYPERLINK(1)"


@pytest.mark.django_db(transaction=True)  # each write its own transaction, so its own moment in the history
def test_the_changes_feed_has_outcomes(world: World) -> None:
    since = timezone.now()
    meeting = held_meeting(world)
    action = services.outcome_record(actor=world.secretariat, meeting=meeting, kind="action", owner=world.pl,
                                     text="Confirm the hub.", due_on=timezone.localdate())
    middle = timezone.now()
    services.outcome_update(actor=world.ministry_pl, outcome=action, status="done")
    response = as_role(world, "ministry_fr").get("/api/v1/pledges/changes/", {"since": since.isoformat()})
    assert response.status_code == 200, response.content
    (change,) = response.json()["outcomes"]
    assert {key: change[key] for key in ("outcome_id", "kind", "owner", "status_before", "status_after")} == {
        "outcome_id": action.pk, "kind": "recorded", "owner": "PL", "status_before": None, "status_after": "done"}
    closed = as_role(world, "secretariat").get("/api/v1/pledges/changes/", {"since": middle.isoformat()})
    assert [change["kind"] for change in closed.json()["outcomes"]] == ["closed"]
    # outsiders see none of it
    us = as_role(world, "ministry_us").get("/api/v1/pledges/changes/", {"since": since.isoformat()})
    assert us.json()["outcomes"] == []
    # pages of one walk on into the outcomes
    second = services.outcome_record(actor=world.secretariat, meeting=meeting, kind="decision", text="Kyiv.")
    client, seen = as_role(world, "secretariat"), []
    page = client.get("/api/v1/pledges/changes/", {"since": since.isoformat(), "page_size": 1}).json()
    while True:
        seen += [change["outcome_id"] for change in page["outcomes"]]
        if page["next"] is None:
            break
        page = client.get(page["next"]).json()
    assert seen == [action.pk, second.pk]


def test_put_by_the_owner_takes_the_object_as_read(world: World, outcomes: Outcomes) -> None:
    client = as_role(world, "ministry_pl")
    url = f"/api/v1/outcomes/{outcomes.pl_action.pk}/"
    read = client.get(url)
    response = client.put(url, {**read.json(), "status": "done", "note": "Done."}, format="json",
                          HTTP_IF_MATCH=read["ETag"])
    assert response.status_code == 200, response.content
    assert response.json()["closed_on"] == timezone.localdate().isoformat() and not response.json()["is_overdue"]
    stale = client.patch(url, {"note": "Again."}, format="json", HTTP_IF_MATCH=read["ETag"])
    assert stale.status_code == 412
