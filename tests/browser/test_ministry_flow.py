"""A Polish desk officer enters a conditional pledge through the admin, in a real browser."""

from __future__ import annotations

from typing import Any

import pytest

from pledges.models import Pledge
from tests.conftest import World
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.browser


def test_ministry_user_adds_a_pledge_with_a_caveat(transactional_db: None, world: World, live_server: Any,
                                                     page: Any) -> None:
    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", "ministry-pl")
    page.fill("#id_password", TEST_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("text=Pledges, caveats and meetings")

    page.goto(f"{live_server.url}/admin/pledges/pledge/add/")
    assert "Poland" in page.inner_text("div.field-country")  # the country is fixed, not a choice
    page.select_option("#id_coalition", label="CotW")
    page.select_option("#id_category", label="Troops")
    page.select_option("#id_unit", label="personnel")
    page.fill("#id_quantity", "250")
    page.select_option("#id_status", "indicative")
    page.fill("#id_description", "Engineering company for bridge repair")
    page.fill("#id_location", "Lviv")
    page.select_option("#id_caveats-0-kind", "condition")
    page.fill("#id_caveats-0-text", "Only with a United States backstop")
    page.fill("#id_caveats-0-rationale", "Threat from Belarus")
    page.click("input[name=_save]")

    page.wait_for_selector("ul.messagelist")
    assert "was added successfully" in page.inner_text("ul.messagelist")
    table = page.inner_text("#result_list")
    assert "Poland" in table and "250" in table and "Indicative" in table and "CotW" in table

    pledge = Pledge.objects.get(description="Engineering company for bridge repair")
    assert pledge.country == world.pl and pledge.caveats.get().text == "Only with a United States backstop"

    page.click("#result_list a:has-text('Poland')")
    page.wait_for_selector("#caveats-group")
    assert page.input_value("#id_caveats-0-text") == "Only with a United States backstop"
    assert "active since" in page.inner_text("#caveats-group")
    page.screenshot(path="/tmp/admin_pledge.png", full_page=True)

    page.click("a.historylink")
    assert "ministry-pl" in page.inner_text("#change-history")
