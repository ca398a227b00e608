"""Who may see meetings and briefs, and the reads that carry that rule.

Meetings: everyone authenticated in the coalition's world. The secretariat,
analysts and administrators see every meeting; ministry staff see the meetings
of coalitions their country is a member of. Briefs are for the secretariat and
analysts only; only the secretariat asks for one or runs meetings
(pledges.visibility.ensure_secretariat).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Prefetch, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import Actor, MinistryStaff, Reader, is_secretariat, sees_all_offered
from meetings.models import AgendaItem, Brief, Invitation, InvitationStatus, Meeting, MeetingStatus
from pledges.visibility import coalitions_visible_to

BRIEF_FILE_FIELDS = ("pdf", "xlsx", "snapshot")


@dataclass(frozen=True)
class SecretariatViewer:
    """The reader a brief is compiled for: secretariat-level visibility (every offered pledge, no drafts).

    A brief queued by the scheduler has no requesting user, and one asked for by
    an administrator must read exactly what the secretariat reads, so the brief
    never reads as a particular person.
    """

    is_authenticated: bool = True
    is_active: bool = True
    is_superuser: bool = False
    role: str = "secretariat"
    country_id: int | None = None
    pk: int | None = None
    username: str = "brief-compiler"


BRIEF_VIEWER = SecretariatViewer()


def meetings_visible_to(user: Reader) -> QuerySet[Meeting]:
    """A coalition's meetings are seen by whoever sees the coalition (pledges.visibility)."""
    return Meeting.objects.filter(coalition__in=coalitions_visible_to(user)).select_related(
        "coalition").prefetch_related("chairs")


def meeting_detail_queryset(user: Reader) -> QuerySet[Meeting]:
    """Meetings with their invitations and agenda joined in, for a detail view."""
    return meetings_visible_to(user).prefetch_related(
        Prefetch("invitations", queryset=Invitation.objects.select_related("country").order_by("country__name")),
        Prefetch("agenda_items", queryset=AgendaItem.objects.order_by("position")),
    )


def may_see_briefs(user: Reader) -> bool:
    """Briefs (their status and their files) are for the secretariat and analysts."""
    return sees_all_offered(user)


def briefs_visible_to(user: Reader) -> QuerySet[Brief]:
    """Briefs without their file columns; ministry staff see none."""
    if not may_see_briefs(user):
        return Brief.objects.none()
    return Brief.objects.select_related("meeting", "meeting__coalition", "requested_by").defer(*BRIEF_FILE_FIELDS)


def ensure_may_request_brief(user: Reader | Actor | None) -> None:
    if not is_secretariat(user):
        raise PermissionDenied(_("Only the secretariat may have a brief compiled."))


def previous_meeting(meeting: Meeting) -> Meeting | None:
    """The coalition's last meeting before this one (cancelled ones do not count)."""
    return (
        Meeting.objects.filter(coalition_id=meeting.coalition_id, starts_at__lt=meeting.starts_at)
        .exclude(status="cancelled")
        .exclude(pk=meeting.pk)
        .order_by("-starts_at")
        .first()
    )


def last_meeting_before(*, coalition_id: int, moment: dt.datetime) -> Meeting | None:
    """The coalition's last meeting that started before `moment` (cancelled ones do not count): "changes since
    the previous meeting" are counted from its start."""
    return (Meeting.objects.filter(coalition_id=coalition_id, starts_at__lt=moment)
            .exclude(status=MeetingStatus.CANCELLED).order_by("-starts_at").first())


def upcoming_meetings(*, user: Reader, limit: int) -> QuerySet[Meeting]:
    """The next planned meetings `user` may see (those under way included), each with how many countries are
    invited, confirmed, declined and attended (`answers_<status>`)."""
    counts = {f"answers_{status}": Count("invitations", filter=Q(invitations__status=status))
              for status in InvitationStatus.values}
    return (meetings_visible_to(user).filter(status=MeetingStatus.PLANNED, ends_at__gte=timezone.now())
            .annotate(**counts).order_by("starts_at", "id")[:limit])


def latest_briefs(*, user: Reader, meeting_ids: list[int], per_meeting: int) -> dict[int, list[Brief]]:
    """The newest `per_meeting` briefs of each meeting that `user` may see, newest first, in one query."""
    rank = Window(RowNumber(), partition_by=F("meeting_id"), order_by=F("number").desc())
    rows = (briefs_visible_to(user).filter(meeting_id__in=meeting_ids).annotate(rank=rank)
            .filter(rank__lte=per_meeting).order_by("meeting_id", "-number"))
    found: dict[int, list[Brief]] = {meeting_id: [] for meeting_id in meeting_ids}
    for brief in rows:
        found[brief.meeting_id].append(brief)
    return found


def country_invitations_upcoming(*, user: MinistryStaff, limit: int) -> QuerySet[Invitation]:
    """The invitations of `user`'s country to the next planned meetings it may see, with their answers."""
    return (Invitation.objects.filter(country_id=user.country_id, meeting__in=meetings_visible_to(user),
                                      meeting__status=MeetingStatus.PLANNED, meeting__ends_at__gte=timezone.now())
            .select_related("meeting", "meeting__coalition").order_by("meeting__starts_at", "id")[:limit])
