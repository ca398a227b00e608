"""The dashboard at `/`: each role's panels, the force picture's numbers equal to the API's, the as-of control,
nothing of another country's drafts, the compile button, the changes page, and a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from meetings.models import Brief, BriefStatus
from places.models import Place
from places.selectors import places_matching
from pledges import services
from pledges.history import PledgeEvent
from pledges.models import Pledge
from tests.conftest import World
from tests.dashboard.conftest import FR_DRAFT, PL_DRAFT, Scene
from tests.factories import make_pledge
from tests.http import content_of

ROLES = ("ministry_pl", "ministry_fr", "analyst", "secretariat", "admin")
ROW = re.compile(r'<tr data-category="([^"]+)" data-unit="([^"]+)">(.*?)</tr>', re.S)
CELL = re.compile(r'data-field="(\w+)">([^<]*)<')


def browser_for(world: World, role: str) -> Client:
    client = Client()
    client.force_login(getattr(world, role))
    return client


def force_table(page: str) -> dict[tuple[str, str], dict[str, int | None]]:
    """The numbers of the force table, by (category, unit): what a screen reader reads."""
    table: dict[tuple[str, str], dict[str, int | None]] = {}
    for category, unit, cells in ROW.findall(page):
        table[(category, unit)] = {
            name: None if value.strip() == "—" else int(value.strip().replace(",", ""))
            for name, value in CELL.findall(cells)
        }
    return table


def api_force(world: World, role: str, **query: str) -> dict[tuple[str, str], dict[str, int | None]]:
    api = APIClient()
    api.force_authenticate(User.objects.get(pk=getattr(world, role).pk))
    response = api.get(f"/api/v1/coalitions/{world.coalition.pk}/force/", query)
    assert response.status_code == 200, response.content
    fields = ("requirement", "confirmed", "delivered", "indicative", "conditional", "gap", "overdue", "stale")
    return {(line["category"], line["unit"]): {name: line[name] for name in fields}
            for line in response.json()["categories"]}


def test_anyone_not_signed_in_is_sent_to_sign_in(db: None) -> None:
    response = Client().get("/")
    assert response.status_code == 302 and response["Location"] == "/admin/login/?next=/"


@pytest.mark.parametrize("role", ROLES)
def test_the_force_picture_has_the_numbers_of_the_force_endpoint(world: World, scene: Scene, role: str) -> None:
    response = browser_for(world, role).get("/", {"coalition": world.coalition.pk})
    assert response.status_code == 200
    page = response.content.decode()
    shown = force_table(page)
    assert shown == api_force(world, role)
    troops = shown[("troops", "personnel")]
    assert (troops["requirement"], troops["confirmed"], troops["delivered"]) == (5000, 1200, 400)
    assert troops["overdue"] == 300
    # France's offer is for the secretariat's eyes (the default releasability): other countries do not see it.
    hidden = role == "ministry_pl"
    assert (troops["indicative"], troops["conditional"]) == ((0, 0) if hidden else (800, 800))
    assert troops["gap"] == 3800
    assert shown[("air", "aircraft")]["stale"] == 4
    # The chart draws the same lines, each with its numbers as its accessible name.
    assert page.count('class="bullet"') == len(shown)
    assert "Troops (personnel): requirement 5,000, confirmed 1,200, delivered 400" in html.unescape(page)


def test_as_of_a_past_day_shows_the_picture_as_it_stood_then(world: World, scene: Scene) -> None:
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    # The pledges were written today: move their history back three days, so that "yesterday" had them.
    earlier = timezone.now() - dt.timedelta(days=3)
    PledgeEvent.objects.filter(pgh_superseded_at__isnull=False).update(pgh_superseded_at=earlier)
    PledgeEvent.objects.update(pgh_created_at=earlier)
    services.pledge_update(actor=world.ministry_pl, pledge=scene.pl_confirmed, quantity=1500)
    end_of_yesterday = dt.datetime.combine(timezone.localdate(), dt.time.min, tzinfo=dt.UTC) - dt.timedelta(
        microseconds=1)
    client = browser_for(world, "analyst")
    now = force_table(client.get("/", {"coalition": world.coalition.pk}).content.decode())
    then_page = client.get("/", {"coalition": world.coalition.pk, "as_of": yesterday.isoformat()}).content.decode()
    then = force_table(then_page)
    assert now[("troops", "personnel")]["confirmed"] == 1500
    assert then[("troops", "personnel")]["confirmed"] == 1200
    assert then == api_force(world, "analyst", as_of=end_of_yesterday.isoformat())
    assert f"As it stood at the end of {yesterday:%-d %B %Y}" in then_page


@pytest.mark.parametrize(("query", "message"), [
    ({"as_of": "2999-01-01"}, "Choose today or a day in the past"),
    ({"as_of": "yesterday"}, "Enter a valid date"),
    ({"coalition": "999999"}, "Select a valid choice"),
    ({"coalition": "abc"}, "Select a valid choice"),
])
def test_a_bad_control_is_a_form_error_and_the_page_still_shows(world: World, scene: Scene, query: dict[str, str],
                                                                 message: str) -> None:
    response = browser_for(world, "analyst").get("/", query)
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page and 'class="errorlist' in page
    assert force_table(page)  # the picture as it stands now, of the first coalition


def test_a_coalition_a_country_is_not_in_is_not_offered_nor_shown(world: World, scene: Scene) -> None:
    response = browser_for(world, "ministry_us").get("/", {"coalition": world.coalition.pk})
    page = response.content.decode()
    assert "Select a valid choice" in page and world.coalition.name not in page
    assert ("troops", "personnel") not in force_table(page)  # UDCG has no troops; CotW's are not shown


def test_ministry_staff_see_their_country_and_what_waits_for_them(world: World, scene: Scene) -> None:
    page = html.unescape(browser_for(world, "ministry_pl").get("/").content.decode())
    assert "Dashboard for Poland" in page
    counts = re.search(r'<ul class="counts">(.*?)</ul>', page, re.S)
    assert counts is not None
    assert re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", counts.group(1))).split("Add a pledge")[0].split() == [
        "1", "draft", "0", "indicative", "2", "confirmed", "0", "deployed", "0", "withdrawn"]
    drafts = re.search(r'id="drafts">(.*?)</div>', page, re.S).group(1)  # type: ignore[union-attr]
    assert f"/admin/pledges/pledge/{scene.pl_draft.pk}/change/" in drafts and "90 personnel" in drafts
    stale = re.search(r'id="stale">(.*?)</div>', page, re.S).group(1)  # type: ignore[union-attr]
    assert f"/admin/pledges/pledge/{scene.pl_stale.pk}/change/" in stale and "last reconfirmed" in stale
    assert "/admin/pledges/pledge/?stale=yes" in stale
    overdue = re.search(r'id="overdue">(.*?)</div>', page, re.S).group(1)  # type: ignore[union-attr]
    due = timezone.localdate() - dt.timedelta(days=5)
    assert "300 personnel" in overdue and f"due {due:%-d %b %Y}" in overdue
    assert f"/admin/pledges/pledge/{scene.pl_confirmed.pk}/change/" in overdue
    assert "Defence ministers" in page and "Confirmed" in page  # the next meeting and Poland's answer
    assert "Compile brief" not in page and "Upcoming meetings" not in page  # the secretariat's panel


@pytest.mark.django_db(transaction=True)  # the changes page reads only committed (settled) history
def test_no_page_shows_a_country_another_countrys_drafts(world: World, scene: Scene) -> None:
    for role in ROLES:
        client = browser_for(world, role)
        for page in (client.get("/").content.decode(),
                     client.get("/", {"coalition": world.coalition.pk, "as_of": timezone.localdate().isoformat()}
                                ).content.decode()):
            assert (f"/pledges/pledge/{scene.fr_draft.pk}/" in page) == (role == "ministry_fr") == ("Brest" in page)
            assert (f"/pledges/pledge/{scene.pl_draft.pk}/" in page) == (role == "ministry_pl"), role
            assert FR_DRAFT not in page and PL_DRAFT not in page  # descriptions are for the pledge's own page
        changes = re.sub(r"\s+", " ", client.get(f"/coalitions/{world.coalition.pk}/changes/", {
            "since": (timezone.now() - dt.timedelta(days=1)).isoformat()}).content.decode())
        assert ('<th scope="row">FR</th><td>troops (personnel)</td><td>new</td> <td class="num">—</td>'
                '<td class="num">700</td>' in changes) == (role == "ministry_fr"), role
        assert ('<td class="num">90</td>' in changes) == (role == "ministry_pl"), role


def test_the_secretariat_sees_answers_and_compiles_a_brief(world: World, scene: Scene) -> None:
    client = browser_for(world, "secretariat")
    page = re.sub(r"\s+", " ", client.get("/").content.decode())
    meeting = re.search(rf'id="meeting-{scene.meeting.pk}">(.*?)</article>', page).group(1)  # type: ignore[union-attr]
    assert "Defence ministers" in meeting and "No brief compiled yet." in meeting
    answers = re.sub(r"<[^>]+>", "", re.search(r'<ul class="answers".*?</ul>', meeting).group(0))  # type: ignore[union-attr]
    assert answers.split() == ["2", "confirmed", "0", "not", "yet", "answered", "1", "declined"]

    response = client.post(f"/meetings/{scene.meeting.pk}/briefs/")
    assert response.status_code == 302 and response["Location"] == f"/#meeting-{scene.meeting.pk}"
    brief = Brief.objects.get(meeting=scene.meeting)
    assert (brief.number, brief.status, brief.requested_by) == (1, BriefStatus.QUEUED, world.secretariat)
    page = client.get("/").content.decode()
    assert f'data-brief-url="/api/v1/briefs/{brief.pk}/"' in page and 'data-status="queued"' in page
    assert "Brief no. 1 for Defence ministers is queued" in page


@pytest.mark.parametrize("role", ["analyst", "ministry_pl"])
def test_only_the_secretariat_compiles(world: World, scene: Scene, role: str) -> None:
    response = browser_for(world, role).post(f"/meetings/{scene.meeting.pk}/briefs/")
    assert response.status_code == 403 and not Brief.objects.exists()
    assert "Compile brief" not in browser_for(world, role).get("/").content.decode()


def test_compiling_needs_a_post_and_a_meeting_one_may_see(world: World, scene: Scene) -> None:
    client = browser_for(world, "secretariat")
    assert client.get(f"/meetings/{scene.meeting.pk}/briefs/").status_code == 405
    assert client.post("/meetings/999999/briefs/").status_code == 404
    csrf_checked = Client(enforce_csrf_checks=True)
    csrf_checked.force_login(world.secretariat)
    assert csrf_checked.post(f"/meetings/{scene.meeting.pk}/briefs/").status_code == 403
    assert not Brief.objects.exists()


@pytest.mark.parametrize("language", ["de", "fr\x00", "x" * 10_000, "\ufffd"])
def test_a_brief_language_other_than_english_or_french_is_a_400_in_words(world: World, scene: Scene,
                                                                        language: str) -> None:
    """Before: the service's ValidationError escaped the view (a 500); the API answered 400 to the same."""
    client = browser_for(world, "secretariat")
    response = client.post(f"/meetings/{scene.meeting.pk}/briefs/", {"language": language})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Language: A brief is written in English (en) or French (fr)." in page and "Compile brief" in page
    assert not Brief.objects.exists()
    client.post("/language/", {"language": "fr"})
    french = client.post(f"/meetings/{scene.meeting.pk}/briefs/", {"language": "de"}).content.decode()
    assert "Langue : " in french and not Brief.objects.exists()


def test_analysts_get_the_api_requests_that_give_the_same_numbers(world: World, scene: Scene) -> None:
    client = browser_for(world, "analyst")
    page = html.unescape(client.get("/", {"coalition": world.coalition.pk}).content.decode())
    links = dict(re.findall(r'<li><a href="([^"]+)">([^<]+)</a> <code>GET', page))
    assert set(links.values()) >= {"Totals and gaps (JSON)", "Offered pledges (CSV)", "Tranches (CSV)"}
    force_url = next(url for url, what in links.items() if what == "Totals and gaps (JSON)")
    body = client.get(force_url).json()  # the browser's session answers the same request
    assert {(line["category"], line["unit"]): line["confirmed"] for line in body["categories"]} == {
        key: row["confirmed"] for key, row in force_table(page).items()}
    csv_url = next(url for url, what in links.items() if what == "Offered pledges (CSV)")
    csv = client.get(csv_url)
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    assert len(content_of(csv).decode().strip().splitlines()) == 1 + 4  # PL, PL stale, FR, GB offered


@pytest.mark.django_db(transaction=True)
def test_the_changes_page_lists_what_changed_since_the_previous_meeting(world: World, scene: Scene) -> None:
    from meetings import services as meeting_services

    start = timezone.now()  # after the scene: its pledges stood before the meeting
    meeting_services.meeting_create(actor=world.secretariat, coalition=world.coalition, title="Last ministerial",
                                    starts_at=start, ends_at=start + dt.timedelta(minutes=30),
                                    time_zone="Europe/Brussels")
    client = browser_for(world, "analyst")
    dashboard = client.get("/", {"coalition": world.coalition.pk}).content.decode()
    assert f'href="/coalitions/{world.coalition.pk}/changes/"' in dashboard
    assert "Changes since the previous meeting (Last ministerial)" in dashboard
    services.pledge_update(actor=world.ministry_pl, pledge=scene.pl_confirmed, quantity=1500)
    page = re.sub(r"\s+", " ", client.get(f"/coalitions/{world.coalition.pk}/changes/").content.decode())
    assert "since Last ministerial" in page
    assert re.search(r"<th scope=\"row\">PL</th><td>troops \(personnel\)</td><td>raised</td> <td class=\"num\">1,200"
                     r"</td><td class=\"num\">1,500</td>", page), page[:3000]


@pytest.mark.parametrize(("query", "status"), [({"since": "soon"}, 400), ({"cursor": "forged"}, 400)])
def test_the_changes_page_refuses_bad_input_clearly(world: World, scene: Scene, query: dict[str, str],
                                                    status: int) -> None:
    response = browser_for(world, "analyst").get(f"/coalitions/{world.coalition.pk}/changes/", query)
    assert response.status_code == status and 'class="errornote"' in response.content.decode()


def test_the_changes_of_a_coalition_one_is_not_in_are_404(world: World, scene: Scene) -> None:
    assert browser_for(world, "ministry_us").get(f"/coalitions/{world.coalition.pk}/changes/").status_code == 404


# The map adds six: the conditions, its two aggregates, the places, the categories and the units; the force picture's
# cache three when it computes (the data version before and after, how long the picture holds: pledges.answer_cache),
# and saves nine (its own seven, the conditions' among them, the second look and the lifetime) when it reads the
# picture back. The force over time adds seven (pledges.timeline: the conditions, the daily sums with the pledges
# ending, the requirements, the categories, the units, the rotations, the pledges relieved; the relieved pledges and
# the countries of rotations and endings only when there are: the analyst's scene has endings). The meeting
# outcomes' panel adds two (its first rows, and how many there are) for ministry staff (their open actions) and for
# the secretariat and administrators (every overdue action); analysts have none.
PINNED_QUERIES = {"ministry_pl": 44, "analyst": 33, "secretariat": 35, "admin": 33}


@pytest.mark.parametrize("role", list(PINNED_QUERIES))
def test_the_dashboard_costs_a_fixed_number_of_queries(world: World, scene: Scene, role: str, placed: None
                                                       ) -> None:
    client = browser_for(world, role)
    client.post(f"/meetings/{scene.meeting.pk}/briefs/") if role == "secretariat" else None

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/").status_code == 200
        return len(queries)

    before = count()
    for n in range(30):
        for country in (world.pl, world.fr, world.gb):
            make_pledge(country=country, coalition=world.coalition, category=world.troops, unit=world.personnel,
                        quantity=10 + n, status=("draft", "indicative", "confirmed")[n % 3],
                        place=Place.objects.get(pk=PLACES[n % len(PLACES)]))
    assert count() == before == PINNED_QUERIES[role]
    assert count() == PINNED_QUERIES[role] - 9  # nothing written since: the stored force picture


# --- the map -------------------------------------------------------------------------------------

PLACES = (703448, 698740, 702550, 759734)  # Kyiv, Odesa, Lviv, Rzeszów
MAP_ROW = re.compile(r'<tr data-place="(\d+)">\s*<td class="num">(\d+)</td>.*?<td class="num">(\d+)</td>', re.S)


def map_table(page: str) -> dict[int, tuple[int, int]]:
    """The map's table: place id -> (its number on the map, how many pledges there)."""
    return {int(place): (int(number), int(count)) for place, number, count in MAP_ROW.findall(page)}


def api_map(world: World, role: str) -> dict[int, int]:
    api = APIClient()
    api.force_authenticate(User.objects.get(pk=getattr(world, role).pk))
    body = api.get(f"/api/v1/coalitions/{world.coalition.pk}/map/").json()
    return {f["id"]: len(f["properties"]["pledges"]) for f in body["features"]}


@pytest.fixture
def placed(world: World, scene: Scene, gazetteer: None) -> None:
    """Places on the scene's pledges, the French draft's included (at Brest, which no one else may see)."""
    kyiv, odesa = Place.objects.get(pk=PLACES[0]), Place.objects.get(pk=PLACES[1])
    services.pledge_update(actor=world.ministry_pl, pledge=scene.pl_confirmed, place=kyiv)
    services.pledge_update(actor=world.ministry_pl, pledge=scene.pl_stale, place=odesa)
    gb = Pledge.objects.get(country=world.gb, coalition=world.coalition)
    services.pledge_update(actor=world.ministry_gb, pledge=gb, place=kyiv)
    services.pledge_update(actor=world.ministry_fr, pledge=scene.fr_draft, place=places_matching("Brest").first())


@pytest.mark.parametrize("role", ROLES)
def test_the_map_shows_the_places_of_the_api_map_with_a_circle_each(world: World, placed: None, role: str) -> None:
    page = browser_for(world, role).get("/", {"coalition": world.coalition.pk}).content.decode()
    table = map_table(page)
    assert {place: count for place, (_number, count) in table.items()} == api_map(world, role)
    assert sorted(number for number, _count in table.values()) == list(range(1, len(table) + 1))
    assert page.count('<g class="marker') == len(table)
    section = page[page.index('aria-labelledby="map-title"'):]
    assert "Brest" not in section  # the French draft's place, for every role (a draft is never on a map)
    assert 'class="land"' in page and page.count("<path d=\"M") > 10  # the countries are drawn


def test_the_map_is_drawn_by_the_server_with_no_script_and_no_other_host(world: World, placed: None) -> None:
    page = browser_for(world, "analyst").get("/").content.decode()
    svg = page[page.index('<svg class="map"'):page.index("</svg>", page.index('<svg class="map"'))]
    assert "<script" not in svg and "href" not in svg and "style=" not in svg  # nothing the CSP would refuse
    assert "<title>1. Kyiv (UA): Air: 12 aircraft; Troops: 1,200 personnel (2 pledges)</title>" in html.unescape(svg)


def test_circles_sized_by_one_capability_and_a_bad_choice_is_a_form_error(world: World, placed: None) -> None:
    client = browser_for(world, "secretariat")
    chosen = client.get("/", {"coalition": world.coalition.pk, "size_by": "air/aircraft"}).content.decode()
    assert '<option value="air/aircraft" selected>' in chosen
    assert "the amount of Air (aircraft) there" in html.unescape(chosen)
    bad = client.get("/", {"coalition": world.coalition.pk, "size_by": "ships/galleons"})
    assert bad.status_code == 200
    assert "Select a valid choice" in bad.content.decode()
    assert map_table(bad.content.decode()) == map_table(client.get("/").content.decode())
