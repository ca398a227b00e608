"""The demo outcomes: loaded by seed_demo with its meetings, once, marked illustrative, one action overdue."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from outcomes.models import Outcome, is_overdue

pytestmark = pytest.mark.django_db


def test_seed_demo_loads_the_demo_outcomes_once() -> None:
    call_command("seed_demo")
    first = list(Outcome.objects.values_list("id", "version").order_by("id"))
    call_command("seed_demo")
    assert list(Outcome.objects.values_list("id", "version").order_by("id")) == first
    outcomes = list(Outcome.objects.select_related("meeting", "owner"))
    assert {o.meeting.starts_at.date().isoformat() for o in outcomes} == {"2025-03-27", "2025-04-10"}
    assert {o.owner.code for o in outcomes if o.owner} == {"FR", "GB", "PL"}
    assert any(o.kind == "action" and o.owner is None for o in outcomes)  # the secretariat's
    assert [(o.owner.code if o.owner else None) for o in outcomes if is_overdue(o)] == ["PL"]
    assert all(o.note.startswith("Illustrative") for o in outcomes)
    assert all(o.closed_on is not None for o in outcomes if o.status == "done")
