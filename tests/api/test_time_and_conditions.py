"""The API of time and conditions: force and map `on` a day, `assume`, the timeline (JSON and CSV), named
conditions, rotations (`relieves`) and caveats naming a condition."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from pledges import services
from pledges.models import Condition, ConditionStatus
from tests.conftest import World
from tests.factories import make_pledge

pytestmark = pytest.mark.django_db
D = dt.date


def troops(world: World, quantity: int, country=None, **fields):
    return make_pledge(country=country or world.pl, coalition=world.coalition, category=world.troops,
                       unit=world.personnel, quantity=quantity, status="confirmed", **fields)


def force(client: APIClient, world: World, **query) -> dict:
    answer = client.get(f"/api/v1/coalitions/{world.coalition.pk}/force/", query)
    assert answer.status_code == 200, answer.content
    return answer.json()


def test_force_and_map_on_a_day(world: World, client_for: Callable[[str], APIClient]) -> None:
    troops(world, 100, available_from=D(2026, 1, 1), available_until=D(2026, 6, 30))
    troops(world, 10, available_from=D(2026, 7, 1))
    analyst = client_for("analyst")
    assert force(analyst, world, on="2026-03-01")["categories"][0]["confirmed"] == 100
    assert force(analyst, world, on="2026-03-01")["on"] == "2026-03-01"
    assert force(analyst, world, on="2026-07-01")["categories"][0]["confirmed"] == 10
    assert force(analyst, world)["categories"][0]["confirmed"] == 110
    gone = analyst.get(f"/api/v1/coalitions/{world.coalition.pk}/map/", {"on": "2025-01-01"})
    assert gone.status_code == 200 and gone.json()["unplaced_pledges"] == 0
    assert analyst.get(f"/api/v1/coalitions/{world.coalition.pk}/map/", {"on": "2026-03-01"}) \
        .json()["unplaced_pledges"] == 1


@pytest.mark.parametrize("path", ["force", "map", "timeline"])
@pytest.mark.parametrize("query, field", [
    ({"on": "2026-13-01"}, "on"), ({"on": "yesterday"}, "on"), ({"on": "9999-01-01"}, "on"),
    ({"assume": "1:maybe"}, "assume"), ({"assume": "999999:met"}, "assume"), ({"assume": "met"}, "assume"),
    ({"as_of": "soon"}, "as_of"),
])
def test_bad_on_or_assume_is_a_400_naming_it(world: World, client_for: Callable[[str], APIClient], path: str,
                                            query: dict, field: str) -> None:
    if path == "timeline" and field == "on":
        query, field = {"start": query["on"]}, "start"
    answer = client_for("analyst").get(f"/api/v1/coalitions/{world.coalition.pk}/{path}/", query)
    assert answer.status_code == 400, answer.content
    assert field in answer.json()


def test_a_condition_of_another_coalition_cannot_be_assumed(world: World,
                                                            client_for: Callable[[str], APIClient]) -> None:
    foreign = services.condition_create(actor=world.secretariat, coalition=world.other_coalition, name="Foreign")
    answer = client_for("analyst").get(f"/api/v1/coalitions/{world.coalition.pk}/force/",
                                       {"assume": f"{foreign.pk}:failed"})
    assert answer.status_code == 400 and "assume" in answer.json()


def test_timeline_json_and_csv(world: World, client_for: Callable[[str], APIClient]) -> None:
    first = troops(world, 300, available_from=D(2026, 1, 1), available_until=D(2026, 2, 28),
                   releasability="coalition")
    second = troops(world, 300, country=world.fr, available_from=D(2026, 3, 15), relieves=first)
    client = client_for("analyst")
    answer = client.get(f"/api/v1/coalitions/{world.coalition.pk}/timeline/", {"start": "2026-01", "months": 4})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["start"], body["months"]) == ("2026-01", 4)
    [line] = body["capabilities"]
    assert [m["committed"] for m in line["months"]] == [300, 300, 0, 300]
    assert [m["month"] for m in line["months"]] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert body["handovers"] == [{"relieved": first.pk, "relieving": second.pk, "ends_on": "2026-02-28",
                                  "starts_on": "2026-03-15", "uncovered_days": 14, "category": "troops",
                                  "unit": "personnel", "relieved_country": "PL", "relieving_country": "FR"}]
    as_csv = client.get(f"/api/v1/coalitions/{world.coalition.pk}/timeline/",
                        {"start": "2026-01", "months": 4, "format": "csv"})
    assert as_csv.status_code == 200 and as_csv["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode())))
    assert [(r["month"], r["committed"]) for r in rows] == [("2026-01", "300"), ("2026-02", "300"),
                                                           ("2026-03", "0"), ("2026-04", "300")]
    for months in (0, 61, "x"):
        assert client.get(f"/api/v1/coalitions/{world.coalition.pk}/timeline/",
                          {"months": months}).status_code == 400
    bad_csv = client.get(f"/api/v1/coalitions/{world.coalition.pk}/timeline/", {"months": 0, "format": "csv"})
    assert bad_csv.status_code == 400 and "months" in bad_csv.json()


def test_a_reader_who_may_not_see_the_relieved_pledge_reads_null(world: World,
                                                                 client_for: Callable[[str], APIClient]) -> None:
    hidden = troops(world, 5, available_until=D(2026, 2, 28))  # PL's, released to the secretariat only
    relieving = troops(world, 5, available_from=D(2026, 3, 1), relieves=hidden, releasability="coalition")
    assert client_for("analyst").get(f"/api/v1/pledges/{relieving.pk}/").json()["relieves"] == hidden.pk
    fr = client_for("ministry_fr")
    assert fr.get(f"/api/v1/pledges/{relieving.pk}/").json()["relieves"] is None
    listed = {row["id"]: row for row in fr.get("/api/v1/pledges/").json()["results"]}
    assert listed[relieving.pk]["relieves"] is None
    timeline = fr.get(f"/api/v1/coalitions/{world.coalition.pk}/timeline/", {"start": "2026-02", "months": 2})
    assert timeline.json()["handovers"] == []


def test_relieves_is_written_and_refused_by_name(world: World, client_for: Callable[[str], APIClient]) -> None:
    base = troops(world, 5, releasability="coalition")
    pl = client_for("ministry_pl")
    created = pl.post("/api/v1/pledges/", {"coalition": world.coalition.pk, "category": "troops",
                                            "unit": "personnel", "quantity": 5, "relieves": base.pk}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["relieves"] == base.pk
    air = make_pledge(country=world.pl, coalition=world.coalition, category=world.air, unit=world.aircraft,
                      quantity=1, status="confirmed")
    draft_fr = make_pledge(country=world.fr, coalition=world.coalition, category=world.troops,
                           unit=world.personnel, quantity=1)
    for relieves in (air.pk, draft_fr.pk, 999999, "x", created.json()["id"]):
        answer = pl.patch(f"/api/v1/pledges/{created.json()['id']}/", {"relieves": relieves}, format="json")
        assert answer.status_code == 400, (relieves, answer.content)
        assert "relieves" in answer.json()
    cleared = pl.patch(f"/api/v1/pledges/{created.json()['id']}/", {"relieves": None}, format="json")
    assert cleared.status_code == 200 and cleared.json()["relieves"] is None


def test_conditions_are_kept_by_the_secretariat_and_read_by_members(
        world: World, client_for: Callable[[str], APIClient]) -> None:
    secretariat = client_for("secretariat")
    made = secretariat.post("/api/v1/conditions/", {"coalition": world.coalition.pk, "name": "Ceasefire in force",
                                                    "description": "Agreed by both parties."}, format="json")
    assert made.status_code == 201, made.content
    condition = made.json()
    assert (condition["status"], condition["decided_on"], condition["version"]) == ("open", None, 1)
    assert client_for("ministry_pl").post("/api/v1/conditions/", {"coalition": world.coalition.pk,
                                                                  "name": "Mine"}, format="json").status_code == 403
    assert client_for("ministry_fr").get(f"/api/v1/conditions/{condition['id']}/").status_code == 200
    assert client_for("ministry_us").get(f"/api/v1/conditions/{condition['id']}/").status_code == 404  # not a member
    assert client_for("anonymous").get("/api/v1/conditions/").status_code in (401, 403)
    stale = secretariat.patch(f"/api/v1/conditions/{condition['id']}/", {"status": "met"}, format="json",
                              HTTP_IF_MATCH=f'"{condition["id"]}-7"')
    assert stale.status_code == 412
    assert Condition.objects.get(pk=condition["id"]).status == ConditionStatus.OPEN
    for bad in ({"status": "maybe"}, {"name": ""}, {"name": "a\nb"}, {"decided_on": "2999-01-01", "status": "met"},
                {"coalition": world.other_coalition.pk}):
        answer = secretariat.patch(f"/api/v1/conditions/{condition['id']}/", bad, format="json")
        assert answer.status_code == 400, (bad, answer.content)
        assert set(answer.json()) & set(bad), answer.json()
    decided = secretariat.patch(f"/api/v1/conditions/{condition['id']}/", {"status": "failed"}, format="json",
                                HTTP_IF_MATCH=made["ETag"])
    assert decided.status_code == 200, decided.content
    assert decided.json()["decided_on"] == timezone.localdate().isoformat()
    duplicate = secretariat.post("/api/v1/conditions/", {"coalition": world.coalition.pk,
                                                         "name": "Ceasefire in force"}, format="json")
    assert duplicate.status_code == 400


def test_deciding_a_condition_changes_the_force_and_is_in_the_changes_feed(
        world: World, client_for: Callable[[str], APIClient]) -> None:
    backstop = services.condition_create(actor=world.secretariat, coalition=world.coalition,
                                         name="United States backstop")
    pledge = troops(world, 100)
    troops(world, 5)
    pl = client_for("ministry_pl")
    caveat = pl.post("/api/v1/caveats/", {"pledge": pledge.pk, "kind": "condition", "text": "US backstop",
                                          "condition": backstop.pk}, format="json")
    assert caveat.status_code == 201, caveat.content
    assert caveat.json()["condition"] == backstop.pk
    analyst = client_for("analyst")
    before = force(analyst, world)
    assert before["categories"][0]["confirmed"] == 105
    [line] = before["conditions"]
    assert (line["name"], line["status"], line["capabilities"][0]["committed"]) == ("United States backstop",
                                                                                   "open", 100)
    scenario = force(analyst, world, assume=f"{backstop.pk}:failed")
    assert scenario["categories"][0]["confirmed"] == 5 and scenario["assumed"] == {str(backstop.pk): "failed"}
    assert Condition.objects.get(pk=backstop.pk).status == "open"  # assuming wrote nothing
    assert force(analyst, world)["categories"][0]["confirmed"] == 105  # and the kept answer is not the scenario's
    services.condition_update(actor=world.secretariat, condition=backstop, status="failed")
    assert force(analyst, world)["categories"][0]["confirmed"] == 5
    # One test transaction dates every event alike: the naming is moved two hours back, before `since`.
    named, decided = backstop.events.order_by("pgh_id")
    backstop.events.filter(pgh_id=named.pgh_id).update(pgh_created_at=decided.pgh_created_at - dt.timedelta(hours=2))
    since = decided.pgh_created_at - dt.timedelta(hours=1)
    changes = analyst.get("/api/v1/pledges/changes/", {"since": since.isoformat()}).json()["conditions"]
    assert [(c["condition_id"], c["kind"], c["status_before"], c["status_after"]) for c in changes] == [
        (backstop.pk, "decided", "open", "failed")]
    everything = analyst.get("/api/v1/pledges/changes/", {"since": "2000-01-01T00:00:00Z"}).json()["conditions"]
    assert [(c["kind"], c["status_after"]) for c in everything] == [("named", "failed")]
    assert client_for("ministry_us").get("/api/v1/pledges/changes/", {"since": "2000-01-01T00:00:00Z"}) \
        .json()["conditions"] == []  # not a member of the coalition
    history = [e.status for e in backstop.events.order_by("pgh_id")]
    assert history == ["open", "failed"]


def test_a_caveat_naming_a_foreign_or_unseen_condition_is_a_400(world: World,
                                                                client_for: Callable[[str], APIClient]) -> None:
    foreign = services.condition_create(actor=world.secretariat, coalition=world.other_coalition, name="F")
    own = services.condition_create(actor=world.secretariat, coalition=world.coalition, name="Own")
    pledge = troops(world, 1)
    pl = client_for("ministry_pl")
    for body in ({"kind": "condition", "condition": foreign.pk}, {"kind": "geographic", "condition": own.pk},
                 {"kind": "condition", "condition": 999999}):
        answer = pl.post("/api/v1/caveats/", {"pledge": pledge.pk, "text": "t", **body}, format="json")
        assert answer.status_code == 400 and "condition" in answer.json(), answer.content
