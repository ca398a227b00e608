"""Every admin page of every role in Debian's Chromium, with axe-core (WCAG 2.1 AA): changelists, add and change
forms, history and delete pages, the import pages, the dashboard's pages, at 1280 and 390 px. The pages are found
from the URL conf and the admin site's registry as each role may see them (tests/hardening/site_pages.py), so a
new page is checked without being listed here. No serious or critical violation, and nothing the CSP refuses.

One browser and one page for the whole walk; a page whose structure another role's already had (the same
read-only form, say) is not checked twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import page  # noqa: F401 - the shared Playwright page fixture
from tests.browser.test_dashboard import serious_accessibility_violations, sign_in
from tests.conftest import World
from tests.hardening.site_pages import ROLES, Things, admin_paths, build_things, site_paths

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/admin-shots")
WIDTHS = ((1280, 900), (390, 844))
# What a page is made of, its words and numbers aside: two pages alike in this are checked once.
SHAPE = """() => Array.from(document.querySelectorAll('body *')).map(e => [e.tagName,
    (e.id || '').replace(/[0-9]+/g, 'N'), e.getAttribute('class') || '', e.getAttribute('type') || '',
    e.getAttribute('role') || ''].join(':')).join('|')"""


@pytest.fixture
def things(world: World) -> Things:
    return build_things(world)


def test_every_admin_page_of_every_role_has_no_serious_violation(page: Any, live_server: Any,  # noqa: F811
                                                                 things: Things) -> None:
    base = live_server.url
    # What a page did while it loaded that it must not: ask another host, log an error (a CSP violation, a
    # resource it did not get). Not while axe runs: axe fetches a stylesheet's @import itself, relative to the
    # page (a 404 of its own making).
    loading = [True]
    troubles: list[str] = []
    page.on("request", lambda request: troubles.append(f"another host: {request.url}")
            if not request.url.startswith((base, "data:")) else None)
    page.on("console", lambda message: troubles.append(f"{page.url}: {message.text}")
            if loading[0] and (message.type == "error" or "Content Security Policy" in message.text) else None)
    found: dict[str, list[str]] = {}
    visited: list[str] = []
    shapes: set[str] = set()
    for role in ROLES:
        user = getattr(things.world, role)
        page.context.clear_cookies()
        sign_in(page, base, user.username)
        for path in [*site_paths(things), *admin_paths(user, things)]:
            answer = page.request.get(f"{base}{path}", max_redirects=0)  # a page, or a POST-only route, a file...
            if answer.status != 200 or "html" not in answer.headers.get("content-type", ""):
                continue
            loading[0] = True
            page.goto(f"{base}{path}")
            loading[0] = False
            visited.append(f"{role} {path}")
            shape = page.evaluate(SHAPE)
            if shape in shapes:
                continue
            shapes.add(shape)
            for width, height in WIDTHS:
                page.set_viewport_size({"width": width, "height": height})
                for violation in serious_accessibility_violations(page):
                    found.setdefault(f"{role} {path} at {width} px", []).append(violation)
    assert not found, "\n".join(f"{where}:\n  " + "\n  ".join(what) for where, what in found.items())
    meeting, pledge = things.scene.meeting.pk, things.scene.pl_confirmed.pk
    for expected in (f"secretariat /admin/meetings/meeting/{meeting}/change/",
                     "secretariat /admin/meetings/meeting/add/",
                     f"ministry_pl /admin/pledges/pledge/{pledge}/change/", "ministry_pl /admin/pledges/pledge/add/",
                     "ministry_pl /admin/imports/import/upload/", f"analyst /admin/pledges/pledge/{pledge}/history/",
                     "admin /admin/accounts/user/add/", "admin /admin/places/place/add/"):
        assert expected in visited, expected
    assert troubles == []


def test_the_meeting_and_pledge_forms_at_both_widths(page: Any, live_server: Any, things: Things) -> None:  # noqa: F811
    """The two forms the issue named, looked at: screenshots in /tmp/admin-shots/ (the split date and time
    fields and the chairs box of the meeting form; the place box of the pledge form)."""
    base = live_server.url
    SHOTS.mkdir(exist_ok=True)
    for role, path, name in (("secretariat", f"/admin/meetings/meeting/{things.scene.meeting.pk}/change/", "meeting"),
                             ("ministry_pl", f"/admin/pledges/pledge/{things.scene.pl_confirmed.pk}/change/",
                              "pledge")):
        page.context.clear_cookies()
        sign_in(page, base, getattr(things.world, role).username)
        for width, height in WIDTHS:
            page.set_viewport_size({"width": width, "height": height})
            page.goto(f"{base}{path}")
            page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
            assert serious_accessibility_violations(page) == []
