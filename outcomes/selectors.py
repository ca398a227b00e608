"""Who may see a meeting's outcomes, and the reads that carry that rule.

Every member of the meeting's coalition reads them: its countries' ministry staff, and analysts, the secretariat
and administrators (who see every coalition); anyone else finds nothing (404), as for the meeting itself. The past
obeys the same rule: `outcomes_as_of` reads the rows as they stood at a moment, overdue as of that moment's day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Case, Q, QuerySet, Value, When
from django.utils import timezone

from accounts.roles import Reader
from outcomes.models import Outcome, overdue_q
from pledges.history import state_as_of
from pledges.visibility import coalitions_visible_to

OutcomeEvent = Outcome.pgh_event_model  # type: ignore[attr-defined]


def outcome_visibility_q(user: Reader, prefix: str = "") -> Q:
    """The outcomes of the meetings of the coalitions `user` sees (a live row or a history row alike)."""
    return Q(**{f"{prefix}meeting__coalition_id__in": coalitions_visible_to(user).values("pk")})


def with_overdue(rows: QuerySet[Any], day: dt.date) -> QuerySet[Any]:
    """Each row with `overdue` (an open action due before `day`), for filtering and ordering in SQL."""
    return rows.annotate(overdue=Case(When(overdue_q(day), then=Value(True)), default=Value(False)))


def outcomes_visible_to(user: Reader) -> QuerySet[Outcome]:
    return Outcome.objects.filter(outcome_visibility_q(user)).select_related("meeting", "owner")


def outcomes_as_of(user: Reader, moment: dt.datetime) -> QuerySet[Any]:
    """Outcome rows as they stood at `moment` that `user` may see, with `overdue` as of that moment's day."""
    rows = state_as_of(OutcomeEvent, moment).filter(outcome_visibility_q(user)).select_related("meeting", "owner")
    return with_overdue(rows, timezone.localtime(moment).date())


def open_actions_of(*, country_id: int | None, user: Reader) -> QuerySet[Outcome]:
    """A country's open actions (None: the secretariat's) among those `user` sees, overdue first, then by day."""
    rows = outcomes_visible_to(user).filter(kind="action", status="open", owner_id=country_id)
    return with_overdue(rows, timezone.localdate()).order_by("-overdue", "due_on", "id")
