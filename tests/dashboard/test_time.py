"""The dashboard's force in time and under conditions: the `on` day, the conditions to assume, the timeline chart
with its table, the handovers and the pledges ending unrelieved, the conditions panel. Each shows the numbers of
the selectors for the same reader (ministry staff only what they may see); a wrong day or scenario is a form error
on the page; the queries are bounded."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pledges import services
from pledges.scenarios import Assumptions
from pledges.selectors import coalition_force, coalition_map
from pledges.timeline import coalition_timeline
from tests.conftest import World
from tests.dashboard.conftest import TimeScene, month_after
from tests.dashboard.test_views import browser_for, force_table, map_table
from tests.factories import make_pledge

TIMELINE_ROW = re.compile(r'<tr data-category="([^"]+)" data-unit="([^"]+)" data-measure="(\w+)">(.*?)</tr>', re.S)
MONTH_CELL = re.compile(r'data-month="([\d-]+)">([^<]*)<')
CONDITION = re.compile(r'<article class="card condition status-(\w+)" id="condition-(\d+)"(.*?)</article>', re.S)
HANGING_ROW = re.compile(r'<tr data-capability="([^"/]+)/([^"]+)">(.*?)</tr>', re.S)
CELL = re.compile(r'data-field="(\w+)">([^<]*)<')


def number(text: str) -> int | None:
    return None if text.strip() == "—" else int(text.strip().replace(",", ""))


def timeline_table(page: str) -> dict[tuple[str, str, str], dict[str, int | None]]:
    """(category, unit, measure) -> {month: value}, as the timeline's table reads."""
    section = page[page.index('id="timeline-table"'):]
    section = section[:section.index("</table>")]
    return {(category, unit, measure): {month: number(value) for month, value in MONTH_CELL.findall(cells)}
            for category, unit, measure, cells in TIMELINE_ROW.findall(section)}


def expected_timeline(timeline: Any) -> dict[tuple[str, str, str], dict[str, int | None]]:
    return {(c.category, c.unit, measure): {m.month: getattr(m, measure) for m in c.months}
            for c in timeline.capabilities for measure in ("committed", "offered", "conditional", "gap")}


def conditions_panel(page: str) -> dict[int, tuple[str, dict[tuple[str, str], dict[str, int | None]]]]:
    """condition id -> (the status counted, {(category, unit): {offered, committed, pledge_count}})."""
    return {int(pk): (status, {(category, unit): {name: number(value) for name, value in CELL.findall(cells)}
                               for category, unit, cells in HANGING_ROW.findall(body)})
            for status, pk, body in CONDITION.findall(page)}


def expected_conditions(picture: Any) -> dict[int, tuple[str, dict[tuple[str, str], dict[str, int | None]]]]:
    return {line.id: (line.status, {(a.category, a.unit): {"offered": a.offered, "committed": a.committed,
                                                           "pledge_count": a.pledge_count}
                                    for a in line.capabilities}) for line in picture.conditions}


def expected_force(picture: Any) -> dict[tuple[str, str], dict[str, int | None]]:
    fields = ("requirement", "confirmed", "delivered", "indicative", "conditional", "gap", "overdue", "stale")
    return {(line.category, line.unit): {name: getattr(line, name) for name in fields} for line in picture.categories}


@pytest.mark.parametrize("role", ["ministry_pl", "ministry_fr", "analyst", "secretariat"])
@pytest.mark.parametrize("scenario", ["none", "backstop failed", "backstop met"])
def test_on_a_day_and_under_a_scenario_the_page_has_the_selectors_numbers(
        world: World, time_scene: TimeScene, role: str, scenario: str, gazetteer: None) -> None:
    from places.models import Place

    services.pledge_update(actor=world.ministry_gb, pledge=time_scene.second_rotation,
                           place=Place.objects.get(pk=703448))
    user = getattr(world, role)
    on = month_after(time_scene.month, 3) + dt.timedelta(days=14)  # inside the two-week hole
    statuses = {} if scenario == "none" else {time_scene.backstop.pk: scenario.split()[1]}
    assume = Assumptions(statuses)
    query = {"coalition": world.coalition.pk, "on": on.isoformat(), **({"assume": assume.as_query()} if assume else {})}
    response = browser_for(world, role).get("/", query)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="errorlist' not in page

    picture = coalition_force(coalition=world.coalition, user=user, on=on, assume=assume)
    assert force_table(page) == expected_force(picture)
    timeline = coalition_timeline(coalition=world.coalition, user=user, start=on.replace(day=1), months=12,
                                  assume=assume)
    assert timeline_table(page) == expected_timeline(timeline)
    assert timeline.start == on.strftime("%Y-%m")
    assert conditions_panel(page) == expected_conditions(picture)
    places = coalition_map(coalition=world.coalition, user=user, on=on, assume=assume)
    assert {place: count for place, (_n, count) in map_table(page).items()} == {
        point.place.pk: point.pledge_count for point in places.points}
    # The chart draws a chart per capability of the table, with its words as its name, and no inline style.
    assert page.count('<svg class="timeline"') == len(timeline.capabilities)
    assert "style=" not in page[page.index('id="timeline-title"'):page.index('id="map-title"')]
    # The select of the backstop shows the scenario; the link back to every pledge as recorded is offered.
    chosen = statuses.get(time_scene.backstop.pk)
    select = re.search(rf'<select id="id_assume_{time_scene.backstop.pk}" name="assume">(.*?)</select>',
                       page, re.S).group(1)  # type: ignore[union-attr]
    assert re.search(rf'<option value="{time_scene.backstop.pk}:{chosen}" selected>' if chosen
                     else r'<option value="" selected>', select)
    assert "Count every pledge as recorded" in page


def test_what_ministry_staff_see_of_the_scenario_is_theirs_to_see(world: World, time_scene: TimeScene) -> None:
    """France's troops under the backstop are for the secretariat's eyes: Poland's staff see the backstop carry
    only Britain's aircraft, and no French troops fall with it."""
    query = {"coalition": world.coalition.pk, "assume": f"{time_scene.backstop.pk}:failed"}
    poland = conditions_panel(browser_for(world, "ministry_pl").get("/", query).content.decode())
    analyst = conditions_panel(browser_for(world, "analyst").get("/", query).content.decode())
    assert poland[time_scene.backstop.pk] == ("failed", {("air", "aircraft"): {
        "offered": 12, "committed": 12, "pledge_count": 1}})
    assert analyst[time_scene.backstop.pk][1][("troops", "personnel")] == {
        "offered": 800, "committed": 0, "pledge_count": 1}
    assert poland[time_scene.ceasefire.pk] == ("open", {})


def test_the_timeline_shows_the_hole_the_handover_and_the_pledge_ending_unrelieved(world: World,
                                                                                  time_scene: TimeScene) -> None:
    page = browser_for(world, "analyst").get("/", {"coalition": world.coalition.pk}).content.decode()
    table = timeline_table(page)
    hole_month = month_after(time_scene.month, 3).strftime("%Y-%m")
    committed = table[("troops", "personnel", "committed")]
    assert next(iter(committed)) == time_scene.month.strftime("%Y-%m") and len(committed) == 12
    assert committed[hole_month] == 1200  # the Polish battalion alone: neither rotation on the hole's days
    assert committed[month_after(time_scene.month, 4).strftime("%Y-%m")] == 1200 + 650
    handover = re.search(rf'<tr data-relieved="{time_scene.first_rotation.pk}" '
                         rf'data-relieving="{time_scene.second_rotation.pk}" class="uncovered">(.*?)</tr>',
                         page, re.S)
    assert handover is not None and "<strong>14</strong>" in handover.group(1)
    ending = page[page.index('id="ending-unrelieved"'):]
    assert f'data-pledge="{time_scene.ending.pk}"' in ending and "Rafale" not in ending
    assert f'data-pledge="{time_scene.second_rotation.pk}"' in ending  # ends in the window, nobody after it
    assert f'data-pledge="{time_scene.first_rotation.pk}"' not in ending  # relieved


def test_the_selects_send_one_assume_each_and_another_coalition_drops_them(world: World,
                                                                           time_scene: TimeScene) -> None:
    client = browser_for(world, "analyst")
    backstop, ceasefire = time_scene.backstop.pk, time_scene.ceasefire.pk
    as_the_form_sends = f"/?coalition={world.coalition.pk}&on=&conditions_of={world.coalition.pk}" \
                        f"&assume={backstop}:failed&assume="
    page = client.get(as_the_form_sends).content.decode()
    assert conditions_panel(page)[backstop][0] == "failed" and conditions_panel(page)[ceasefire][0] == "open"
    assert "Assuming “United States backstop” failed." in html.unescape(page)
    # The API's links give the same scenario, in the API's words.
    assert f"/api/v1/coalitions/{world.coalition.pk}/timeline/?start=" in page and f"assume={backstop}%3Afailed" in page
    # The selects were drawn for CotW; choosing UDCG drops them instead of refusing them.
    other = client.get(f"/?coalition={world.other_coalition.pk}&conditions_of={world.coalition.pk}"
                       f"&assume={backstop}:failed")
    assert other.status_code == 200 and 'class="errorlist' not in other.content.decode()


@pytest.mark.parametrize(("query", "message"), [
    ({"on": "2026-02-30"}, "Enter a valid date"),
    ({"on": "tomorrow"}, "Enter a valid date"),
    ({"on": "1066-10-14"}, "Give a day from 1990-01-01 to 2100-12-31"),
    ({"assume": "x"}, "Give conditions as ID:met, ID:failed or ID:open"),
    ({"assume": "{backstop}:maybe"}, "Give conditions as ID:met"),
    ({"assume": "999999:failed"}, "No condition of this coalition has the id 999999"),
    ({"assume": "{foreign}:met"}, "No condition of this coalition has the id"),
    ({"assume": "1:met," * 400}, "at most 2000 characters"),
])
def test_a_bad_day_or_scenario_is_a_form_error_and_the_force_is_read_as_recorded(
        world: World, time_scene: TimeScene, query: dict[str, str], message: str) -> None:
    foreign = services.condition_create(actor=world.secretariat, coalition=world.other_coalition, name="Elsewhere")
    query = {name: value.format(backstop=time_scene.backstop.pk, foreign=foreign.pk) for name, value in query.items()}
    response = browser_for(world, "analyst").get("/", {"coalition": world.coalition.pk, **query})
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert message in page and 'class="errorlist' in page
    recorded = coalition_force(coalition=world.coalition, user=world.analyst)
    assert force_table(page) == expected_force(recorded)  # the coalition chosen, every pledge, as recorded
    assert conditions_panel(page) == expected_conditions(recorded)


# The force on a day or under a scenario is computed, never kept (pledges.answer_cache): its own queries without the
# cache's bookkeeping, plus the check of the assumed conditions and the relieved pledges the rotations name. The
# timeline's seven are in both (the conditions, the daily sums with the pledges ending, the requirements, the
# categories, the units, the rotations, the pledges relieved; the countries of those when there are); ministry
# staff's page has their open actions too (two: the first rows and how many); none grows with the pledges.
PINNED_SCENARIO_QUERIES = {"ministry_pl": 46, "analyst": 36}


@pytest.mark.parametrize("role", list(PINNED_SCENARIO_QUERIES))
def test_the_page_on_a_day_under_a_scenario_costs_a_fixed_number_of_queries(world: World, time_scene: TimeScene,
                                                                            role: str) -> None:
    client = browser_for(world, role)
    query = {"coalition": world.coalition.pk, "on": month_after(time_scene.month, 2).isoformat(),
             "assume": f"{time_scene.backstop.pk}:met"}

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/", query).status_code == 200
        return len(queries)

    before = count()
    previous = time_scene.second_rotation
    for n in range(20):
        country = (world.pl, world.fr, world.gb)[n % 3]
        pledge = make_pledge(country=country, coalition=world.coalition, category=world.troops,
                             unit=world.personnel, quantity=10 + n, status=("indicative", "confirmed")[n % 2],
                             releasability="coalition", available_from=time_scene.month + dt.timedelta(days=n * 9),
                             available_until=time_scene.month + dt.timedelta(days=n * 9 + 40),
                             relieves=previous if n % 4 == 0 else None)
        if n % 5 == 0:
            services.caveat_add(actor=getattr(world, f"ministry_{country.code.lower()}"), kind="condition",
                                text="Backstop", pledge=pledge, condition=time_scene.backstop)
    assert count() == before == PINNED_SCENARIO_QUERIES[role]
