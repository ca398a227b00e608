"""The emails about outcomes: the pre-meeting reminder's list of the reader's country's open actions (overdue
first; a reminder section registered from outcomes.apps, as meetings imports nothing of outcomes), and the email
an owner country's ministry staff get, once each, when an action is recorded for their country (sent after the
recording commits, claimed once like every mail: meetings.reminders.send_once)."""

from __future__ import annotations

import functools

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import Role, User
from meetings.models import Meeting, NotificationKind
from meetings.reminders import send_once
from outcomes.models import Outcome, OutcomeKind
from outcomes.selectors import open_actions_of
from utilities.mail import mail_message


def open_actions_section(meeting: Meeting, user: User) -> tuple[int, str]:
    """The reader's country's open actions in the meeting's coalition, overdue first, as the reminder's text."""
    if user.country_id is None:
        return 0, ""
    rows = list(open_actions_of(country_id=user.country_id, user=user).filter(
        meeting__coalition_id=meeting.coalition_id))
    if not rows:
        return 0, ""
    return len(rows), render_to_string("emails/open_actions.txt", {
        "rows": rows, "country": user.country, "base_url": settings.COALITION_BASE_URL})


def _message(outcome: Outcome, user: User) -> EmailMessage:
    with translation.override(user.preferred_language or settings.LANGUAGE_CODE):
        subject = _("Action for %(country)s, due %(day)s: %(title)s") % {
            "country": outcome.owner.name if outcome.owner else "", "title": outcome.meeting.title,
            "day": date_format(outcome.due_on, "j M Y") if outcome.due_on else ""}
        body = render_to_string("emails/action_recorded.txt", {
            "outcome": outcome, "meeting": outcome.meeting, "base_url": settings.COALITION_BASE_URL})
        return mail_message(subject=subject, body=body, to=[user.email])


def action_recorded_notify(*, outcome_id: int) -> int:
    """Tell the owner country's active ministry staff of an action recorded for it; once each. Returns how
    many were sent."""
    outcome = Outcome.objects.select_related("meeting", "owner").filter(
        pk=outcome_id, kind=OutcomeKind.ACTION, owner__isnull=False).first()
    if outcome is None or outcome.owner_id is None:
        return 0
    staff = User.objects.filter(is_active=True, role=Role.MINISTRY, country_id=outcome.owner_id).exclude(
        email="").select_related("country").order_by("pk")
    return sum(
        send_once(key=f"action:{outcome.pk}:{user.pk}", kind=NotificationKind.ACTION_RECORDED,
                  meeting=outcome.meeting, user=user, brief=None,
                  message=functools.partial(_message, outcome, user)) == "sent"
        for user in staff
    )
