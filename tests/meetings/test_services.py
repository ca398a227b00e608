"""Meeting, invitation and agenda services: secretariat only, validated, recorded in the history."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from meetings import services
from meetings.models import AgendaItem, Invitation, Meeting
from meetings.selectors import meetings_visible_to
from tests.conftest import World
from utilities.versioning import StaleVersion


def titles(meeting: Meeting) -> list[str]:
    return list(AgendaItem.objects.filter(meeting=meeting).order_by("position").values_list("title", flat=True))


def test_only_the_secretariat_creates_meetings(world: World) -> None:
    start = timezone.now() + dt.timedelta(days=3)
    for user in (world.analyst, world.ministry_pl):
        with pytest.raises(PermissionDenied):
            services.meeting_create(actor=user, coalition=world.coalition, title="x", starts_at=start,
                                    ends_at=start)
    assert not Meeting.objects.exists()


def test_meeting_create_validates(world: World) -> None:
    start = timezone.now() + dt.timedelta(days=3)
    with pytest.raises(ValidationError) as error:
        services.meeting_create(actor=world.secretariat, coalition=world.coalition, title="Ministers",
                                starts_at=start, ends_at=start - dt.timedelta(hours=1), time_zone="Mars/Olympus")
    assert "time_zone" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.meeting_create(actor=world.secretariat, coalition=world.coalition, title="Ministers",
                                starts_at=start, ends_at=start, chairs=[world.us])
    assert "United States" in str(error.value.message_dict["chairs"])
    assert not Meeting.objects.exists()


def test_meeting_update_checks_version_and_records_who(world: World, meeting: Meeting) -> None:
    meeting.refresh_from_db()
    version = meeting.version
    updated = services.meeting_update(actor=world.secretariat, meeting=meeting, expected_version=version,
                                      place="Lancaster House, London", chairs=[world.gb])
    assert updated.place == "Lancaster House, London"
    assert list(updated.chairs.values_list("code", flat=True)) == ["GB"]
    with pytest.raises(StaleVersion):
        services.meeting_update(actor=world.secretariat, meeting=meeting, expected_version=version, title="Old")
    event = Meeting.pgh_event_model.objects.filter(pgh_obj_id=meeting.pk).order_by("-pgh_id").first()
    assert event.place == "Lancaster House, London"
    assert event.pgh_context.metadata["username"] == "secretariat"
    assert event.pgh_context.metadata["action"] == "meeting_update"
    with pytest.raises(ValidationError):
        services.meeting_update(actor=world.secretariat, meeting=meeting, coalition=world.other_coalition)


def test_invitations_are_set_and_changed(world: World, meeting: Meeting) -> None:
    invitation = services.invitation_set(actor=world.secretariat, meeting=meeting, country=world.pl,
                                         status="declined", head_of_delegation="", level="")
    assert Invitation.objects.get(meeting=meeting, country=world.pl).status == "declined"
    assert invitation.pk == Invitation.objects.get(meeting=meeting, country=world.pl).pk
    with pytest.raises(ValidationError) as error:
        services.invitation_set(actor=world.secretariat, meeting=meeting, country=world.pl, status="attended")
    assert "not started" in str(error.value)
    with pytest.raises(ValidationError):
        services.invitation_set(actor=world.secretariat, meeting=meeting, country=world.pl, status="maybe")
    with pytest.raises(PermissionDenied):
        services.invitation_set(actor=world.ministry_pl, meeting=meeting, country=world.pl, status="confirmed")
    services.invitation_remove(actor=world.secretariat, invitation=invitation)
    assert not Invitation.objects.filter(meeting=meeting, country=world.pl).exists()


def test_agenda_add_move_remove_keep_positions_dense(world: World, meeting: Meeting) -> None:
    assert titles(meeting) == ["Force requirement and force picture", "National caveats"]
    first = services.agenda_item_add(actor=world.secretariat, meeting=meeting, title="Opening", position=1)
    services.agenda_item_add(actor=world.secretariat, meeting=meeting, title="Next steps")
    assert titles(meeting) == ["Opening", "Force requirement and force picture", "National caveats", "Next steps"]
    services.agenda_item_move(actor=world.secretariat, item=first, position=3)
    assert titles(meeting) == ["Force requirement and force picture", "National caveats", "Opening", "Next steps"]
    services.agenda_item_move(actor=world.secretariat, item=first, position=1)
    assert titles(meeting)[0] == "Opening"
    with pytest.raises(ValidationError):
        services.agenda_item_move(actor=world.secretariat, item=first, position=9)
    services.agenda_item_remove(actor=world.secretariat, item=first)
    assert titles(meeting) == ["Force requirement and force picture", "National caveats", "Next steps"]
    assert list(AgendaItem.objects.filter(meeting=meeting).order_by("position").values_list("position", flat=True)) \
        == [1, 2, 3]
    with pytest.raises(PermissionDenied):
        services.agenda_item_add(actor=world.analyst, meeting=meeting, title="Analyst's item")


def test_outcome_notes_mark_the_meeting_held(world: World, meeting: Meeting) -> None:
    held = services.meeting_outcome_record(actor=world.secretariat, meeting=meeting,
                                           outcome_notes="  Planners to report in June. ")
    assert (held.status, held.outcome_notes) == ("held", "Planners to report in June.")


def test_who_sees_which_meetings(world: World, meeting: Meeting) -> None:
    start = timezone.now() + dt.timedelta(days=10)
    udcg = services.meeting_create(actor=world.secretariat, coalition=world.other_coalition, title="UDCG",
                                   starts_at=start, ends_at=start)
    assert set(meetings_visible_to(world.analyst)) == {meeting, udcg}
    assert set(meetings_visible_to(world.secretariat)) == {meeting, udcg}
    assert set(meetings_visible_to(world.ministry_pl)) == {meeting, udcg}
    assert set(meetings_visible_to(world.ministry_us)) == {udcg}  # the US is not in the coalition of the willing


@pytest.mark.django_db(transaction=True)
def test_a_worker_claims_a_brief_while_a_request_holds_its_meeting(world: World) -> None:
    """A brief request locks its meeting (numbers are handed out one at a time); the claim must not skip the
    brief for it, nor the reaper."""
    import threading

    from django.db import connection, transaction

    from meetings.briefs.pipeline import _claim, briefs_reap_stale
    from meetings.models import Brief, BriefStatus, Meeting
    from tests.meetings.conftest import upcoming_meeting

    meeting = upcoming_meeting(world)
    brief = services.brief_request(actor=world.secretariat, meeting=meeting, queue=False)
    holding, release = threading.Event(), threading.Event()

    def hold_meeting() -> None:
        with transaction.atomic():
            Meeting.objects.select_for_update().get(pk=meeting.pk)
            holding.set()
            release.wait(30)
        connection.close()

    holder = threading.Thread(target=hold_meeting)
    holder.start()
    try:
        assert holding.wait(10)
        claimed = _claim(brief.pk)
        assert claimed is not None and claimed.status == BriefStatus.RUNNING
        Brief.objects.filter(pk=brief.pk).update(heartbeat_at=timezone.now() - dt.timedelta(hours=1))
        assert briefs_reap_stale()["requeued"] == 1
    finally:
        release.set()
        holder.join()
