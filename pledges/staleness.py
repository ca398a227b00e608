"""When an offer turns stale: not reconfirmed within its coalition's `reconfirm_days` (DESIGN.md, "Reconfirmation").

One rule in two shapes: `stale_expression` flags rows in SQL (the lists, the totals, the brief), and
`next_stale_moment` finds when the next offer turns stale (how long a kept answer holds: pledges.answer_cache).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import BooleanField, DateTimeField, DurationField, ExpressionWrapper, F, Min, Q, Value

from pledges.models import OFFERED, Pledge


def _reconfirm_period() -> ExpressionWrapper:
    return ExpressionWrapper(F("coalition__reconfirm_days") * Value(dt.timedelta(days=1)),
                             output_field=DurationField())


def stale_expression(moment: dt.datetime) -> ExpressionWrapper:
    """True for an offered pledge not reconfirmed within its coalition's reconfirm_days before `moment`."""
    threshold = Value(moment) - _reconfirm_period()
    return ExpressionWrapper(Q(status__in=OFFERED, reconfirmed_at__lt=threshold), output_field=BooleanField())


def next_stale_moment(*, after: dt.datetime, coalition_id: int | None = None) -> dt.datetime | None:
    """The first moment after `after` at which an offered pledge (of the coalition; None: of any) turns stale,
    by the rule of stale_expression."""
    pledges = Pledge.objects.filter(status__in=OFFERED)
    if coalition_id is not None:
        pledges = pledges.filter(coalition_id=coalition_id)
    turns_stale = ExpressionWrapper(F("reconfirmed_at") + _reconfirm_period(), output_field=DateTimeField())
    first: dt.datetime | None = pledges.annotate(stale_at=turns_stale).filter(stale_at__gt=after).aggregate(
        first=Min("stale_at"))["first"]
    return first
