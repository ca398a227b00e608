"""Idempotent retries: `Idempotency-Key` on every write of the API; the first answer again, nothing written twice."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from idempotency.models import IdempotentRequest
from meetings.models import Brief
from pledges.models import Caveat, Pledge
from tests.api.conftest import Scene
from tests.conftest import World


def key() -> str:
    return str(uuid.uuid4())


def test_the_same_key_and_body_answer_the_first_answer_and_write_once(
    world: World, client_for: Callable[[str], APIClient]
) -> None:
    client, k = client_for("ministry_pl"), key()
    body = {"coalition": world.coalition.pk, "kind": "other", "text": "Only in daylight."}
    first = client.post("/api/v1/caveats/", body, format="json", HTTP_IDEMPOTENCY_KEY=k)
    again = client.post("/api/v1/caveats/", body, format="json", HTTP_IDEMPOTENCY_KEY=k)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["ETag"] == first["ETag"]
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert Caveat.objects.filter(text="Only in daylight.").count() == 1
    # without a key, a second POST is a second caveat, as before
    client.post("/api/v1/caveats/", body, format="json")
    assert Caveat.objects.filter(text="Only in daylight.").count() == 2


def test_the_same_key_with_another_body_is_a_422_and_writes_nothing(
    world: World, client_for: Callable[[str], APIClient]
) -> None:
    client, k = client_for("ministry_pl"), key()
    body = {"coalition": world.coalition.pk, "kind": "other", "text": "First."}
    assert client.post("/api/v1/caveats/", body, format="json", HTTP_IDEMPOTENCY_KEY=k).status_code == 201
    other = client.post("/api/v1/caveats/", {**body, "text": "Second."}, format="json", HTTP_IDEMPOTENCY_KEY=k)
    assert other.status_code == 422 and "different request" in other.json()["detail"]
    assert not Caveat.objects.filter(text="Second.").exists()
    elsewhere = client.post(f"/api/v1/caveats/{Caveat.objects.get().pk}/lift/", {}, format="json",
                            HTTP_IDEMPOTENCY_KEY=k)
    assert elsewhere.status_code == 422


def test_keys_belong_to_their_user_and_last_a_day(world: World, client_for: Callable[[str], APIClient]) -> None:
    k = key()
    body = {"coalition": world.coalition.pk, "kind": "other", "text": "Shared key."}
    assert client_for("ministry_pl").post("/api/v1/caveats/", body, format="json",
                                          HTTP_IDEMPOTENCY_KEY=k).status_code == 201
    assert client_for("ministry_fr").post("/api/v1/caveats/", body, format="json",
                                          HTTP_IDEMPOTENCY_KEY=k).status_code == 201
    assert Caveat.objects.filter(text="Shared key.").count() == 2
    IdempotentRequest.objects.update(created_at=timezone.now() - dt.timedelta(hours=25))
    assert client_for("ministry_pl").post("/api/v1/caveats/", body, format="json",
                                          HTTP_IDEMPOTENCY_KEY=k).status_code == 201
    assert Caveat.objects.filter(text="Shared key.").count() == 3
    from idempotency.services import purge_expired

    assert purge_expired() == 1  # FR's, a day old; PL's new one stays
    assert IdempotentRequest.objects.count() == 1


def test_a_refused_write_keeps_no_answer_so_its_corrected_retry_is_written(
    world: World, client_for: Callable[[str], APIClient]
) -> None:
    client, k = client_for("ministry_pl"), key()
    refused = client.post("/api/v1/caveats/", {"coalition": world.coalition.pk, "kind": "whim", "text": "x"},
                          format="json", HTTP_IDEMPOTENCY_KEY=k)
    assert refused.status_code == 400 and not IdempotentRequest.objects.exists()
    fixed = client.post("/api/v1/caveats/", {"coalition": world.coalition.pk, "kind": "other", "text": "x"},
                        format="json", HTTP_IDEMPOTENCY_KEY=k)
    assert fixed.status_code == 201


@pytest.mark.parametrize("bad", ["", " ", "a b", "é", "x" * 256])
def test_a_malformed_key_is_a_400_naming_the_header(world: World, client_for: Callable[[str], APIClient],
                                                     bad: str) -> None:
    response = client_for("ministry_pl").post(
        "/api/v1/caveats/", {"coalition": world.coalition.pk, "kind": "other", "text": "x"}, format="json",
        HTTP_IDEMPOTENCY_KEY=bad)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()
    assert not Caveat.objects.exists()


def test_every_kind_of_write_replays(world: World, scene: Scene, client_for: Callable[[str], APIClient]) -> None:
    """A retried write of each kind, with its key, writes once: pledge created, moved, changed; requirement
    set; meeting created; invitation, agenda item; a brief asked for (not two briefs); a caveat lifted."""
    pl, sec = client_for("ministry_pl"), client_for("secretariat")

    def twice(client: APIClient, method: str, path: str, body: Any = None, **headers: str) -> Any:
        k = key()
        first = getattr(client, method)(path, body, format="json", HTTP_IDEMPOTENCY_KEY=k, **headers)
        again = getattr(client, method)(path, body, format="json", HTTP_IDEMPOTENCY_KEY=k, **headers)
        assert 200 <= first.status_code < 300, (path, first.content)
        assert (again.status_code, again.content) == (first.status_code, first.content), path
        return first

    created = twice(pl, "post", "/api/v1/pledges/", {"coalition": world.coalition.pk, "category": "troops",
                                                      "unit": "personnel", "quantity": 7}).json()
    assert Pledge.objects.filter(quantity=7).count() == 1
    moved = twice(pl, "post", f"/api/v1/pledges/{created['id']}/transition/", {"status": "indicative"},
                  HTTP_IF_MATCH=f'"{created["id"]}-1"')
    assert moved.json()["version"] == 2
    twice(pl, "patch", f"/api/v1/pledges/{created['id']}/", {"quantity": 8}, HTTP_IF_MATCH=moved["ETag"])
    assert Pledge.objects.get(pk=created["id"]).version == 3
    twice(pl, "post", f"/api/v1/caveats/{scene.caveat.pk}/lift/", {})
    twice(sec, "post", "/api/v1/requirements/", {"coalition": world.coalition.pk, "category": "air",
                                                  "unit": "aircraft", "quantity": 12})
    meeting = twice(sec, "post", "/api/v1/meetings/", {
        "coalition": world.coalition.pk, "title": "Retried", "starts_at": "2030-01-01T09:00:00Z",
        "ends_at": "2030-01-01T12:00:00Z"}).json()
    twice(sec, "post", f"/api/v1/meetings/{meeting['id']}/invitations/", {"country": "PL"})
    twice(sec, "post", f"/api/v1/meetings/{meeting['id']}/agenda/", {"title": "Opening"})
    brief = twice(sec, "post", f"/api/v1/meetings/{meeting['id']}/briefs/")
    assert brief.status_code == 202 and Brief.objects.filter(meeting_id=meeting["id"]).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_with_one_key_write_once(world: World) -> None:
    """The second waits on the first's key and then replays its answer."""
    k = key()
    body = {"coalition": world.coalition.pk, "kind": "other", "text": "Concurrent."}
    answers: list[tuple[int, Any]] = []

    def send() -> None:
        client = APIClient()
        client.force_authenticate(world.ministry_pl)
        try:
            response = client.post("/api/v1/caveats/", body, format="json", HTTP_IDEMPOTENCY_KEY=k)
            answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [code for code, _ in answers] == [201] * 6
    assert len({body["id"] for _, body in answers}) == 1
    assert Caveat.objects.filter(text="Concurrent.").count() == 1
