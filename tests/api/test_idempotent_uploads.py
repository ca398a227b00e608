"""An Idempotency-Key compares what a write means (its fields, the digests of its files), not its bytes: an upload
retried with a new multipart boundary is answered its first answer, through a browser session (CSRF) and a token
alike, and every refusal of an upload is JSON."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import encode_multipart
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from idempotency.models import IdempotentRequest
from idempotency.services import fingerprint
from imports.models import Import
from pledges.models import Caveat
from tests.conftest import World
from tests.factories import TEST_PASSWORD
from tests.imports.helpers import workbook

HEADER = ["id", "version", "country", "category", "unit", "quantity", "status", "releasability", "description",
          "location", "place", "available_from", "available_until", "notice_to_move_days", "estimated_value_eur",
          "caveats"]
UPLOAD = "/api/v1/imports/"


def session_client(world: World) -> APIClient:
    """ministry-pl signed in through the admin's session, CSRF checked: the browser's way."""
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.ministry_pl)
    client.get("/admin/")  # any page with a form sets the CSRF cookie
    client.defaults["HTTP_X_CSRFTOKEN"] = client.cookies[settings.CSRF_COOKIE_NAME].value
    return client


def token_client(world: World) -> APIClient:
    client = APIClient()
    token = client.post("/api/v1/auth/token/", {"username": world.ministry_pl.username, "password": TEST_PASSWORD},
                        format="json").json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


CLIENTS: dict[str, Callable[[World], APIClient]] = {"session": session_client, "token": token_client}


@pytest.fixture(params=list(CLIENTS))
def client(request: pytest.FixtureRequest, world: World) -> APIClient:
    return CLIENTS[request.param](world)


def multipart(client: APIClient, fields: dict[str, Any], key: str | None = None, path: str = UPLOAD) -> Any:
    """POST `fields` as multipart with a boundary of its own, as each retry of a real client makes."""
    boundary = f"----retry{uuid.uuid4().hex}"
    headers: dict[str, Any] = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    for value in fields.values():
        if hasattr(value, "seek"):
            value.seek(0)
    return client.post(path, encode_multipart(boundary, fields),
                       content_type=f"multipart/form-data; boundary={boundary}", **headers)


def sheet(name: str = "pledges.xlsx", quantity: int = 5) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, workbook([HEADER, [None, None, "PL", "troops", "personnel", quantity, "draft"]]))


def test_an_upload_retried_with_a_new_boundary_is_answered_its_first_answer(world: World, client: APIClient) -> None:
    k, file = str(uuid.uuid4()), sheet()
    first = multipart(client, {"file": file, "coalition": world.coalition.pk}, k)
    assert first.status_code == 201, first.content
    again = multipart(client, {"coalition": world.coalition.pk, "file": file}, k)  # fields in another order too
    assert again.status_code == 201, again.content
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Import.objects.count() == 1
    # without the key the same file is a second preview, as before
    assert multipart(client, {"file": file, "coalition": world.coalition.pk}).status_code == 201
    assert Import.objects.count() == 2


def test_another_file_or_field_under_the_same_key_is_a_422(world: World, client: APIClient) -> None:
    k, file = str(uuid.uuid4()), sheet()
    assert multipart(client, {"file": file, "coalition": world.coalition.pk}, k).status_code == 201
    for fields in ({"file": sheet(quantity=6), "coalition": world.coalition.pk},  # other bytes
                   {"file": sheet("other.xlsx"), "coalition": world.coalition.pk},  # other name
                   {"file": file, "coalition": world.other_coalition.pk}):  # other field
        response = multipart(client, fields, k)
        assert response.status_code == 422, response.content
        assert "different request" in response.json()["detail"]
    assert Import.objects.count() == 1


def test_a_file_just_under_the_limit_is_answered_in_json_with_a_key_as_without(world: World,
                                                                               client: APIClient) -> None:
    """Its multipart body is larger than Django's in-memory limit: the key must not read the raw body."""
    file = SimpleUploadedFile("big.xlsx", b"x" * (settings.IMPORT_MAX_BYTES - 100))
    assert len(encode_multipart("b", {"file": file, "coalition": world.coalition.pk})) > max(
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE, settings.FILE_UPLOAD_MAX_MEMORY_SIZE)
    without = multipart(client, {"file": file, "coalition": world.coalition.pk})
    with_key = multipart(client, {"file": file, "coalition": world.coalition.pk}, str(uuid.uuid4()))
    assert with_key["Content-Type"] == without["Content-Type"] == "application/json"
    assert (with_key.status_code, with_key.json()) == (without.status_code, without.json())
    assert without.status_code == 400 and "file" in without.json()
    assert not Import.objects.exists() and not IdempotentRequest.objects.exists()


@pytest.mark.parametrize("fields", [
    pytest.param(lambda: {"coalition": "1" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}, id="a field too large"),
    pytest.param(lambda: {f"f{n}": "x" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)},
                 id="too many fields"),
    pytest.param(lambda: {"file": [SimpleUploadedFile(f"{n}.csv", b"x")
                                   for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)]},
                 id="too many files"),
])
@pytest.mark.parametrize("keyed", [False, True], ids=["without key", "with key"])
def test_every_refusal_of_a_multipart_body_is_json(world: World, client: APIClient,
                                                   fields: Callable[[], dict[str, Any]], keyed: bool) -> None:
    response = multipart(client, fields(), str(uuid.uuid4()) if keyed else None)
    assert response.status_code in (400, 413), response.content[:300]
    assert response["Content-Type"] == "application/json" and response.json()["detail"]
    assert not Import.objects.exists() and not IdempotentRequest.objects.exists()


def test_json_bodies_replay_whatever_their_key_order_or_spacing(world: World, client: APIClient) -> None:
    k = str(uuid.uuid4())
    body = {"coalition": world.coalition.pk, "kind": "other", "text": "Only in daylight."}
    first = client.post("/api/v1/caveats/", json.dumps(body), content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY=k)
    assert first.status_code == 201, first.content
    spaced = json.dumps(dict(reversed(body.items())), indent=4)
    again = client.post("/api/v1/caveats/", spaced, content_type="application/json", HTTP_IDEMPOTENCY_KEY=k)
    assert (again.status_code, again.json()) == (201, first.json()) and again["Idempotent-Replayed"] == "true"
    other = client.post("/api/v1/caveats/", json.dumps({**body, "text": "At night."}),
                        content_type="application/json", HTTP_IDEMPOTENCY_KEY=k)
    assert other.status_code == 422
    assert Caveat.objects.filter(text="Only in daylight.").count() == 1 and not Caveat.objects.filter(
        text="At night.").exists()


def test_a_key_stored_before_the_fingerprint_of_meaning_still_replays_its_json_write(
        world: World, client: APIClient) -> None:
    """Answers kept across the upgrade (a fingerprint of the raw bytes, marked by migration 0002) are compared as
    they were made, so a retry sent across a deploy is not refused."""
    from idempotency.services import raw_fingerprint

    k, path = str(uuid.uuid4()), "/api/v1/caveats/"
    raw = json.dumps({"coalition": world.coalition.pk, "kind": "other", "text": "Kept across the upgrade."})
    first = client.post(path, raw, content_type="application/json", HTTP_IDEMPOTENCY_KEY=k)
    assert first.status_code == 201
    IdempotentRequest.objects.filter(key=k).update(fingerprint="raw:" + raw_fingerprint("POST", path, raw.encode()))
    again = client.post(path, raw, content_type="application/json", HTTP_IDEMPOTENCY_KEY=k)
    assert (again.status_code, again.json()) == (201, first.json())
    other = client.post(path, raw.replace("upgrade", "deploy"), content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY=k)
    assert other.status_code == 422
    assert Caveat.objects.filter(text__startswith="Kept across").count() == 1


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


def shuffled(value: Any, seed: int) -> Any:
    """The same JSON with every object's keys in another order."""
    if isinstance(value, dict):
        keys = sorted(value, key=lambda name: hash((name, seed)))
        return {name: shuffled(value[name], seed) for name in keys}
    if isinstance(value, list):
        return [shuffled(item, seed) for item in value]
    return value


@hypothesis_settings(max_examples=200, deadline=None, database=None, derandomize=True)
@given(body=JSON, other=JSON, seed=st.integers())
def test_the_fingerprint_is_the_meaning_of_any_json(body: Any, other: Any, seed: int) -> None:
    """Key order never matters; any other value is another request."""
    asked = fingerprint(method="POST", path="/api/v1/caveats/", query={}, data=body)
    assert fingerprint(method="POST", path="/api/v1/caveats/", query={}, data=shuffled(body, seed)) == asked
    # a parsed value and its round trip through JSON text are one meaning
    assert fingerprint(method="POST", path="/api/v1/caveats/", query={}, data=json.loads(json.dumps(body))) == asked
    if json.dumps(other, sort_keys=True) != json.dumps(body, sort_keys=True):
        assert fingerprint(method="POST", path="/api/v1/caveats/", query={}, data=other) != asked
    assert fingerprint(method="PUT", path="/api/v1/caveats/", query={}, data=body) != asked
    assert fingerprint(method="POST", path="/api/v1/caveats/", query={"a": ["1"]}, data=body) != asked
