"""Emails about meetings: the reminder before a planned meeting, and the notice that a brief is ready.

- `reminders_send_due`: the coalition's `reminder_days` before a planned meeting, each invited country's
  ministry staff get one email listing their stale pledges, overdue tranches and drafts not offered, with links
  (read through pledges.selectors as that person, so it lists what they may see).
- `brief_ready_notify` (and the sweep in `reminders_send_due`): the secretariat gets an email when a brief is
  ready, with its download links.

Once per person and meeting (or brief), however often the job runs and on however many workers: each email
is first claimed (a Notification row, unique key, committed), then sent, then marked sent. A claim left unsent
by a worker that died is taken again after CLAIM_EXPIRES. Inactive users and users without an address get
nothing.

One person's or one meeting's mail that fails (a mail server that refuses or is down, an address or a stored
value the message cannot carry) never stops the others': it is logged, its claim released, and the next run
(beat, every 10 minutes) tries it again; the run goes on with everyone else and counts it as `failed`.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import zoneinfo
from collections import Counter
from collections.abc import Callable
from typing import Any, Literal

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import DurationField, ExpressionWrapper, F, Q, QuerySet, Value
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Role, User
from meetings.metrics import mail_sent
from meetings.models import Brief, BriefStatus, InvitationStatus, Meeting, MeetingStatus, Notification, NotificationKind
from pledges.selectors import country_attention
from utilities.mail import mail_message

logger = logging.getLogger(__name__)

CLAIM_EXPIRES = dt.timedelta(minutes=10)
BRIEF_NOTICE_WINDOW = dt.timedelta(days=1)  # ready briefs whose notice is still owed are looked for this far back
REMINDED = (InvitationStatus.INVITED, InvitationStatus.CONFIRMED)  # a country that declined is not reminded

# What the floors above add to the reminder (a country's open actions, from outcomes): each takes the meeting
# and the reader and answers how many items wait and the text listing them (in the active language; "" when
# none). Registered from their AppConfig.ready (register_reminder_section): meetings imports none of them.
ReminderSection = Callable[[Meeting, User], tuple[int, str]]
REMINDER_SECTIONS: list[ReminderSection] = []


def register_reminder_section(section: ReminderSection) -> None:
    """Add a section to every reminder, after those already there; registering one twice keeps the first."""
    if section not in REMINDER_SECTIONS:
        REMINDER_SECTIONS.append(section)


def _when(meeting: Meeting) -> str:
    """The meeting's start in its own time zone, in the active language ("jeudi 10 avril 2025, 09:00 CEST")."""
    start = meeting.starts_at.astimezone(zoneinfo.ZoneInfo(meeting.time_zone))
    return f"{date_format(start, 'l j F Y, H:i')} {start:%Z}"


def _language(user: User) -> str:
    return user.preferred_language or settings.LANGUAGE_CODE


Outcome = Literal["sent", "taken", "failed"]


def send_once(*, key: str, kind: str, meeting: Meeting, user: User, brief: Brief | None,
              message: Callable[[], EmailMessage]) -> Outcome:
    outcome = _send_once(key=key, kind=kind, meeting=meeting, user=user, brief=brief, message=message)
    mail_sent(kind, outcome)
    return outcome


def _send_once(*, key: str, kind: str, meeting: Meeting, user: User, brief: Brief | None,
               message: Callable[[], EmailMessage]) -> Outcome:
    """Claim `key`, make and send the message, mark it sent: "sent". "taken" when someone already sent (or is
    sending) it; "failed" when making or sending it failed (logged; the claim released for the next run)."""
    now = timezone.now()
    try:
        with transaction.atomic():
            Notification.objects.create(key=key, kind=kind, meeting=meeting, user=user, brief=brief, claimed_at=now)
    except IntegrityError:
        # Taken before: sent, being sent, or left by a worker that died (then taken again, by one worker only).
        retaken = Notification.objects.filter(key=key, sent_at__isnull=True,
                                              claimed_at__lt=now - CLAIM_EXPIRES).update(claimed_at=now)
        if not retaken:
            return "taken"
    try:
        message().send(fail_silently=False)
    except Exception:  # whatever it was, it is this mail's alone: the others go on
        logger.exception("Mail %s (to user %s) not sent; the next run tries again.", key, user.pk)
        Notification.objects.filter(key=key, sent_at__isnull=True).delete()  # not sent: the next run claims it
        return "failed"
    Notification.objects.filter(key=key).update(sent_at=timezone.now())
    return "sent"


def _reminder(meeting: Meeting, user: User) -> EmailMessage:
    with translation.override(_language(user)):
        return _reminder_in_language(meeting, user)


def _reminder_in_language(meeting: Meeting, user: User) -> EmailMessage:
    pending = country_attention(user=user, coalition_id=meeting.coalition_id)
    context: dict[str, Any] = {
        "meeting": meeting, "when": _when(meeting), "country": user.country, "base_url": settings.COALITION_BASE_URL,
        "stale": list(pending.stale), "overdue": list(pending.overdue), "drafts": list(pending.drafts),
    }
    sections = [section(meeting, user) for section in REMINDER_SECTIONS]
    context["sections"] = [text for _count, text in sections if text]
    waiting = len(context["stale"]) + len(context["overdue"]) + len(context["drafts"]) + sum(
        count for count, _text in sections)
    subject = _("%(title)s, %(day)s: ") % {"title": meeting.title, "day": date_format(meeting.starts_at, "j M Y")} + (
        ngettext("%(count)s item to look at", "%(count)s items to look at", waiting) % {"count": waiting}
        if waiting else _("nothing pending"))
    return mail_message(subject=subject, body=render_to_string("emails/reminder.txt", context), to=[user.email])


def _brief_ready(brief: Brief, user: User) -> EmailMessage:
    with translation.override(_language(user)):
        return _brief_ready_in_language(brief, user)


def _brief_ready_in_language(brief: Brief, user: User) -> EmailMessage:
    meeting = brief.meeting
    context = {"brief": brief, "meeting": meeting, "when": _when(meeting), "base_url": settings.COALITION_BASE_URL}
    return mail_message(subject=_("Brief no. %(number)s for %(title)s is ready") % {"number": brief.number,
                                                                                   "title": meeting.title},
                        body=render_to_string("emails/brief_ready.txt", context), to=[user.email])


def _recipients(**where: Any) -> QuerySet[User]:
    return User.objects.filter(is_active=True, **where).exclude(email="").select_related("country").order_by("pk")


def reminders_send_due(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Remind the staff of every invited country of each planned meeting due within its coalition's
    reminder_days; and send the notices still owed for briefs made ready lately. Returns the counts sent, and
    how many failed (to be tried again by the next run)."""
    now = now or timezone.now()
    reminders: Counter[str] = Counter()
    notices: Counter[str] = Counter()
    window = ExpressionWrapper(F("coalition__reminder_days") * Value(dt.timedelta(days=1)),
                               output_field=DurationField())
    due = (Meeting.objects.filter(status=MeetingStatus.PLANNED, starts_at__gt=now)
           .filter(starts_at__lte=Value(now) + window).select_related("coalition"))
    for meeting in due:
        invited = meeting.invitations.filter(status__in=REMINDED).values("country_id")
        for user in _recipients(role=Role.MINISTRY, country_id__in=invited):
            reminders[send_once(
                key=f"reminder:{meeting.pk}:{user.pk}", kind=NotificationKind.REMINDER, meeting=meeting, user=user,
                brief=None, message=functools.partial(_reminder, meeting, user))] += 1
    for brief_id in Brief.objects.filter(status=BriefStatus.READY, finished_at__gte=now - BRIEF_NOTICE_WINDOW
                                         ).values_list("pk", flat=True):
        notices.update(_notify_brief_ready(brief_id))
    return {"reminders": reminders["sent"], "brief_notices": notices["sent"],
            "failed": reminders["failed"] + notices["failed"]}


def brief_ready_notify(*, brief_id: int) -> int:
    """Tell the secretariat (and whoever asked for it) that a ready brief can be downloaded; once each. Returns
    how many were sent (one that failed is sent by the sweep in reminders_send_due)."""
    return _notify_brief_ready(brief_id)["sent"]


def _notify_brief_ready(brief_id: int) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    brief = Brief.objects.select_related("meeting", "meeting__coalition").defer("pdf", "xlsx", "snapshot").filter(
        pk=brief_id, status=BriefStatus.READY).first()
    if brief is None:
        return outcomes
    recipients = _recipients().filter(Q(role=Role.SECRETARIAT) | Q(pk=brief.requested_by_id))
    for user in recipients:
        outcomes[send_once(key=f"brief:{brief.pk}:{user.pk}", kind=NotificationKind.BRIEF_READY,
                           meeting=brief.meeting, user=user, brief=brief,
                           message=functools.partial(_brief_ready, brief, user))] += 1
    return outcomes
