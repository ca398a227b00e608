"""Review findings: a concurrent first requirement, the docs under the CSP, ETags on history reads, refused
input, out-of-range dates, form-encoded login and JSON 404s."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from pledges import services
from pledges.models import Requirement
from tests.api.conftest import Scene
from tests.conftest import World
from tests.factories import make_pledge
from utilities.api import exception_handler

# --- 1. concurrent first setting of a requirement ---------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_requirement_is_serialised_not_a_500(world: World) -> None:
    """A holds a new requirement uncommitted; B's POST for the same key waits for it, then updates (200)."""
    set_by_a, release_a = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    answer: dict[str, Any] = {}

    def writer_a() -> None:
        try:
            with transaction.atomic():
                services.requirement_set(actor=world.secretariat, coalition=world.coalition, category=world.troops,
                                         unit=world.personnel, quantity=1000)
                set_by_a.set()
                release_a.wait(10)
        except BaseException as error:
            errors.append(error)
            set_by_a.set()
        finally:
            connection.close()

    def writer_b() -> None:
        try:
            client = APIClient()
            client.force_authenticate(User.objects.get(pk=world.secretariat.pk))
            response = client.post("/api/v1/requirements/", {
                "coalition": world.coalition.pk, "category": "troops", "unit": world.personnel.code, "quantity": 1200,
            }, format="json")
            answer["status"], answer["body"] = response.status_code, response.json()
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    a = threading.Thread(target=writer_a)
    a.start()
    assert set_by_a.wait(10)
    b = threading.Thread(target=writer_b)
    b.start()
    time.sleep(0.7)  # B is now waiting for A's lock
    assert b.is_alive(), "B did not wait for A's uncommitted requirement"
    release_a.set()
    a.join(10)
    b.join(10)
    assert not errors, errors
    assert answer["status"] == 200, answer
    assert answer["body"]["quantity"] == 1200 and answer["body"]["version"] == 2
    assert Requirement.objects.filter(coalition=world.coalition).count() == 1


def test_requirement_post_says_201_when_new_and_200_when_changed(
    world: World, client_for: Callable[[str], APIClient]
) -> None:
    secretariat = client_for("secretariat")
    body = {"coalition": world.coalition.pk, "category": "troops", "unit": world.personnel.code, "quantity": 10}
    assert secretariat.post("/api/v1/requirements/", body, format="json").status_code == 201
    assert secretariat.post("/api/v1/requirements/", body, format="json").status_code == 200
    assert secretariat.post("/api/v1/requirements/", {**body, "quantity": 11}, format="json").status_code == 200


def test_integrity_error_is_a_409_conflict() -> None:
    response = exception_handler(IntegrityError('duplicate key value violates "requirement_unique_per_unit"'), {})
    assert response is not None and response.status_code == 409
    assert "same moment" in response.data["detail"]


# --- 2. the docs page runs under the CSP --------------------------------------------------------


def test_docs_page_loads_only_external_same_origin_scripts_the_csp_allows(db: None) -> None:
    client = Client()
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*)", csp)
    assert script_src and script_src.group(1).split() == ["'self'"]
    html = response.content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert len(scripts) == 3
    for attributes, body in scripts:
        assert not body.strip(), f"an inline script, which the CSP blocks: {body[:80]}"
        src = re.search(r'src="([^"]+)"', attributes)
        assert src and src.group(1).startswith("/"), attributes
        script = client.get(src.group(1).replace("&amp;", "&"))
        assert script.status_code == 200, src.group(1)
        assert "javascript" in script.headers["Content-Type"]
    init = client.get("/api/v1/docs/?script=")
    assert "SwaggerUIBundle" in init.content.decode() and "/api/v1/schema/" in init.content.decode()


# --- 3. ETag of an as_of read -------------------------------------------------------------------


def test_as_of_detail_etag_names_the_pledge_not_the_history_row(
    world: World, client_for: Callable[[str], APIClient]
) -> None:
    make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, quantity=5, status="indicative")
    pledge = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, quantity=10,
                         status="indicative")
    services.pledge_update(actor=world.ministry_pl, pledge=pledge, quantity=20)
    analyst = client_for("analyst")
    now = timezone.now().isoformat()
    response = analyst.get(f"/api/v1/pledges/{pledge.pk}/", {"as_of": now})
    assert response.status_code == 200
    assert response.json()["version"] == 2
    assert response["ETag"] == f'"{pledge.pk}-2"'
    assert analyst.get(f"/api/v1/pledges/{pledge.pk}/")["ETag"] == f'"{pledge.pk}-2"'


# --- 4. refused input ----------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "value", "says"), [
    ("status", "confirmed", "transition"),
    ("country", "FR", "country"),
    ("coalition", 2, "coalition"),
    ("colour", "blue", "Unknown field"),
])
def test_pledge_patch_with_a_field_it_cannot_change_is_400(
    scene: Scene, client_for: Callable[[str], APIClient], field: str, value: Any, says: str
) -> None:
    response = client_for("ministry_pl").patch(f"/api/v1/pledges/{scene.offered.pk}/", {field: value}, format="json")
    assert response.status_code == 400
    assert says in response.json()[field][0]
    scene.offered.refresh_from_db()
    assert scene.offered.status == "indicative" and scene.offered.version == 1


@pytest.mark.parametrize(("field", "value"), [
    ("pledge", 1), ("country", "FR"), ("is_active", False), ("lifted_on", "2025-01-01"), ("nonsense", 1),
])
def test_caveat_patch_with_a_field_it_cannot_change_is_400(
    scene: Scene, client_for: Callable[[str], APIClient], field: str, value: Any
) -> None:
    response = client_for("ministry_pl").patch(f"/api/v1/caveats/{scene.caveat.pk}/", {field: value}, format="json")
    assert response.status_code == 400
    assert field in response.json()
    scene.caveat.refresh_from_db()
    assert scene.caveat.is_active and scene.caveat.version == 1


def test_unknown_keys_in_other_write_bodies_are_400(scene: Scene, client_for: Callable[[str], APIClient],
                                                   world: World) -> None:
    pl, secretariat = client_for("ministry_pl"), client_for("secretariat")
    create = pl.post("/api/v1/pledges/", {"coalition": world.coalition.pk, "category": "troops", "unit": "personnel",
                                          "quantity": 5, "priority": "high"}, format="json")
    assert create.status_code == 400 and "priority" in create.json()
    moved = pl.post(f"/api/v1/pledges/{scene.offered.pk}/transition/", {"status": "confirmed", "why": "x"},
                    format="json")
    assert moved.status_code == 400 and "why" in moved.json()
    requirement = secretariat.patch(f"/api/v1/requirements/{scene.requirement.pk}/", {"unit": "aircraft"},
                                    format="json")
    assert requirement.status_code == 400 and "unit" in requirement.json()


def test_caveat_for_a_pledge_with_another_coalition_is_400(
    scene: Scene, world: World, client_for: Callable[[str], APIClient]
) -> None:
    body = {"pledge": scene.offered.pk, "coalition": world.other_coalition.pk, "kind": "geographic", "text": "x"}
    response = client_for("ministry_pl").post("/api/v1/caveats/", body, format="json")
    assert response.status_code == 400 and "coalition" in response.json()
    same = client_for("ministry_pl").post("/api/v1/caveats/", {**body, "coalition": world.coalition.pk},
                                          format="json")
    assert same.status_code == 201, same.content


@pytest.mark.parametrize("value", ["1.5", "abc", "0", "99999999999"])
def test_caveat_pledge_filter_takes_whole_ids_only(scene: Scene, client_for: Callable[[str], APIClient],
                                                    value: str) -> None:
    response = client_for("analyst").get("/api/v1/caveats/", {"pledge": value})
    assert response.status_code == 400 and "pledge" in response.json()


MOMENT_URLS = [
    ("/api/v1/pledges/", "as_of"),
    ("/api/v1/pledges/", "updated_since"),
    ("/api/v1/pledges/changes/", "since"),
    ("/api/v1/coalitions/{coalition}/force/", "as_of"),
    ("/api/v1/pledges/{pledge}/", "as_of"),
]


@pytest.mark.parametrize(("url", "name"), MOMENT_URLS)
@pytest.mark.parametrize(("value", "ok"), [
    ("9999-12-31T23:59:59-12:00", False),
    ("2025-13-45", False),
    ("yesterday", False),
    ("2000-01-01T00:00:00+02:00", True),
    ("2000-01-01T00:00:00", True),
    ("2000-01-01", True),
])
def test_moments_are_read_one_way_everywhere(
    scene: Scene, world: World, client_for: Callable[[str], APIClient], url: str, name: str, value: str, ok: bool
) -> None:
    path = url.format(coalition=world.coalition.pk, pledge=scene.released.pk)
    response = client_for("analyst").get(path, {name: value})
    if ok:
        assert response.status_code in (200, 404), response.content  # 404: the pledge did not exist yet
    else:
        assert response.status_code == 400, response.content
        assert name in response.json()


# --- 5. out-of-range dates ----------------------------------------------------------------------


@pytest.mark.parametrize("imposed_on", ["9999-12-31", (dt.date.today() + dt.timedelta(days=400)).isoformat()])
def test_caveat_imposed_far_ahead_is_400(world: World, client_for: Callable[[str], APIClient],
                                         imposed_on: str) -> None:
    response = client_for("ministry_pl").post("/api/v1/caveats/", {
        "coalition": world.coalition.pk, "kind": "geographic", "text": "x", "imposed_on": imposed_on,
    }, format="json")
    assert response.status_code == 400 and "imposed_on" in response.json()


def test_caveat_imposed_next_month_is_fine(world: World, client_for: Callable[[str], APIClient]) -> None:
    response = client_for("ministry_pl").post("/api/v1/caveats/", {
        "coalition": world.coalition.pk, "kind": "geographic", "text": "x",
        "imposed_on": (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
    }, format="json")
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("lifted_on", ["9999-12-31", "tomorrow", "2000-01-01"])
def test_caveat_lifted_in_the_future_or_before_imposed_is_400(
    scene: Scene, client_for: Callable[[str], APIClient], lifted_on: str
) -> None:
    if lifted_on == "tomorrow":
        lifted_on = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = client_for("ministry_pl").post(f"/api/v1/caveats/{scene.caveat.pk}/lift/", {"lifted_on": lifted_on},
                                              format="json")
    assert response.status_code == 400 and "lifted_on" in response.json()
    scene.caveat.refresh_from_db()
    assert scene.caveat.is_active
    today = client_for("ministry_pl").post(f"/api/v1/caveats/{scene.caveat.pk}/lift/",
                                           {"lifted_on": timezone.localdate().isoformat()}, format="json")
    assert today.status_code == 200 and today.json()["is_active"] is False


# --- 6. form-encoded login ----------------------------------------------------------------------


def test_token_from_a_form_post(world: World) -> None:
    world.analyst.set_password("correct horse battery")
    world.analyst.save()
    response = APIClient().post("/api/v1/auth/token/", {"username": world.analyst.username,
                                                         "password": "correct horse battery"})  # multipart
    assert response.status_code == 200 and response.json()["token"]
    encoded = Client().post("/api/v1/auth/token/", f"username={world.analyst.username}&password=correct+horse+battery",
                            content_type="application/x-www-form-urlencoded")
    assert encoded.status_code == 200, encoded.content
    token = encoded.json()["token"]
    me = Client().get("/api/v1/pledges/", HTTP_AUTHORIZATION=f"Token {token}")
    assert me.status_code == 200


# --- 7. JSON 404 under /api/v1/ ----------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), [
    ("get", "/api/v1/countries/PLX/"), ("get", "/api/v1/nothing/"), ("post", "/api/v1/nothing/"),
    ("delete", "/api/v1/pledges/1/nothing/"), ("get", "/api/v1/nothing"),
])
def test_unrouted_api_paths_answer_json_404(world: World, client_for: Callable[[str], APIClient], method: str,
                                            path: str) -> None:
    response = getattr(client_for("analyst"), method)(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": "Not found."}


def test_known_path_without_its_slash_still_redirects(world: World, client_for: Callable[[str], APIClient]) -> None:
    response = client_for("analyst").get("/api/v1/pledges?status=draft")
    assert response.status_code == 301 and response["Location"] == "/api/v1/pledges/?status=draft"
