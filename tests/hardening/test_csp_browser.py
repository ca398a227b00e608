"""In a real browser (Debian's Chromium), the admin and the Swagger UI docs work under the CSP: no violations."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import page  # noqa: F401 - the shared Playwright page fixture
from tests.conftest import World
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watch_csp(page: Any) -> list[str]:  # noqa: F811
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    return violations


def sign_in(page: Any, base: str, username: str) -> None:  # noqa: F811
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def test_admin_works_under_the_policy(page: Any, live_server: Any, world: World) -> None:  # noqa: F811
    violations = watch_csp(page)
    sign_in(page, live_server.url, "ministry-pl")
    page.goto(f"{live_server.url}/admin/pledges/pledge/add/")
    page.select_option("#id_coalition", str(world.coalition.pk))
    assert page.locator("#id_quantity").is_visible()
    page.goto(f"{live_server.url}/admin/pledges/pledge/")
    assert page.locator("#changelist").is_visible()
    assert violations == []


def test_swagger_ui_renders_under_the_policy(page: Any, live_server: Any, world: World) -> None:  # noqa: F811
    violations = watch_csp(page)
    sign_in(page, live_server.url, "analyst")
    page.goto(f"{live_server.url}/api/v1/docs/")
    try:
        page.wait_for_selector(".swagger-ui .information-container .title", timeout=20_000)
    except Exception:  # show why it did not render
        pytest.fail(f"Swagger UI did not render; CSP violations: {violations}")
    assert page.locator(".opblock-tag").count() > 0  # the operations from /api/v1/schema/ are listed
    assert violations == []
