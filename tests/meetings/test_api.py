"""The meetings and briefs API: who may do what, bad input as 400, ETags, downloads."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from meetings import services
from meetings.briefs import pipeline
from meetings.models import Brief, Meeting
from pledges.models import Country
from tests.conftest import World
from tests.factories import CountryFactory, member
from tests.meetings.conftest import API_URLCONF, client_for, pledges_with_caveats
from tests.meetings.helpers import pdf_text

pytestmark = pytest.mark.urls(API_URLCONF)


def new_meeting_body(world: World, **overrides: object) -> dict[str, object]:
    start = timezone.now() + dt.timedelta(days=14)
    body: dict[str, object] = {
        "coalition": world.coalition.pk, "title": "Chiefs of defence", "kind": "chiefs_of_defence",
        "starts_at": start.isoformat(), "ends_at": (start + dt.timedelta(hours=5)).isoformat(),
        "time_zone": "Europe/London", "place": "Northwood", "chairs": ["GB", "FR"],
    }
    body.update(overrides)
    return body


def test_meetings_are_listed_to_whoever_may_see_them(world: World, meeting: Meeting) -> None:
    start = timezone.now() + dt.timedelta(days=30)
    udcg = services.meeting_create(actor=world.secretariat, coalition=world.other_coalition, title="UDCG",
                                   starts_at=start, ends_at=start)
    def ids(user: object) -> set[int]:
        response = client_for(user).get("/api/v1/meetings/")
        assert response.status_code == 200
        return {m["id"] for m in response.json()["results"]}

    assert ids(world.analyst) == ids(world.secretariat) == ids(world.ministry_pl) == {meeting.pk, udcg.pk}
    assert ids(world.ministry_us) == {udcg.pk}
    assert client_for(None).get("/api/v1/meetings/").status_code == 401
    assert client_for(world.ministry_us).get(f"/api/v1/meetings/{meeting.pk}/").status_code == 404


def test_meeting_list_query_count_does_not_grow(world: World, meeting: Meeting, django_assert_num_queries) -> None:
    for days in (20, 21, 22):
        services.meeting_create(actor=world.secretariat, coalition=world.coalition, title=f"M{days}",
                                starts_at=timezone.now() + dt.timedelta(days=days),
                                ends_at=timezone.now() + dt.timedelta(days=days), chairs=[world.fr])
    client = client_for(world.analyst)
    with django_assert_num_queries(3):  # count, page, chairs
        assert len(client.get("/api/v1/meetings/").json()["results"]) == 4


def test_meeting_detail_has_invitations_agenda_and_etag(world: World, meeting: Meeting) -> None:
    response = client_for(world.ministry_pl).get(f"/api/v1/meetings/{meeting.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["chairs"] == ["FR", "GB"]
    assert [i["country"] for i in body["invitations"]] == ["FR", "PL", "GB"]  # by name: France, Poland, UK
    assert body["attendance"] == {"invited": 3, "confirmed": 2, "declined": 1, "attended": 0}
    assert [a["title"] for a in body["agenda"]] == ["Force requirement and force picture", "National caveats"]
    assert response["ETag"] == f'"{meeting.pk}-{body["version"]}"'


def test_only_the_secretariat_creates_and_changes_meetings(world: World, meeting: Meeting) -> None:
    for user in (world.analyst, world.ministry_pl):
        assert client_for(user).post("/api/v1/meetings/", new_meeting_body(world)).status_code == 403
        assert client_for(user).patch(f"/api/v1/meetings/{meeting.pk}/", {"place": "x"}).status_code == 403
    response = client_for(world.secretariat).post("/api/v1/meetings/", new_meeting_body(world))
    assert response.status_code == 201, response.json()
    assert response.json()["chairs"] == ["FR", "GB"]
    assert Meeting.objects.filter(title="Chiefs of defence", place="Northwood").exists()


@pytest.mark.parametrize(("overrides", "field"), [
    ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ({"chairs": ["US"]}, "chairs"),
    ({"chairs": ["ZZ"]}, "chairs"),
    ({"kind": "picnic"}, "kind"),
    ({"starts_at": "yesterday"}, "starts_at"),
    ({"coalition": 999999}, "coalition"),
    ({"title": ""}, "title"),
])
def test_bad_meeting_input_is_a_400_with_the_field(world: World, overrides: dict, field: str) -> None:
    response = client_for(world.secretariat).post("/api/v1/meetings/", new_meeting_body(world, **overrides))
    assert response.status_code == 400
    assert field in response.json()


def test_a_meeting_that_ends_before_it_starts_is_refused(world: World) -> None:
    start = timezone.now() + dt.timedelta(days=3)
    body = new_meeting_body(world, starts_at=start.isoformat(), ends_at=(start - dt.timedelta(hours=2)).isoformat())
    response = client_for(world.secretariat).post("/api/v1/meetings/", body)
    assert response.status_code == 400
    assert "cannot end before it starts" in str(response.json())


def test_patch_honours_if_match(world: World, meeting: Meeting) -> None:
    client = client_for(world.secretariat)
    etag = client.get(f"/api/v1/meetings/{meeting.pk}/")["ETag"]
    ok = client.patch(f"/api/v1/meetings/{meeting.pk}/", {"place": "Lancaster House"}, HTTP_IF_MATCH=etag)
    assert ok.status_code == 200 and ok.json()["place"] == "Lancaster House"
    assert ok["ETag"] != etag
    stale = client.patch(f"/api/v1/meetings/{meeting.pk}/", {"place": "Élysée"}, HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert Meeting.objects.get(pk=meeting.pk).place == "Lancaster House"
    moved = client.patch(f"/api/v1/meetings/{meeting.pk}/", {"coalition": world.other_coalition.pk})
    assert moved.status_code == 400


def test_brief_request_answers_202_and_downloads_wait_until_ready(world: World, meeting: Meeting) -> None:
    pledges_with_caveats(world)
    for user in (world.analyst, world.ministry_pl):
        assert client_for(user).post(f"/api/v1/meetings/{meeting.pk}/briefs/").status_code == 403
    secretariat = client_for(world.secretariat)
    response = secretariat.post(f"/api/v1/meetings/{meeting.pk}/briefs/")
    assert response.status_code == 202
    brief = response.json()
    assert (brief["status"], brief["progress"], brief["number"], brief["pdf_url"]) == ("queued", 0, 1, None)
    assert response["Location"].endswith(f"/api/v1/briefs/{brief['id']}/")
    not_ready = secretariat.get(f"/api/v1/briefs/{brief['id']}/pdf")
    assert not_ready.status_code == 409 and "queued" in not_ready.json()["detail"]

    pipeline.brief_compile(brief_id=brief["id"])
    status = client_for(world.analyst).get(f"/api/v1/briefs/{brief['id']}/").json()
    assert (status["status"], status["progress"], status["error"]) == ("ready", 100, "")
    assert status["pdf_url"].endswith(f"/api/v1/briefs/{brief['id']}/pdf")
    for user in (world.secretariat, world.analyst):
        pdf = client_for(user).get(f"/api/v1/briefs/{brief['id']}/pdf")
        assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
        assert pdf["Content-Disposition"].startswith('attachment; filename="brief-')
        assert "No Polish troops on Ukrainian territory." in pdf_text(pdf.content)
        xlsx = client_for(user).get(f"/api/v1/briefs/{brief['id']}/xlsx")
        assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
        assert xlsx["Content-Disposition"].endswith('.xlsx"')
    listed = client_for(world.analyst).get(f"/api/v1/meetings/{meeting.pk}/briefs/").json()["results"]
    assert [b["id"] for b in listed] == [brief["id"]]


def test_ministry_staff_get_no_brief(world: World, meeting: Meeting) -> None:
    brief = services.brief_request(actor=world.secretariat, meeting=meeting)
    pipeline.brief_compile(brief_id=brief.pk)
    client = client_for(world.ministry_pl)
    for path in (f"/api/v1/briefs/{brief.pk}/", f"/api/v1/briefs/{brief.pk}/pdf", f"/api/v1/briefs/{brief.pk}/xlsx"):
        assert client.get(path).status_code == 404
    assert client.get(f"/api/v1/meetings/{meeting.pk}/briefs/").status_code == 403
    assert client_for(None).get(f"/api/v1/briefs/{brief.pk}/pdf").status_code == 401
    assert client_for(world.analyst).get("/api/v1/briefs/999999/pdf").status_code == 404
    assert Brief.objects.count() == 1


@pytest.mark.parametrize("field", ["starts_at", "ends_at"])
@pytest.mark.parametrize("moment", ["0001-01-01T09:00:00Z", "1899-12-31T09:00:00Z", "2201-01-01T09:00:00Z"])
def test_meeting_dates_outside_the_sane_years_are_400(world: World, meeting: Meeting, field: str,
                                                      moment: str) -> None:
    secretariat = client_for(world.secretariat)
    version = Meeting.objects.get(pk=meeting.pk).version
    body = new_meeting_body(world, starts_at=moment, ends_at=moment) if field == "starts_at" else (
        new_meeting_body(world, ends_at=moment))
    created = secretariat.post("/api/v1/meetings/", body, format="json")
    assert created.status_code == 400 and field in created.json(), created.content
    changed = secretariat.patch(f"/api/v1/meetings/{meeting.pk}/", {field: moment}, format="json")
    assert changed.status_code == 400 and field in changed.json(), changed.content
    meeting.refresh_from_db()
    assert meeting.version == version and 1900 <= meeting.starts_at.year <= 2200


def test_meeting_write_with_an_unknown_field_is_400(world: World, meeting: Meeting) -> None:
    response = client_for(world.secretariat).patch(f"/api/v1/meetings/{meeting.pk}/", {"venue": "Oslo"},
                                                   format="json")
    assert response.status_code == 400 and "venue" in response.json()


def test_all_briefs_are_listed_to_the_secretariat_and_analysts_only(world: World, meeting: Meeting) -> None:
    first = services.brief_request(actor=world.secretariat, meeting=meeting, queue=False)
    second = services.brief_request(actor=world.secretariat, meeting=meeting, queue=False)
    for user in (world.secretariat, world.analyst):
        response = client_for(user).get("/api/v1/briefs/")
        assert response.status_code == 200
        assert [b["id"] for b in response.json()["results"]] == [second.pk, first.pk]
    assert client_for(world.ministry_pl).get("/api/v1/briefs/").status_code == 403
    assert client_for(None).get("/api/v1/briefs/").status_code == 401


# --- invitations and agenda ---------------------------------------------------------------------------

@pytest.fixture
def italy(world: World) -> Country:
    """A member of the meeting's coalition not yet invited."""
    country = CountryFactory(code="IT", name="Italy")
    member(country, world.coalition)
    return country


def test_the_secretariat_invites_changes_and_uninvites_a_country(world: World, meeting: Meeting,
                                                                 italy: Country) -> None:
    client = client_for(world.secretariat)
    base = f"/api/v1/meetings/{meeting.pk}"
    etag = client.get(f"{base}/")["ETag"]
    created = client.post(f"{base}/invitations/", {"country": "it", "head_of_delegation": " Guido Crosetto ",
                                                   "level": "minister"}, format="json", HTTP_IF_MATCH=etag)
    assert created.status_code == 201, created.content
    assert created.json() == {"country": "IT", "country_name": "Italy", "status": "invited",
                              "head_of_delegation": "Guido Crosetto", "level": "minister"}
    assert created["ETag"] != etag
    stale = client.post(f"{base}/invitations/", {"country": "IT", "status": "declined"}, format="json",
                        HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    again = client.post(f"{base}/invitations/", {"country": "IT", "status": "confirmed", "level": "minister",
                                                 "head_of_delegation": "Guido Crosetto"}, format="json")
    assert again.status_code == 200 and again.json()["status"] == "confirmed"
    changed = client.patch(f"{base}/invitations/it/", {"level": "deputy_minister"}, format="json")
    assert changed.status_code == 200, changed.content
    assert (changed.json()["status"], changed.json()["level"]) == ("confirmed", "deputy_minister")
    body = client.get(f"{base}/").json()
    italy = next(i for i in body["invitations"] if i["country"] == "IT")
    assert (italy["status"], italy["level"], italy["head_of_delegation"]) == (
        "confirmed", "deputy_minister", "Guido Crosetto")
    assert body["attendance"]["confirmed"] == 3
    assert client.delete(f"{base}/invitations/IT/").status_code == 204
    assert "IT" not in [i["country"] for i in client.get(f"{base}/").json()["invitations"]]
    assert client.delete(f"{base}/invitations/IT/").status_code == 404
    assert client.patch(f"{base}/invitations/IT/", {"level": "official"}, format="json").status_code == 404


def test_the_secretariat_adds_moves_and_removes_agenda_items(world: World, meeting: Meeting) -> None:
    client = client_for(world.secretariat)
    base = f"/api/v1/meetings/{meeting.pk}"

    def titles() -> list[str]:
        agenda = client.get(f"{base}/").json()["agenda"]
        assert [a["position"] for a in agenda] == list(range(1, len(agenda) + 1))
        return [a["title"] for a in agenda]

    added = client.post(f"{base}/agenda/", {"title": "Air policing", "description": "Baltic rotation"},
                        format="json")
    assert added.status_code == 201, added.content
    assert (added.json()["position"], added.json()["title"]) == (3, "Air policing")
    first = client.post(f"{base}/agenda/", {"title": "Opening", "position": 1}, format="json")
    assert first.status_code == 201 and first.json()["position"] == 1
    assert titles() == ["Opening", "Force requirement and force picture", "National caveats", "Air policing"]
    item = added.json()["id"]
    moved = client.patch(f"{base}/agenda/{item}/", {"position": 2, "title": "Air policing (Baltic)"},
                         format="json")
    assert moved.status_code == 200, moved.content
    assert (moved.json()["position"], moved.json()["description"]) == (2, "Baltic rotation")
    assert titles() == ["Opening", "Air policing (Baltic)", "Force requirement and force picture",
                        "National caveats"]
    assert client.get(f"{base}/agenda/").json()["results"][1]["title"] == "Air policing (Baltic)"
    assert client.delete(f"{base}/agenda/{first.json()['id']}/").status_code == 204
    assert titles() == ["Air policing (Baltic)", "Force requirement and force picture", "National caveats"]
    assert client.delete(f"{base}/agenda/{first.json()['id']}/").status_code == 404


def test_only_the_secretariat_writes_invitations_and_agenda(world: World, meeting: Meeting) -> None:
    base = f"/api/v1/meetings/{meeting.pk}"
    item = meeting.agenda_items.get(position=1)
    version = Meeting.objects.get(pk=meeting.pk).version
    for user in (world.analyst, world.ministry_pl, world.ministry_us):
        client = client_for(user)
        assert client.post(f"{base}/invitations/", {"country": "IT"}, format="json").status_code == 403
        assert client.patch(f"{base}/invitations/PL/", {"status": "declined"}, format="json").status_code == 403
        assert client.delete(f"{base}/invitations/PL/").status_code == 403
        assert client.post(f"{base}/agenda/", {"title": "Mine"}, format="json").status_code == 403
        assert client.patch(f"{base}/agenda/{item.pk}/", {"position": 2}, format="json").status_code == 403
        assert client.delete(f"{base}/agenda/{item.pk}/").status_code == 403
    assert Meeting.objects.get(pk=meeting.pk).version == version
    assert client_for(world.ministry_pl).get(f"{base}/invitations/").status_code == 200
    assert client_for(world.ministry_us).get(f"{base}/invitations/").status_code == 404
    assert client_for(world.ministry_us).get(f"{base}/agenda/").status_code == 404
    assert client_for(None).get(f"{base}/agenda/").status_code == 401


@pytest.mark.parametrize(("path", "method", "body", "field"), [
    ("invitations/", "post", {"country": "ZZ"}, "country"),
    ("invitations/", "post", {"country": "US"}, "country"),  # not a member of this coalition
    ("invitations/", "post", {"country": "IT", "status": "maybe"}, "status"),
    ("invitations/", "post", {"country": "IT", "level": "king"}, "level"),
    ("invitations/", "post", {"country": "IT", "status": "attended"}, "status"),  # the meeting has not started
    ("invitations/", "post", {"country": "IT", "seat": "front"}, "seat"),
    ("invitations/PL/", "patch", {"country": "FR"}, "country"),
    ("invitations/PL/", "patch", {"level": "king"}, "level"),
    ("agenda/", "post", {"title": "Late item", "position": 4}, "position"),
    ("agenda/", "post", {"title": "Early item", "position": 0}, "position"),
    ("agenda/", "post", {"title": "  "}, "title"),
    ("agenda/", "post", {"title": "x" * 301}, "title"),
    ("agenda/", "post", {"title": "Nul\x00"}, "title"),
    ("agenda/ITEM/", "patch", {"position": 3}, "position"),
    ("agenda/ITEM/", "patch", {"title": ""}, "title"),
    ("agenda/ITEM/", "patch", {"order": 1}, "order"),
])
def test_bad_invitation_and_agenda_input_is_a_400_with_the_field(world: World, meeting: Meeting, italy: Country,
                                                                 path: str, method: str, body: dict,
                                                                 field: str) -> None:
    path = path.replace("ITEM", str(meeting.agenda_items.get(position=1).pk))
    version = Meeting.objects.get(pk=meeting.pk).version
    response = getattr(client_for(world.secretariat), method)(f"/api/v1/meetings/{meeting.pk}/{path}", body,
                                                              format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Meeting.objects.get(pk=meeting.pk).version == version


def test_invitation_list_query_count_does_not_grow(world: World, meeting: Meeting, italy: Country,
                                                   django_assert_num_queries) -> None:
    client = client_for(world.analyst)
    with django_assert_num_queries(3):  # meeting, count, page with countries
        assert len(client.get(f"/api/v1/meetings/{meeting.pk}/invitations/").json()["results"]) == 3
    services.invitation_set(actor=world.secretariat, meeting=meeting, country=italy)
    with django_assert_num_queries(3):
        body = client.get(f"/api/v1/meetings/{meeting.pk}/invitations/").json()
    assert [i["country"] for i in body["results"]] == ["FR", "IT", "PL", "GB"]


@pytest.mark.django_db(transaction=True)  # autocommit, as in production: one refused statement spoils nothing
def test_fuzzing_the_invitation_and_agenda_writes_finds_no_server_error(world: World, italy: Country) -> None:
    """The shared schema fuzz runs as analyst and ministry (403 on these writes); here the secretariat reaches
    the services with generated bodies at a meeting, an invitation and an agenda item that exist."""
    import schemathesis
    from django.core.cache import cache
    from hypothesis import HealthCheck, given, settings
    from knox.models import AuthToken
    from schemathesis.generation.modes import GenerationMode

    from coalition.wsgi import application
    from tests.meetings.conftest import upcoming_meeting

    cache.clear()  # the request throttles count in the cache
    meeting = upcoming_meeting(world)
    _, token = AuthToken.objects.create(user=world.secretariat, expiry=None)
    headers = {"Authorization": f"Token {token}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [op for op in operations if "/invitations/" in op.path or "/agenda/" in op.path]
    assert len(operations) == 12  # GET and POST on each list, GET, PUT, PATCH and DELETE on each item
    failures: list[str] = []
    answers: set[int] = set()
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            item = meeting.agenda_items.order_by("position").first()
            fixed = {"id": meeting.pk, "country_code": "PL", "item_id": item.pk if item else 1}
            fixed = {k: v for k, v in fixed.items() if f"{{{k}}}" in operation.path}

            @given(case=operation.as_strategy(mode, path_parameters=fixed if mode == GenerationMode.POSITIVE
                                              else None))
            @settings(max_examples=15, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
            def run(case: schemathesis.Case) -> None:
                response = case.call(headers=headers)
                answers.add(response.status_code)
                if response.status_code >= 500:
                    failures.append(f"{response.status_code} for {case.as_curl_command()}")

            try:
                run()
            except Exception as error:  # Unsatisfiable: nothing here can be made invalid
                assert type(error).__name__ == "Unsatisfiable" and mode == GenerationMode.NEGATIVE, error
    assert failures == []
    assert {200, 201, 204, 400} <= answers  # the generated requests reached the services, and were refused too
    positions = list(meeting.agenda_items.order_by("position").values_list("position", flat=True))
    assert positions == list(range(1, len(positions) + 1))


def test_a_brief_is_asked_for_in_a_language(world: World, meeting: Meeting) -> None:
    from accounts.models import User

    secretariat = client_for(world.secretariat)
    french = secretariat.post(f"/api/v1/meetings/{meeting.pk}/briefs/", {"language": "fr"}, format="json")
    assert french.status_code == 202 and french.json()["language"] == "fr"
    refused = secretariat.post(f"/api/v1/meetings/{meeting.pk}/briefs/", {"language": "de"}, format="json")
    assert refused.status_code == 400 and "language" in refused.json()
    assert secretariat.post(f"/api/v1/meetings/{meeting.pk}/briefs/", format="json").json()["language"] == "en"
    User.objects.filter(pk=world.secretariat.pk).update(preferred_language="fr")
    assert client_for(User.objects.get(pk=world.secretariat.pk)).post(
        f"/api/v1/meetings/{meeting.pk}/briefs/", format="json").json()["language"] == "fr"
