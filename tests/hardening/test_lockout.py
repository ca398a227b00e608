"""django-axes: repeated failed logins lock the username out, at the admin and at the API token login."""

from __future__ import annotations

import pytest
from django.conf import LazySettings
from django.core.cache import cache
from django.test import Client

from tests.conftest import World
from tests.factories import TEST_PASSWORD

LIMIT = 5


@pytest.fixture
def axes_on(settings: LazySettings) -> None:
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = LIMIT
    cache.clear()  # the login throttle's counters (this run's own Redis db)


def admin_login(client: Client, username: str, password: str):  # -> HttpResponse
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password})


def token_login(client: Client, username: str, password: str):  # -> HttpResponse
    return client.post("/api/v1/auth/token/", {"username": username, "password": password},
                       content_type="application/json")


def test_admin_login_locks_out_after_repeated_failures(client: Client, world: World, axes_on: None) -> None:
    for _ in range(LIMIT - 1):
        response = admin_login(client, "secretariat", "wrong-password")
        assert response.status_code == 200
        assert "Please enter the correct username and password" in response.content.decode()
    # Below the limit the right password still works, and resets the count.
    assert admin_login(client, "secretariat", TEST_PASSWORD).status_code == 302
    client.logout()

    for _ in range(LIMIT):
        admin_login(client, "secretariat", "wrong-password")
    locked = admin_login(client, "secretariat", TEST_PASSWORD)
    assert locked.status_code == 429
    assert "locked" in locked.content.decode().lower()
    assert client.get("/admin/").status_code == 302  # not signed in: sent to the login page


def test_lockout_is_per_username(client: Client, world: World, axes_on: None) -> None:
    for _ in range(LIMIT):
        admin_login(client, "secretariat", "wrong-password")
    assert admin_login(client, "analyst", TEST_PASSWORD).status_code == 302


def test_token_login_locks_out_after_repeated_failures(client: Client, world: World, axes_on: None) -> None:
    assert token_login(client, "analyst", TEST_PASSWORD).status_code == 200
    for _ in range(LIMIT):
        response = token_login(client, "analyst", "wrong-password")
        assert response.status_code in (400, 429)
        assert "token" not in response.json()
    locked = token_login(client, "analyst", TEST_PASSWORD)
    assert locked.status_code in (400, 403, 429)
    assert "token" not in locked.json()
