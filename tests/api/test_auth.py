"""Tokens: create, use, revoke; 401 for anonymous; throttled login; sessions work too."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.conftest import World
from tests.factories import TEST_PASSWORD


def login(client: APIClient, username: str, password: str = TEST_PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")


def test_token_create_use_revoke(world: World) -> None:
    client = APIClient()
    response = login(client, "analyst")
    assert response.status_code == 200, response.content
    token, expiry = response.json()["token"], response.json()["expiry"]
    assert dt.datetime.fromisoformat(expiry) > timezone.now()
    stored = AuthToken.objects.get(user=world.analyst)
    assert token not in (stored.digest, stored.token_key) and stored.digest != token  # hashed at rest

    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/pledges/").status_code == 200

    assert client.post("/api/v1/auth/logout/").status_code == 204
    assert not AuthToken.objects.filter(user=world.analyst).exists()
    refused = client.get("/api/v1/pledges/")
    assert refused.status_code == 401 and refused["WWW-Authenticate"] == "Token"


def test_anonymous_and_bad_tokens_get_401(world: World) -> None:
    client = APIClient()
    response = client.get("/api/v1/pledges/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/v1/pledges/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION="Token")
    assert client.get("/api/v1/pledges/").status_code == 401


def test_expired_token_gets_401(world: World) -> None:
    instance, token = AuthToken.objects.create(user=world.analyst, expiry=dt.timedelta(hours=1))
    AuthToken.objects.filter(pk=instance.pk).update(expiry=timezone.now() - dt.timedelta(minutes=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/pledges/").status_code == 401


def test_an_expired_token_is_deleted_and_the_users_others_go_at_their_next_login(world: World) -> None:
    """The token check does not sweep the user's other tokens on every request (a query each time): an expired
    token is deleted when it is used, the others when the user next logs in; a live one is never touched."""
    live, live_token = AuthToken.objects.create(user=world.analyst, expiry=dt.timedelta(hours=1))
    used, used_token = AuthToken.objects.create(user=world.analyst, expiry=dt.timedelta(hours=1))
    idle, _ = AuthToken.objects.create(user=world.analyst, expiry=dt.timedelta(hours=1))
    AuthToken.objects.filter(pk__in=[used.pk, idle.pk]).update(expiry=timezone.now() - dt.timedelta(minutes=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {live_token}")
    assert client.get("/api/v1/pledges/").status_code == 200
    assert AuthToken.objects.filter(pk__in=[used.pk, idle.pk]).count() == 2, "not swept on every request"
    client.credentials(HTTP_AUTHORIZATION=f"Token {used_token}")
    assert client.get("/api/v1/pledges/").status_code == 401
    assert not AuthToken.objects.filter(pk=used.pk).exists()
    assert login(APIClient(), "analyst").status_code == 200
    assert not AuthToken.objects.filter(pk=idle.pk).exists()
    assert AuthToken.objects.filter(pk=live.pk).exists()


def test_wrong_password_and_inactive_user(world: World) -> None:
    response = login(APIClient(), "analyst", "wrong-password")
    assert response.status_code == 400
    assert "Unable to log in" in response.json()["non_field_errors"][0]
    assert login(APIClient(), "").status_code == 400
    world.analyst.is_active = False
    world.analyst.save()
    assert login(APIClient(), "analyst").status_code == 400


def test_login_is_throttled(world: World) -> None:
    client = APIClient()
    codes = [login(client, "analyst", "wrong-password").status_code for _ in range(10)]
    assert codes == [400] * 10
    throttled = login(client, "analyst")
    assert throttled.status_code == 429 and "Retry-After" in throttled


def test_session_auth_works_and_checks_csrf(world: World) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.ministry_pl)
    assert client.get("/api/v1/pledges/").status_code == 200
    response = client.post("/api/v1/pledges/", {"coalition": world.coalition.pk, "category": "troops",
                                                "unit": "personnel", "quantity": 5}, format="json")
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
