"""PUT, on every resource, as a REST client expects it: offered wherever an object can be changed (beside PATCH,
with the same rules), nowhere else (405), and as the OpenAPI schema and OPTIONS say.

A PUT replaces what can be changed and takes back the object as it was read: the fields it cannot change (a
tranche's pledge, a pledge's country, ids, versions, figures) are accepted when they are what they are, and
refused (400 naming them) when they would move. A stale If-Match, or a representation of an older version, is a
412 and changes nothing. Each test walks the schema, so a new resource is covered as soon as it exists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from meetings import services as meeting_services
from outcomes import services as outcome_services
from places.models import Place
from pledges import services
from tests.conftest import World
from tests.factories import make_pledge


def schema_paths() -> dict[str, set[str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {path: {method for method in methods if method in ("get", "post", "put", "patch", "delete")}
            for path, methods in schema["paths"].items()}


@dataclass(frozen=True)
class Resource:
    role: str
    change: dict[str, Any]  # a PUT with this changes the object
    fixed: dict[str, Any]  # a PUT with this would move what cannot move: 400 naming the field
    meeting_etag: bool = False  # a part of a meeting: If-Match takes the meeting's ETag


# Every path that offers PUT, and how to change its object. A path offering PUT that is not here fails
# test_put_and_patch_are_offered_together_and_as_the_schema_says.
RESOURCES: dict[str, Resource] = {
    "/api/v1/pledges/{id}/": Resource("ministry_pl", {"description": "Replaced."}, {"country": "FR"}),
    "/api/v1/caveats/{id}/": Resource("ministry_pl", {"text": "Replaced."}, {"coalition": "other"}),
    "/api/v1/deliveries/{id}/": Resource("ministry_pl", {"note": "Replaced."}, {"pledge": "other"}),
    "/api/v1/requirements/{id}/": Resource("secretariat", {"notes": "Replaced."}, {"category": "air"}),
    "/api/v1/conditions/{id}/": Resource("secretariat", {"description": "Replaced."}, {"coalition": "other"}),
    "/api/v1/meetings/{id}/": Resource("secretariat", {"title": "Replaced."}, {"coalition": "other"}),
    "/api/v1/outcomes/{id}/": Resource("secretariat", {"note": "Replaced."}, {"meeting": "other"}),
    "/api/v1/meetings/{id}/invitations/{country_code}/": Resource(
        "secretariat", {"head_of_delegation": "Replaced."}, {"country": "FR"}, meeting_etag=True),
    "/api/v1/meetings/{id}/agenda/{item_id}/": Resource(
        "secretariat", {"title": "Replaced."}, {"id": 0}, meeting_etag=True),
}


@dataclass
class Objects:
    paths: dict[str, str]  # schema path -> a concrete one
    meeting: str
    other: dict[str, Any]  # "other" in Resource.fixed -> a real other value


@pytest.fixture
def objects(world: World, gazetteer: None) -> Objects:
    place = Place.objects.filter(country_code="PL", name="Rzeszów").order_by("-population").first()
    assert place is not None
    pledge = make_pledge(country=world.pl, coalition=world.coalition, category=world.air, unit=world.aircraft,
                         quantity=10, status="confirmed", description="Helicopters", location="Airport",
                         place=place, estimated_value_eur=Decimal("1250000.50"), available_from=dt.date(2026, 1, 1))
    other_pledge = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, quantity=5,
                               status="indicative")
    caveat = services.caveat_add(actor=world.ministry_pl, coalition=world.coalition, pledge=pledge, kind="geographic",
                                 text="Not east of the Dnipro.", rationale="Threat assessment")
    tranche = services.delivery_plan(actor=world.ministry_pl, pledge=pledge, quantity=4,
                                     planned_on=timezone.localdate() + dt.timedelta(days=30), note="First four.")
    requirement = services.requirement_set(actor=world.secretariat, coalition=world.coalition,
                                           category=world.troops, unit=world.personnel, quantity=1000, notes="SoR")
    condition = services.condition_create(actor=world.secretariat, coalition=world.coalition, name="Ceasefire",
                                          description="Holding.")
    now = timezone.now()
    meeting = meeting_services.meeting_create(actor=world.secretariat, coalition=world.coalition, title="Ministerial",
                                              starts_at=now + dt.timedelta(days=3),
                                              ends_at=now + dt.timedelta(days=3, hours=4), place="Brussels")
    meeting_services.invitation_set(actor=world.secretariat, meeting=meeting, country=world.pl,
                                    head_of_delegation="Minister")
    item = meeting_services.agenda_item_add(actor=world.secretariat, meeting=meeting, title="Opening")
    other_meeting = meeting_services.meeting_create(actor=world.secretariat, coalition=world.coalition,
                                                    title="Leaders", starts_at=now + dt.timedelta(days=9),
                                                    ends_at=now + dt.timedelta(days=9, hours=2))
    outcome = outcome_services.outcome_record(actor=world.secretariat, meeting=meeting, kind="action",
                                              text="Confirm the hub.", owner=world.pl,
                                              due_on=timezone.localdate() + dt.timedelta(days=20), note="Asked.")
    m = f"/api/v1/meetings/{meeting.pk}/"
    return Objects(
        paths={
            "/api/v1/pledges/{id}/": f"/api/v1/pledges/{pledge.pk}/",
            "/api/v1/caveats/{id}/": f"/api/v1/caveats/{caveat.pk}/",
            "/api/v1/deliveries/{id}/": f"/api/v1/deliveries/{tranche.pk}/",
            "/api/v1/requirements/{id}/": f"/api/v1/requirements/{requirement.pk}/",
            "/api/v1/conditions/{id}/": f"/api/v1/conditions/{condition.pk}/",
            "/api/v1/meetings/{id}/": m,
            "/api/v1/outcomes/{id}/": f"/api/v1/outcomes/{outcome.pk}/",
            "/api/v1/meetings/{id}/invitations/{country_code}/": f"{m}invitations/PL/",
            "/api/v1/meetings/{id}/agenda/{item_id}/": f"{m}agenda/{item.pk}/",
        },
        meeting=m,
        other={"/api/v1/deliveries/{id}/": other_pledge.pk, "/api/v1/caveats/{id}/": world.other_coalition.pk,
               "/api/v1/conditions/{id}/": world.other_coalition.pk,
               "/api/v1/meetings/{id}/": world.other_coalition.pk,
               "/api/v1/outcomes/{id}/": other_meeting.pk},
    )


def read(client: APIClient, path: str, resource: Resource, objects: Objects) -> tuple[dict[str, Any], str]:
    """The object as a client reads it, and the ETag its writes take."""
    response = client.get(path)
    assert response.status_code == 200, response.content
    etag = client.get(objects.meeting)["ETag"] if resource.meeting_etag else response["ETag"]
    return response.json(), etag


def test_put_and_patch_are_offered_together_and_as_the_schema_says(world: World, objects: Objects,
                                                                     client_for: Callable[[str], APIClient]) -> None:
    paths = schema_paths()
    assert {path for path, methods in paths.items() if "put" in methods} == set(RESOURCES)
    assert {path for path, methods in paths.items() if "patch" in methods} == set(RESOURCES)
    for path, resource in RESOURCES.items():
        allow = client_for(resource.role).options(objects.paths[path])["Allow"]
        assert {"PUT", "PATCH"} <= {method.strip() for method in allow.split(",")}, (path, allow)


def test_put_is_a_405_wherever_it_is_not_offered(world: World, client_for: Callable[[str], APIClient]) -> None:
    """Every other path of the schema, for a user who may write elsewhere (ids that need not exist: the method is
    refused before any lookup)."""
    for role in ("ministry_pl", "secretariat"):
        client = client_for(role)
        for path, methods in schema_paths().items():
            if "put" in methods:
                continue
            concrete = (path.replace("{id}", "1").replace("{item_id}", "1").replace("{code}", "PL")
                        .replace("{country_code}", "PL"))
            response = client.put(concrete, {}, format="json")
            assert response.status_code == 405, (role, path, response.status_code, response.content[:200])
            assert "PUT" not in response["Allow"]


@pytest.mark.parametrize("path", list(RESOURCES))
def test_put_takes_the_object_as_read_and_replaces_it(world: World, objects: Objects, path: str,
                                                      client_for: Callable[[str], APIClient]) -> None:
    resource, url = RESOURCES[path], objects.paths[path]
    client = client_for(resource.role)
    as_read, etag = read(client, url, resource, objects)

    same = client.put(url, as_read, format="json", HTTP_IF_MATCH=etag)
    assert same.status_code == 200, same.content
    assert read(client, url, resource, objects) == (as_read, etag)  # the object as read changes nothing

    changed = client.put(url, {**as_read, **resource.change}, format="json", HTTP_IF_MATCH=etag)
    assert changed.status_code == 200, changed.content
    after, new_etag = read(client, url, resource, objects)
    assert after == changed.json() and after | resource.change == after and new_etag != etag

    # the same through PATCH: the same rules
    patched = client.patch(url, {**after, **resource.change}, format="json", HTTP_IF_MATCH=new_etag)
    assert patched.status_code == 200, patched.content
    assert read(client, url, resource, objects) == (after, new_etag)


@pytest.mark.parametrize("path", list(RESOURCES))
def test_a_stale_put_is_a_412_and_changes_nothing(world: World, objects: Objects, path: str,
                                                  client_for: Callable[[str], APIClient]) -> None:
    resource, url = RESOURCES[path], objects.paths[path]
    client = client_for(resource.role)
    before, old_etag = read(client, url, resource, objects)
    assert client.patch(url, resource.change, format="json", HTTP_IF_MATCH=old_etag).status_code == 200
    now, etag = read(client, url, resource, objects)

    stale = client.put(url, {**before, **resource.change}, format="json", HTTP_IF_MATCH=old_etag)
    assert stale.status_code == 412, stale.content
    assert stale["Content-Type"] == "application/json" and stale.json()["detail"]
    if "version" in before:  # the representation of an older version, without If-Match: stale too
        older = client.put(url, {**before, **resource.change}, format="json")
        assert older.status_code == 412, older.content
    assert read(client, url, resource, objects) == (now, etag)


@pytest.mark.parametrize("path", list(RESOURCES))
@pytest.mark.parametrize("method", ["put", "patch"])
def test_what_cannot_move_is_a_400_naming_it(world: World, objects: Objects, path: str, method: str,
                                             client_for: Callable[[str], APIClient]) -> None:
    resource, url = RESOURCES[path], objects.paths[path]
    client = client_for(resource.role)
    as_read, etag = read(client, url, resource, objects)
    (field, value), = resource.fixed.items()
    moved = {**as_read, field: objects.other.get(path, value) if value == "other" else value}
    response = getattr(client, method)(url, moved, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert read(client, url, resource, objects) == (as_read, etag)
