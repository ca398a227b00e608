"""The deliveries resource, the pledge's delivery and currency figures, reconfirm, force rows and changes."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from pledges import services
from pledges.models import Delivery, Pledge
from tests.conftest import World
from tests.factories import make_pledge
from tests.http import content_of
from utilities.versioning import SystemActor


def day(days: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


@pytest.fixture
def released(world: World) -> Pledge:
    """PL: 10 aircraft, confirmed, released to the coalition."""
    return make_pledge(country=world.pl, coalition=world.coalition, category=world.air, unit=world.aircraft,
                       quantity=10, status="confirmed", releasability="coalition")


def test_ministry_staff_plan_and_record_tranches_and_everyone_who_sees_the_pledge_sees_them(
    world: World, released: Pledge, client_for: Callable[[str], APIClient]
) -> None:
    pl = client_for("ministry_pl")
    first = pl.post("/api/v1/deliveries/", {"pledge": released.pk, "quantity": 4, "planned_on": day(-20),
                                            "delivered_on": day(-19), "note": "First four."}, format="json")
    assert first.status_code == 201, first.content
    assert first.json() | {"created_at": None, "updated_at": None} == {
        "id": first.json()["id"], "pledge": released.pk, "country": "PL", "unit": "aircraft", "quantity": 4,
        "planned_on": day(-20), "delivered_on": day(-19), "note": "First four.", "is_overdue": False, "version": 1,
        "created_at": None, "updated_at": None}
    late = pl.post("/api/v1/deliveries/", {"pledge": released.pk, "quantity": 3, "planned_on": day(-2)},
                   format="json").json()
    assert late["is_overdue"] is True
    pl.post("/api/v1/deliveries/", {"pledge": released.pk, "quantity": 3, "planned_on": day(30)}, format="json")

    for role in ("analyst", "secretariat", "ministry_fr"):  # FR sees it: the pledge is released to the coalition
        listed = client_for(role).get("/api/v1/deliveries/", {"pledge": released.pk}).json()
        assert [t["quantity"] for t in listed["results"]] == [4, 3, 3], role
    pledge = client_for("analyst").get(f"/api/v1/pledges/{released.pk}/").json()
    assert (pledge["delivered_quantity"], pledge["has_overdue_delivery"], pledge["is_stale"]) == (4, True, False)
    assert pledge["reconfirmed_at"] is not None

    # Recording the late one: PATCH with If-Match; a stale ETag is a 412 and changes nothing.
    detail = pl.get(f"/api/v1/deliveries/{late['id']}/")
    stale = pl.patch(f"/api/v1/deliveries/{late['id']}/", {"delivered_on": day(0)}, format="json",
                     HTTP_IF_MATCH=f'"{late["id"]}-9"')
    assert stale.status_code == 412
    done = pl.patch(f"/api/v1/deliveries/{late['id']}/", {"delivered_on": day(0)}, format="json",
                    HTTP_IF_MATCH=detail["ETag"])
    assert done.status_code == 200 and done.json()["is_overdue"] is False and done.json()["version"] == 2
    assert client_for("analyst").get(f"/api/v1/pledges/{released.pk}/").json()["delivered_quantity"] == 7


def test_filters_and_csv(world: World, released: Pledge, client_for: Callable[[str], APIClient]) -> None:
    fr = make_pledge(country=world.fr, coalition=world.other_coalition, quantity=5, status="indicative")
    services.delivery_plan(actor=world.ministry_pl, pledge=released, quantity=2, planned_on=timezone.localdate(),
                           delivered_on=timezone.localdate())
    services.delivery_plan(actor=world.ministry_pl, pledge=released, quantity=2,
                           planned_on=timezone.localdate() - dt.timedelta(days=3))
    services.delivery_plan(actor=world.ministry_fr, pledge=fr, quantity=1,
                           planned_on=timezone.localdate() + dt.timedelta(days=3))
    analyst = client_for("analyst")

    def quantities(**params: object) -> list[tuple[str, int]]:
        rows = analyst.get("/api/v1/deliveries/", params).json()["results"]
        return [(row["country"], row["quantity"]) for row in rows]

    assert quantities(country="PL") == [("PL", 2), ("PL", 2)]
    assert quantities(coalition=world.other_coalition.pk) == [("FR", 1)]
    assert quantities(delivered="true") == [("PL", 2)]
    assert quantities(delivered="false", country="PL") == [("PL", 2)]
    assert quantities(overdue="true") == [("PL", 2)]
    assert len(quantities(overdue="false")) == 2
    assert analyst.get("/api/v1/deliveries/", {"overdue": "maybe"}).status_code == 400
    table = list(csv.reader(io.StringIO(content_of(analyst.get("/api/v1/deliveries/", {"format": "csv"})).decode())))
    assert table[0] == ["id", "pledge", "country", "unit", "quantity", "planned_on", "delivered_on", "note",
                        "is_overdue", "version", "created_at", "updated_at"]
    assert len(table) == 4
    assert [p["id"] for p in analyst.get("/api/v1/pledges/", {"overdue": "true"}).json()["results"]] == [released.pk]


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"quantity": 11}, "quantity", "at most 10"),
    ({"quantity": 0}, "quantity", "greater than or equal to 1"),
    ({"delivered_on": "tomorrow"}, "delivered_on", "still to come"),
    ({"planned_on": "1800-01-01"}, "planned_on", "between the years"),
    ({"note": "x" * 10_001}, "note", "10000"),
])
def test_bad_tranches_are_a_400_naming_the_field(world: World, released: Pledge,
                                                 client_for: Callable[[str], APIClient], body: dict, field: str,
                                                 words: str) -> None:
    if body.get("delivered_on") == "tomorrow":
        body = {**body, "delivered_on": day(1)}
    response = client_for("ministry_pl").post(
        "/api/v1/deliveries/", {"pledge": released.pk, "quantity": 1, "planned_on": day(0), **body}, format="json")
    assert response.status_code == 400 and field in response.json(), response.content
    assert words in str(response.json()[field])
    assert not Delivery.objects.exists()


@pytest.mark.parametrize("status", ["draft", "withdrawn"])
def test_a_tranche_on_a_pledge_not_offered_is_a_400(world: World, client_for: Callable[[str], APIClient],
                                                    status: str) -> None:
    pledge = make_pledge(country=world.pl, coalition=world.coalition, status=status)
    response = client_for("ministry_pl").post(
        "/api/v1/deliveries/", {"pledge": pledge.pk, "quantity": 1, "planned_on": day(0)}, format="json")
    assert response.status_code == 400 and "pledge" in response.json()


def test_another_countrys_pledge_and_tranche_are_404(world: World, released: Pledge,
                                                    client_for: Callable[[str], APIClient]) -> None:
    tranche = services.delivery_plan(actor=world.ministry_pl, pledge=released, quantity=1,
                                     planned_on=timezone.localdate())
    fr = client_for("ministry_fr")  # sees the released pledge and its tranche, may change neither
    assert fr.get(f"/api/v1/deliveries/{tranche.pk}/").status_code == 200
    assert fr.post("/api/v1/deliveries/", {"pledge": released.pk, "quantity": 1, "planned_on": day(0)},
                   format="json").status_code == 404
    assert fr.patch(f"/api/v1/deliveries/{tranche.pk}/", {"quantity": 2}, format="json").status_code == 404
    assert fr.delete(f"/api/v1/deliveries/{tranche.pk}/").status_code == 404
    assert client_for("analyst").post("/api/v1/deliveries/", {"pledge": released.pk, "quantity": 1,
                                                             "planned_on": day(0)}, format="json").status_code == 403
    secret = make_pledge(country=world.pl, coalition=world.coalition, status="confirmed")
    hidden = services.delivery_plan(actor=world.ministry_pl, pledge=secret, quantity=1,
                                    planned_on=timezone.localdate())
    assert fr.get(f"/api/v1/deliveries/{hidden.pk}/").status_code == 404
    assert Delivery.objects.get(pk=tranche.pk).quantity == 1


def test_reconfirm_through_the_api(world: World, released: Pledge, client_for: Callable[[str], APIClient]) -> None:
    services.pledge_reconfirm(actor=SystemActor("test"), system=True, pledge=released,
                              at=timezone.now() - dt.timedelta(days=400))
    pl, analyst = client_for("ministry_pl"), client_for("analyst")
    assert analyst.get("/api/v1/pledges/", {"stale": "true"}).json()["count"] == 1
    etag = pl.get(f"/api/v1/pledges/{released.pk}/")["ETag"]
    assert pl.post(f"/api/v1/pledges/{released.pk}/reconfirm/", {}, format="json",
                   HTTP_IF_MATCH='"1-1"').status_code == 412
    done = pl.post(f"/api/v1/pledges/{released.pk}/reconfirm/", {}, format="json", HTTP_IF_MATCH=etag)
    assert done.status_code == 200 and done.json()["is_stale"] is False
    assert analyst.get("/api/v1/pledges/", {"stale": "true"}).json()["count"] == 0
    assert client_for("ministry_fr").post(f"/api/v1/pledges/{released.pk}/reconfirm/", {},
                                          format="json").status_code == 403
    assert analyst.post(f"/api/v1/pledges/{released.pk}/reconfirm/", {}, format="json").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_force_rows_and_changes_carry_deliveries(world: World, client_for: Callable[[str], APIClient]) -> None:
    released = make_pledge(country=world.pl, coalition=world.coalition, category=world.air, unit=world.aircraft,
                           quantity=10, status="confirmed", releasability="coalition")
    since = timezone.now()
    services.delivery_plan(actor=world.ministry_pl, pledge=released, quantity=4, planned_on=timezone.localdate(),
                           delivered_on=timezone.localdate())
    services.delivery_plan(actor=world.ministry_pl, pledge=released, quantity=2,
                           planned_on=timezone.localdate() - dt.timedelta(days=1))
    analyst = client_for("analyst")
    air = next(line for line in analyst.get(f"/api/v1/coalitions/{world.coalition.pk}/force/").json()["categories"]
               if line["category"] == "air")
    assert (air["delivered"], air["overdue"], air["stale"]) == (4, 2, 0)
    then = analyst.get(f"/api/v1/coalitions/{world.coalition.pk}/force/", {"as_of": since.isoformat()}).json()
    assert [(line["delivered"], line["overdue"]) for line in then["categories"] if line["category"] == "air"] == [
        (0, 0)]
    changes = analyst.get("/api/v1/pledges/changes/", {"since": since.isoformat()}).json()
    assert sorted((c["kind"], c["quantity_after"]) for c in changes["deliveries"]) == [("delivered", 4),
                                                                                       ("planned", 2)]
