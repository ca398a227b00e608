"""Bad input is a 4xx in JSON naming what is wrong, on every endpoint of its kind, never a 500.

Each test walks a whole class of endpoints from the OpenAPI schema (every operation taking a body, every paged
list, every serializer field naming a related object), so a new endpoint is covered as soon as it exists.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import LazySettings
from django.core.cache import cache
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers
from rest_framework.exceptions import ParseError
from rest_framework.test import APIClient

from tests.api.conftest import Scene
from tests.conftest import World
from tests.factories import TEST_PASSWORD, make_pledge
from utilities.api import IdField, RequestTooLarge
from utilities.api_parsers import JSONParser

DEEP = "[" * 1000 + "]" * 1000


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [(path, method, operation) for path, methods in schema["paths"].items()
            for method, operation in methods.items()]


@pytest.fixture
def scene(scene: Scene, world: World) -> Scene:
    """The API scene, with a meeting (an agenda item, an invitation) and a brief, so every path has an object."""
    from django.utils import timezone

    from meetings import services

    now = timezone.now()
    meeting = services.meeting_create(actor=world.secretariat, coalition=world.coalition, title="Ministerial",
                                      starts_at=now, ends_at=now)
    services.agenda_item_add(actor=world.secretariat, meeting=meeting, title="Opening")
    services.agenda_item_add(actor=world.secretariat, meeting=meeting, title="Force picture")
    services.invitation_set(actor=world.secretariat, meeting=meeting, country=world.pl)
    services.invitation_set(actor=world.secretariat, meeting=meeting, country=world.fr)
    services.brief_request(actor=world.secretariat, meeting=meeting, queue=False)
    services.brief_request(actor=world.secretariat, meeting=meeting, queue=False)
    scene.meeting = meeting  # type: ignore[attr-defined]
    return scene


def concrete(path: str, world: World, scene: Scene) -> str:
    """The schema's path with the ids of real objects of its resource."""
    from meetings.models import AgendaItem, Brief

    meeting = scene.meeting  # type: ignore[attr-defined]
    ids = {"pledges": scene.released.pk, "caveats": scene.caveat.pk, "requirements": scene.requirement.pk,
           "coalitions": world.coalition.pk, "meetings": meeting.pk,
           "briefs": Brief.objects.filter(meeting=meeting).first().pk}  # type: ignore[union-attr]
    resource = path.split("/")[3]
    values = {"id": ids.get(resource), "pk": ids.get(resource), "code": "PL", "country_code": "PL",
              "item_id": AgendaItem.objects.filter(meeting=meeting).first().pk}  # type: ignore[union-attr]
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), path)


@pytest.mark.parametrize("role", ["anonymous", "ministry_pl", "secretariat"])
def test_json_nested_a_thousand_deep_is_a_400_on_every_endpoint_taking_a_body(
    world: World, scene: Scene, client_for: Callable[[str], APIClient], role: str
) -> None:
    client = client_for(role)
    tried = 0
    for path, method, operation in operations():
        if "requestBody" not in operation:
            continue
        tried += 1
        response = getattr(client, method)(concrete(path, world, scene), DEEP, content_type="application/json")
        assert response.status_code < 500, (method, path, response.status_code)
        assert response["Content-Type"].startswith("application/json"), (method, path)
        if response.status_code == 400:
            assert "nested deeper" in response.json()["detail"]
    assert tried >= 15
    login = Client().post("/api/v1/auth/token/", DEEP, content_type="application/json")
    assert login.status_code == 400 and "nested deeper" in login.json()["detail"]


def test_deep_json_is_refused_in_production_settings_too(world: World, settings: LazySettings) -> None:
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    response = client.post("/api/v1/auth/token/", DEEP, content_type="application/json")
    assert response.status_code == 400 and response["Content-Type"] == "application/json"


def test_a_body_over_the_limit_is_a_413_in_json(world: World, client_for: Callable[[str], APIClient],
                                                  settings: LazySettings) -> None:
    big = '{"text": "' + "x" * (10 * 1024 * 1024) + '"}'
    for client, path in ((client_for("ministry_pl"), "/api/v1/caveats/"), (Client(), "/api/v1/auth/token/")):
        response = client.post(path, big, content_type="application/json")
        assert response.status_code == 413 and response["Content-Type"] == "application/json", path
        assert "larger than" in response.json()["detail"]
    admin = Client().post("/admin/login/", {"username": "x" * (10 * 1024 * 1024)})
    assert admin.status_code == 413


def test_the_parser_bounds_a_body_sent_without_its_length(settings: LazySettings) -> None:
    """Chunked uploads give no Content-Length: the parser itself reads no more than the limit."""
    settings.API_MAX_BODY_BYTES = 100
    with pytest.raises(RequestTooLarge):
        JSONParser().parse(io.BytesIO(b'{"a": "' + b"x" * 200 + b'"}'))
    with pytest.raises(ParseError):
        JSONParser().parse(io.BytesIO(("[" * 40 + "]" * 40).encode()))
    assert JSONParser().parse(io.BytesIO(b'{"a": [1, {"b": 2}]}')) == {"a": [1, {"b": 2}]}


@pytest.mark.parametrize("value", ["0", "-1", "abc", "1001", "1.5", " ", "1e2", "٣"])
def test_page_size_out_of_range_is_a_400_on_every_paged_list(
    world: World, scene: Scene, client_for: Callable[[str], APIClient], value: str
) -> None:
    client = client_for("secretariat")
    lists = [(path, {p["name"] for p in operation.get("parameters", [])}) for path, method, operation in operations()
             if method == "get" and any(p["name"] == "page_size" for p in operation.get("parameters", []))]
    assert len(lists) >= 7
    for path, parameters in lists:
        required = {"since": "2020-01-01"} if "since" in parameters else {}
        response = client.get(concrete(path, world, scene), {**required, "page_size": value})
        assert response.status_code == 400 and "page_size" in response.json(), (path, value, response.content)
        if "page" in parameters:
            response = client.get(concrete(path, world, scene), {"page": value if value != "1001" else "0"})
            assert response.status_code == 400 and "page" in response.json(), (path, value, response.content)
    ok = client.get("/api/v1/pledges/", {"page_size": "1000", "page": "1"})
    assert ok.status_code == 200
    assert client.get("/api/v1/pledges/", {"page": "99"}).status_code == 404  # past the last page


@pytest.mark.parametrize("value", [1.5, True, "1e0", "1.5", "", None, [1], {"id": 1}])
def test_an_id_must_be_a_whole_number(world: World, client_for: Callable[[str], APIClient], value: Any) -> None:
    body = {"coalition": value, "category": "troops", "unit": "personnel", "quantity": 10}
    response = client_for("ministry_pl").post("/api/v1/pledges/", body, format="json")
    assert response.status_code == 400 and "coalition" in response.json(), response.content
    ok = client_for("ministry_pl").post("/api/v1/pledges/", {**body, "coalition": str(world.coalition.pk)},
                                        format="json")
    assert ok.status_code == 201, ok.content


def test_every_related_field_of_the_api_takes_only_whole_ids() -> None:
    import meetings.api.serializers
    import pledges.api.serializers

    found = 0
    for module in (pledges.api.serializers, meetings.api.serializers):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, serializers.Serializer) and value.__module__ == (
                    module.__name__):
                for name, field in value(context={}).fields.items():
                    if isinstance(field, serializers.PrimaryKeyRelatedField) and not field.read_only:
                        found += 1
                        assert isinstance(field, IdField), f"{value.__name__}.{name}"
    assert found >= 5


def test_paging_with_any_ordering_gives_every_row_once(world: World, client_for: Callable[[str], APIClient]) -> None:
    """Many rows tie on each ordering field (same status, quantity, country...): the id breaks the ties."""
    for i in range(14):
        make_pledge(country=[world.pl, world.fr][i % 2], coalition=world.coalition, category=world.troops,
                    quantity=100 if i % 3 else 200, status=["indicative", "confirmed"][i % 2])
    client = client_for("analyst")
    total = client.get("/api/v1/pledges/", {"page_size": 1000}).json()["count"]
    assert total == 14
    for field in ("id", "country", "category", "quantity", "status", "updated_at", "created_at", "available_from"):
        for ordering in (field, f"-{field}", f"{field},-quantity"):
            seen: list[int] = []
            page = 1
            while True:
                response = client.get("/api/v1/pledges/", {"ordering": ordering, "page_size": 3, "page": page})
                assert response.status_code == 200
                seen += [row["id"] for row in response.json()["results"]]
                if not response.json()["next"]:
                    break
                page += 1
            assert len(seen) == len(set(seen)) == total, ordering


def test_every_list_orders_by_a_unique_key_last(world: World, scene: Scene,
                                                client_for: Callable[[str], APIClient]) -> None:
    """The default order of every paged list ends with a unique key: walking it in pages of 1 gives each row
    once."""
    client = client_for("secretariat")
    for path, method, operation in operations():
        if method != "get" or not any(p["name"] == "page_size" for p in operation.get("parameters", [])):
            continue
        url = concrete(path, world, scene)
        if "changes" in url:
            continue  # a cursor, not pages: tests/api/test_changes_cursor.py
        whole = client.get(url, {"page_size": 1000}).json()
        ids = [repr(row) for row in whole["results"]]
        walked = []
        for page in range(1, len(ids) + 1):
            walked += [repr(row) for row in client.get(url, {"page_size": 1, "page": page}).json()["results"]]
        assert walked == ids, path


def test_a_forged_forwarded_address_does_not_dodge_the_login_throttle(world: World) -> None:
    cache.clear()
    client = Client()
    answers = [
        client.post("/api/v1/auth/token/", {"username": "analyst", "password": "wrong"},
                    content_type="application/json", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}").status_code
        for i in range(15)
    ]
    cache.clear()
    assert 429 in answers, answers


def test_a_forged_forwarded_address_does_not_dodge_the_lockout(world: World, settings: LazySettings) -> None:
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    cache.clear()
    client = Client()
    for i in range(4):
        client.post("/admin/login/", {"username": "analyst", "password": "wrong"}, HTTP_X_FORWARDED_FOR=f"10.1.0.{i}")
    right = client.post("/admin/login/", {"username": "analyst", "password": TEST_PASSWORD},
                        HTTP_X_FORWARDED_FOR="10.1.0.99")
    assert right.status_code in (403, 429) or "locked" in right.content.decode().lower()
    cache.clear()


def test_a_configured_proxy_is_believed(world: World, settings: LazySettings) -> None:
    from django.test import RequestFactory

    from utilities.middleware import client_ip

    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="203.0.113.7, 198.51.100.2", REMOTE_ADDR="10.0.0.1")
    assert client_ip(request) == "10.0.0.1"
    settings.TRUSTED_PROXIES = 1
    assert client_ip(request) == "198.51.100.2"
