"""A long import is previewed and applied by a real Celery worker, with its progress, all rows or none."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts.models import User
from imports import services
from pledges.models import Pledge
from tests.conftest import World
from tests.imports.helpers import workbook
from tests.imports.test_api import HEADER
from tests.meetings.test_worker import Worker, start_worker  # noqa: F401 - the real worker fixture

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def wait_until(client: APIClient, import_id: int, done: str, worker: Worker) -> list[tuple[str, int | None]]:
    seen = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/imports/{import_id}/").json()
        seen.append((body["status"], body.get("progress")))
        if body["status"] in (done, "failed"):
            break
        time.sleep(0.2)
    assert seen[-1][0] == done, (seen[-5:], worker.output())
    return seen


def test_a_long_import_is_previewed_and_applied_by_a_worker(world: World, start_worker: Callable[..., Worker],  # noqa: F811
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "QUEUED_ABOVE", 100)  # in this process, where the request decides
    worker = start_worker()
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=world.ministry_pl.pk))
    rows = [[None, None, "PL", "troops", "personnel", 10 + n, "indicative"] for n in range(250)]
    preview = client.post("/api/v1/imports/", {"file": SimpleUploadedFile("long.xlsx", workbook([HEADER, *rows])),
                                               "coalition": world.coalition.pk}, format="multipart")
    assert preview.status_code == 201 and preview.json()["status"] == "previewing" and preview.json()["rows"] == []
    import_id = preview.json()["id"]
    assert client.post(f"/api/v1/imports/{import_id}/apply/").status_code == 400  # not before its preview
    wait_until(client, import_id, "previewed", worker)
    body = client.get(f"/api/v1/imports/{import_id}/").json()
    assert body["summary"]["create"] == 250 and len(body["rows"]) == 250 and not Pledge.objects.exists()
    queued = client.post(f"/api/v1/imports/{import_id}/apply/")
    assert queued.status_code == 202 and queued.json()["status"] == "applying"
    wait_until(client, import_id, "applied", worker)
    assert Pledge.objects.filter(country=world.pl).count() == 250
    assert client.post(f"/api/v1/imports/{import_id}/apply/").status_code == 200  # again: nothing more
    assert Pledge.objects.filter(country=world.pl).count() == 250
