"""Each role's dashboard in Debian's Chromium: the numbers, nothing of another country's drafts, the brief's
progress bar moved by a real worker, no request leaving the server, no console error or CSP violation,
axe-core (WCAG 2.1 AA) with no serious or critical violation, keyboard reach, and phones (390 px)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.base import AXE_SCRIPT
from django.utils import timezone

from meetings.models import Brief
from tests.browser.conftest import page  # noqa: F401 - the shared Playwright page fixture
from tests.conftest import World
from tests.dashboard.conftest import Scene, build_scene
from tests.dashboard.test_views import api_force
from tests.factories import TEST_PASSWORD
from tests.meetings.test_worker import Worker, start_worker  # noqa: F401 - the real worker fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/dashboard-shots")
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Whether axe-core is running. What a page logs meanwhile is axe's, not the page's: to read a stylesheet that
# @imports another (the admin's forms.css), axe adds a <style> element of its own, which the CSP refuses.
AXE_RUNNING = [False]


class Watch:
    """What a page did that it must not: requests to other hosts, console errors, CSP violations; and the
    JSON it fetched (to look for what must not be there)."""

    def __init__(self, page: Any, base: str) -> None:  # noqa: F811
        self.foreign: list[str] = []
        self.errors: list[str] = []
        self.json: list[str] = []
        page.on("request", lambda request: self.foreign.append(request.url)
                if not request.url.startswith((base, "data:")) else None)
        page.on("console", lambda message: self.errors.append(message.text)
                if not AXE_RUNNING[0] and (message.type == "error" or "Content Security Policy" in message.text)
                else None)
        page.on("response", self._response)

    def _response(self, response: Any) -> None:
        if "json" in response.headers.get("content-type", ""):
            self.json.append(response.text())

    def assert_clean(self) -> None:
        assert self.foreign == [], f"requests left the server: {self.foreign}"
        assert self.errors == [], f"console errors or CSP violations: {self.errors}"


def sign_in(page: Any, base: str, username: str) -> None:  # noqa: F811
    page.goto(f"{base}/")
    assert page.url.startswith(f"{base}/admin/login/")  # not signed in: the sign-in page first
    page.fill("#id_username", username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/")


def serious_accessibility_violations(page: Any) -> list[str]:  # noqa: F811
    AXE_RUNNING[0] = True
    try:
        page.evaluate(AXE_SCRIPT)
        results = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_AA)
    finally:
        AXE_RUNNING[0] = False
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:6]}"
            for v in results["violations"] if v["impact"] in ("serious", "critical")]


def assert_accessible(page: Any) -> None:  # noqa: F811
    violations = serious_accessibility_violations(page)
    assert not violations, "\n".join(violations)


def shown_force(page: Any) -> dict[tuple[str, str], dict[str, int | None]]:  # noqa: F811
    rows = page.evaluate("""() => Array.from(document.querySelectorAll('#force-table tbody tr')).map(tr => [
        tr.dataset.category, tr.dataset.unit,
        Object.fromEntries(Array.from(tr.querySelectorAll('td')).map(td => [td.dataset.field, td.innerText]))])""")
    return {(category, unit): {name: None if text == "—" else int(text.replace(",", ""))
                               for name, text in cells.items()} for category, unit, cells in rows}


def tab_reaches(page: Any, selectors: list[str], presses: int = 80) -> set[str]:  # noqa: F811
    """Press Tab from the top of the page; which of `selectors` took the focus on the way."""
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    reached: set[str] = set()
    for _ in range(presses):
        page.keyboard.press("Tab")
        for selector in selectors:
            if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
                reached.add(selector)
    return reached


@pytest.fixture
def scene(world: World) -> Scene:
    return build_scene(world)


@pytest.mark.parametrize("role", ["ministry_pl", "secretariat", "analyst"])
def test_each_roles_dashboard_in_chromium(page: Any, live_server: Any, world: World, scene: Scene,  # noqa: F811
                                          role: str) -> None:
    watch = Watch(page, live_server.url)
    sign_in(page, live_server.url, getattr(world, role).username)
    assert shown_force(page) == api_force(world, role)
    html = page.content()
    draft_link = f"/admin/pledges/pledge/{scene.fr_draft.pk}/change/"
    assert draft_link not in html and "Brest" not in html
    assert not any("Brest" in body or "not for other countries" in body for body in watch.json)

    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{role}-1280.png"), full_page=True)
    assert_accessible(page)
    targets = ["#id_coalition", "#id_as_of", "form.picture-controls button"]
    if role == "ministry_pl":
        targets += [f"#drafts a[href='/admin/pledges/pledge/{scene.pl_draft.pk}/change/']", "#stale a.button"]
    if role == "secretariat":
        targets += ["form.compile button"]
    assert tab_reaches(page, targets) == set(targets)

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.screenshot(path=str(SHOTS / f"{role}-390.png"), full_page=True)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390  # nothing runs off a phone
    assert_accessible(page)
    watch.assert_clean()


def test_the_as_of_control_and_the_changes_link_in_chromium(page: Any, live_server: Any, world: World,  # noqa: F811
                                                            scene: Scene) -> None:
    watch = Watch(page, live_server.url)
    sign_in(page, live_server.url, "analyst")
    page.fill("#id_as_of", "2999-01-01")
    page.click("form.picture-controls button")  # the browser itself keeps a future day from being sent
    assert page.evaluate("() => document.querySelector('#id_as_of').validity.rangeOverflow")
    assert "as_of" not in page.url
    yesterday = (timezone.localdate() - dt.timedelta(days=1))
    page.fill("#id_as_of", yesterday.isoformat())
    page.click("form.picture-controls button")
    page.wait_for_url(f"**as_of={yesterday.isoformat()}*")
    assert f"As it stood at the end of {yesterday:%-d %B %Y}" in page.inner_text(".picture-when")
    page.click("text=Changes in the last thirty days")
    page.wait_for_selector("#pledge-changes")
    assert "troops (personnel)" in page.inner_text("main")
    assert_accessible(page)
    watch.assert_clean()


@pytest.mark.worker
def test_the_progress_bar_moves_to_100_while_a_real_worker_compiles(
    page: Any, live_server: Any, world: World, scene: Scene, start_worker: Callable[..., Worker],  # noqa: F811
) -> None:
    worker = start_worker(compile_delay=2)  # long enough to watch it run
    watch = Watch(page, live_server.url)
    sign_in(page, live_server.url, "secretariat")
    page.click("form.compile button")
    page.wait_for_selector(".brief[data-brief-url]")
    seen: list[tuple[str, int]] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status, value = page.evaluate("() => { const b = document.querySelector('.brief'); "
                                      "return [b.dataset.status, b.querySelector('progress').value]; }")
        if not seen or seen[-1] != (status, value):
            seen.append((status, value))
        if status in ("ready", "failed"):
            break
        time.sleep(0.1)
    assert seen[-1] == ("ready", 100), (seen, worker.output())
    assert any(status in ("queued", "running") and value < 100 for status, value in seen), seen
    assert page.is_visible(".brief-files") and page.inner_text(".brief-status") == "Ready"
    href = page.get_attribute(".brief-files a:has-text('PDF')", "href")
    pdf = page.request.get(f"{live_server.url}{href}")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
    assert Brief.objects.get().number == 1  # one click, one brief
    watch.assert_clean()


@pytest.mark.parametrize("path", ["/admin/pledges/pledge/", "/admin/pledges/pledge/add/", "/admin/pledges/caveat/"])
def test_the_admin_pages_ministry_staff_use_are_accessible(page: Any, live_server: Any, world: World,  # noqa: F811
                                                           scene: Scene, path: str) -> None:
    watch = Watch(page, live_server.url)
    sign_in(page, live_server.url, "ministry_pl".replace("_", "-"))
    page.goto(f"{live_server.url}{path}")
    assert_accessible(page)
    watch.assert_clean()


def test_a_pledge_page_with_tranches_is_accessible(page: Any, live_server: Any, world: World,  # noqa: F811
                                                   scene: Scene) -> None:
    watch = Watch(page, live_server.url)
    sign_in(page, live_server.url, "ministry-pl")
    page.goto(f"{live_server.url}/admin/pledges/pledge/{scene.pl_confirmed.pk}/change/")
    assert_accessible(page)
    watch.assert_clean()


def test_a_desk_officer_round_trips_a_spreadsheet_in_chromium(page: Any, live_server: Any, world: World,  # noqa: F811
                                                              scene: Scene, tmp_path: Path) -> None:
    from tests.imports.helpers import edited

    watch = Watch(page, live_server.url)
    sign_in(page, live_server.url, "ministry-pl")
    page.goto(f"{live_server.url}/admin/pledges/pledge/")
    page.click("text=Import from a spreadsheet")
    assert_accessible(page)
    with page.expect_download() as download:
        page.click("text=Template for Coalition of the willing")
    template = Path(download.value.path()).read_bytes()
    filled = tmp_path / "poland.xlsx"
    filled.write_bytes(edited(template, change={scene.pl_confirmed.pk: {"quantity": 1300}},
                              add=[{"category": "troops", "unit": "personnel", "quantity": 60, "status": "draft",
                                    "description": "Engineers, from the spreadsheet"}]))
    page.select_option("#id_coalition", str(world.coalition.pk))
    page.set_input_files("#id_file", str(filled))
    page.click("input[type=submit][value=Preview]")
    page.wait_for_selector("#result_list")
    assert "quantity: 1200 → 1300" in page.inner_text("#result_list")
    assert_accessible(page)
    page.click("input[value='Apply every row']")
    page.wait_for_selector("ul.messagelist")
    assert "Applied: 1 pledge(s) created, 1 changed" in page.inner_text("ul.messagelist")
    watch.assert_clean()


def test_a_french_speaking_officer_works_in_french_in_chromium(page: Any, live_server: Any, world: World,  # noqa: F811
                                                               scene: Scene) -> None:
    watch = Watch(page, live_server.url)
    sign_in(page, live_server.url, "secretariat")
    page.click("form.language-switch button[value=fr]")
    page.wait_for_selector("text=Tableau de bord")
    assert "Réunions à venir" in page.inner_text("main") and "État des forces" in page.inner_text("main")
    assert page.get_attribute("html", "lang") == "fr"
    page.goto(f"{live_server.url}/admin/pledges/pledge/")
    table = page.inner_text("#result_list")
    assert "OFFRE" in table.upper() and "À FAIRE" in table.upper() and "Confirmée" in table
    assert "Par statut" in page.inner_text("#changelist-filter")
    page.screenshot(path=str(SHOTS / "admin-fr-1280.png"), full_page=True)
    assert_accessible(page)
    page.goto(f"{live_server.url}/admin/pledges/pledge/{scene.pl_confirmed.pk}/change/")
    assert "Quantité" in page.inner_text("main") or "quantité" in page.inner_text("main")
    assert "préavis de mouvement (jours)" in page.inner_text("main").lower()
    watch.assert_clean()


def test_the_map_in_chromium_drawn_here_read_aloud_and_redrawn(page: Any, live_server: Any,  # noqa: F811
                                                               world: World, scene: Scene, gazetteer: None) -> None:
    """The force on a map: a circle per place of the API's map, the numbers as a table, nothing fetched from
    another host (no tiles, no CDN), the French draft's place nowhere, axe-clean, and redrawn by one capability."""
    from places.models import Place
    from pledges import services
    from pledges.models import Pledge
    from tests.dashboard.test_views import api_map

    kyiv, odesa, brest = (Place.objects.get(pk=pk) for pk in (703448, 698740, 3030300))
    services.pledge_update(actor=world.ministry_pl, pledge=scene.pl_confirmed, place=kyiv)
    services.pledge_update(actor=world.ministry_gb, pledge=Pledge.objects.get(country=world.gb), place=odesa)
    services.pledge_update(actor=world.ministry_fr, pledge=scene.fr_draft, place=brest)
    watch = Watch(page, live_server.url)
    sign_in(page, live_server.url, world.ministry_pl.username)
    expected = api_map(world, "ministry_pl")
    assert set(expected) == {kyiv.pk, odesa.pk}
    assert page.locator("svg.map .marker circle").count() == len(expected)
    rows = page.evaluate("() => Array.from(document.querySelectorAll('#map-table tbody tr')).map(tr => "
                         "[Number(tr.dataset.place), Number(tr.cells[4].innerText)])")
    assert dict(rows) == expected
    assert page.locator("svg.map .land path").count() >= 5  # Ukraine and its neighbours around the two places
    section = page.locator("section[aria-labelledby=map-title]")
    assert "Brest" not in section.inner_text()
    SHOTS.mkdir(exist_ok=True)
    section.screenshot(path=str(SHOTS / "map-1280.png"))
    box = page.locator("svg.map").bounding_box()
    assert box is not None and box["width"] > 800 and box["height"] > 300  # drawn at the column's width
    assert_accessible(page)

    page.select_option("#id_size_by", "troops/personnel")
    page.locator("section[aria-labelledby=map-title] button").click()
    page.wait_for_load_state()
    assert "size_by=troops%2Fpersonnel" in page.url or "size_by=troops/personnel" in page.url
    assert "the amount of Troops (personnel) there" in section.inner_text()
    assert page.locator("svg.map .marker.without").count() == 1  # Odesa holds aircraft only: a ring

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    page.locator("section[aria-labelledby=map-title]").screenshot(path=str(SHOTS / "map-390.png"))
    assert_accessible(page)
    watch.assert_clean()
