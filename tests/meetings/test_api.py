"""The meetings and briefs API: who may do what, bad input as 400, ETags, downloads."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from meetings import services
from meetings.models import Brief, Meeting
from tests.conftest import World
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

    services.brief_compile(brief_id=brief["id"])
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
    services.brief_compile(brief_id=brief.pk)
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
