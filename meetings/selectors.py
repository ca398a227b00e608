"""Who may see meetings and briefs, and the reads that carry that rule.

Meetings: everyone authenticated in the coalition's world. The secretariat,
analysts and administrators see every meeting; ministry staff see the meetings
of coalitions their country is a member of. Briefs are for the secretariat and
analysts only; only the secretariat asks for one or runs meetings
(pledges.visibility.ensure_secretariat).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet

from meetings.models import AgendaItem, Brief, Invitation, Meeting
from pledges.visibility import coalitions_visible_to, is_secretariat, sees_all_offered

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


def meetings_visible_to(user: Any) -> QuerySet[Meeting]:
    """A coalition's meetings are seen by whoever sees the coalition (pledges.visibility)."""
    return Meeting.objects.filter(coalition__in=coalitions_visible_to(user)).select_related(
        "coalition").prefetch_related("chairs")


def meeting_detail_queryset(user: Any) -> QuerySet[Meeting]:
    """Meetings with their invitations and agenda joined in, for a detail view."""
    return meetings_visible_to(user).prefetch_related(
        Prefetch("invitations", queryset=Invitation.objects.select_related("country").order_by("country__name")),
        Prefetch("agenda_items", queryset=AgendaItem.objects.order_by("position")),
    )


def may_see_briefs(user: Any) -> bool:
    """Briefs (their status and their files) are for the secretariat and analysts."""
    return sees_all_offered(user)


def briefs_visible_to(user: Any) -> QuerySet[Brief]:
    """Briefs without their file columns; ministry staff see none."""
    if not may_see_briefs(user):
        return Brief.objects.none()
    return Brief.objects.select_related("meeting", "meeting__coalition", "requested_by").defer(*BRIEF_FILE_FIELDS)


def ensure_may_request_brief(user: Any) -> None:
    if not is_secretariat(user):
        raise PermissionDenied("Only the secretariat may have a brief compiled.")


def previous_meeting(meeting: Meeting) -> Meeting | None:
    """The coalition's last meeting before this one (cancelled ones do not count)."""
    return (
        Meeting.objects.filter(coalition_id=meeting.coalition_id, starts_at__lt=meeting.starts_at)
        .exclude(status="cancelled")
        .exclude(pk=meeting.pk)
        .order_by("-starts_at")
        .first()
    )
