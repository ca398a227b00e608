"""Security headers: CSP (django-csp) and X-Frame-Options on the admin and the API docs."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.conftest import World


def csp_directives(header: str) -> dict[str, list[str]]:
    parts = (part.strip().split() for part in header.split(";") if part.strip())
    return {part[0]: part[1:] for part in parts}


def test_admin_login_page_has_csp_and_frame_denied(client: Client, db: None) -> None:
    response = client.get("/admin/login/")
    assert response.status_code == 200
    policy = csp_directives(response.headers["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # no inline or foreign scripts
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_admin_pages_for_a_signed_in_user_have_csp(client: Client, world: World) -> None:
    client.force_login(world.ministry_pl)  # ministry staff may add pledges
    for url in ("/admin/", "/admin/pledges/pledge/", "/admin/pledges/pledge/add/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "script-src 'self'" in response.headers["Content-Security-Policy"], url


def test_admin_pages_load_no_script_the_policy_would_block(client: Client, world: World) -> None:
    """Every <script> on the admin pages comes from our own origin; none is inline."""
    client.force_login(world.ministry_pl)  # ministry staff may add pledges
    for url in ("/admin/", "/admin/pledges/pledge/", "/admin/pledges/pledge/add/"):
        html = client.get(url).content.decode()
        for tag in re.findall(r"<script\b[^>]*>", html):
            if 'type="application/json"' in tag:
                continue  # data for the admin's scripts (json_script), never executed
            src = re.search(r'src="([^"]+)"', tag)
            assert src is not None, f"inline script on {url}: {tag}"
            assert src.group(1).startswith("/"), f"foreign script on {url}: {tag}"


def test_api_docs_work_under_the_policy(client: Client, world: World) -> None:
    """Swagger UI is served locally, and its init script is a URL of ours, not inline (CSP script-src 'self')."""
    client.force_login(world.analyst)
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    html = response.content.decode()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts, "the docs page loads Swagger UI"
    for tag in scripts:
        src = re.search(r'src="([^"]+)"', tag)
        assert src is not None, (
            "inline <script> on /api/v1/docs/ is blocked by the CSP; "
            "use drf_spectacular.views.SpectacularSwaggerSplitView"
        )
        assert src.group(1).startswith("/"), tag
        assert client.get(src.group(1).replace("&amp;", "&")).status_code == 200, tag


@pytest.mark.parametrize("url", ["/api/v1/pledges/", "/api/v1/schema/"])
def test_api_answers_carry_the_headers(client: Client, world: World, url: str) -> None:
    client.force_login(world.analyst)
    response = client.get(url)
    assert response.status_code == 200
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
