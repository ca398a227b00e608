"""The dashboard on a day and under a scenario in Chromium, at 1280 and 390 px: the timeline's chart and table and
the conditions are there, nothing runs off a phone, axe-core (WCAG 2.1 AA) finds nothing serious, no console
error or CSP violation; the form's own selects send the scenario."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.browser.conftest import page  # noqa: F401 - the shared Playwright page fixture
from tests.browser.test_dashboard import SHOTS, Watch, assert_accessible, shown_force, sign_in
from tests.conftest import World
from tests.dashboard.conftest import TimeScene, build_time_scene, month_after
from tests.dashboard.test_time import expected_force

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def time_scene(world: World) -> TimeScene:
    return build_time_scene(world)


@pytest.mark.parametrize("role", ["ministry_pl", "secretariat"])
def test_the_force_in_time_and_under_conditions_in_chromium(page: Any, live_server: Any, world: World,  # noqa: F811
                                                            time_scene: TimeScene, role: str) -> None:
    from pledges.scenarios import Assumptions
    from pledges.selectors import coalition_force

    watch = Watch(page, live_server.url)
    sign_in(page, live_server.url, getattr(world, role).username)
    on = month_after(time_scene.month, 3) + dt.timedelta(days=14)
    page.fill("#id_on", on.isoformat())
    page.select_option(f"#id_assume_{time_scene.backstop.pk}", f"{time_scene.backstop.pk}:failed")
    page.click("form.picture-controls button[type=submit]")
    page.wait_for_url(f"**on={on.isoformat()}*")
    assume = Assumptions({time_scene.backstop.pk: "failed"})
    assert shown_force(page) == expected_force(coalition_force(coalition=world.coalition, user=getattr(world, role),
                                                               on=on, assume=assume))
    assert page.input_value(f"#id_assume_{time_scene.backstop.pk}") == f"{time_scene.backstop.pk}:failed"
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.reload()
        assert page.locator("svg.timeline").count() == 2  # troops and air
        assert page.locator("#timeline-table tbody tr[data-measure]").count() == 2 * 4
        assert page.locator("svg.timeline").first.bounding_box()["width"] > 0.6 * min(width, 1100)
        assert page.locator("#handovers tr.uncovered").count() == 1
        assert page.locator(f"#condition-{time_scene.backstop.pk} .status").inner_text() == "Assumed failed"
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width  # nothing runs off
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / f"time-{role}-{width}.png"), full_page=True)
        assert_accessible(page)
    watch.assert_clean()
