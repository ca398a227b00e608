"""The outcome rules in the services and in the database: kinds, statuses, closing days, owners, overdue."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from outcomes import services
from outcomes.models import Outcome
from outcomes.selectors import open_actions_of, outcomes_as_of, outcomes_visible_to
from tests.conftest import World
from tests.outcomes.conftest import Outcomes
from utilities.versioning import StaleVersion, history_context

pytestmark = pytest.mark.django_db


def test_recording_sets_the_status_of_the_kind(outcomes: Outcomes) -> None:
    assert outcomes.decision.status == "recorded" and outcomes.decision.closed_on is None
    assert outcomes.pl_action.status == "open" and outcomes.pl_action.version == 1


@pytest.mark.parametrize(("changes", "field"), [
    ({"kind": "decision"}, "due_on"),
    ({"kind": "action", "due_on": None}, "due_on"),
    ({"kind": "action", "due_on": dt.date(2026, 1, 1), "status": "recorded"}, "status"),
    ({"kind": "decision", "status": "open"}, "status"),
])
def test_the_kind_rules_are_refused_by_name(world: World, outcomes: Outcomes, changes: dict, field: str) -> None:
    base = {"meeting": outcomes.meeting, "text": "Text.", "kind": "action", "due_on": dt.date(2026, 1, 1)}
    with pytest.raises(ValidationError) as refused:
        services.outcome_record(actor=world.secretariat, **{**base, **changes})
    assert field in refused.value.message_dict


def test_the_database_keeps_the_kind_and_closing_rules(world: World, outcomes: Outcomes) -> None:
    for change in ({"status": "recorded"}, {"due_on": None}, {"status": "done"}, {"closed_on": dt.date(2026, 1, 1)},
                   {"text": ""}):
        with pytest.raises(IntegrityError), transaction.atomic(), history_context(world.secretariat, "test"):
            Outcome.objects.filter(pk=outcomes.pl_action.pk).update(**change)
    with pytest.raises(IntegrityError), transaction.atomic(), history_context(world.secretariat, "test"):
        Outcome.objects.filter(pk=outcomes.decision.pk).update(owner=world.pl)


def test_the_owner_must_be_a_member_of_the_meetings_coalition(world: World, outcomes: Outcomes) -> None:
    with pytest.raises(ValidationError) as refused:
        services.outcome_record(actor=world.secretariat, meeting=outcomes.meeting, kind="action", owner=world.us,
                                text="Send ships.", due_on=timezone.localdate())
    assert "owner" in refused.value.message_dict
    # and the database refuses it whatever the path
    with pytest.raises(IntegrityError), transaction.atomic(), history_context(world.secretariat, "test"):
        Outcome.objects.filter(pk=outcomes.pl_action.pk).update(owner=world.us)


def test_closing_sets_the_day_and_reopening_clears_it(world: World, outcomes: Outcomes) -> None:
    done = services.outcome_update(actor=world.ministry_pl, outcome=outcomes.pl_action, status="done",
                                   note="Confirmed by letter.", expected_version=1)
    assert (done.status, done.closed_on, done.version, done.is_overdue) == (
        "done", timezone.localdate(), 2, False)
    reopened = services.outcome_update(actor=world.ministry_pl, outcome=done, status="open")
    assert reopened.closed_on is None and reopened.is_overdue
    dropped = services.outcome_update(actor=world.secretariat, outcome=reopened, status="dropped")
    assert dropped.closed_on == timezone.localdate()


def test_a_stale_version_changes_nothing(world: World, outcomes: Outcomes) -> None:
    services.outcome_update(actor=world.secretariat, outcome=outcomes.fr_action, note="Asked again.")
    with pytest.raises(StaleVersion):
        services.outcome_update(actor=world.secretariat, outcome=outcomes.fr_action, note="Late.",
                                expected_version=1)
    assert Outcome.objects.get(pk=outcomes.fr_action.pk).note == "Asked again."


def test_the_owner_changes_only_status_and_note_of_their_own_action(world: World, outcomes: Outcomes) -> None:
    for field, value in (("text", "Softer."), ("due_on", dt.date(2030, 1, 1)), ("kind", "decision"),
                         ("owner", world.fr)):
        with pytest.raises(ValidationError) as refused:
            services.outcome_update(actor=world.ministry_pl, outcome=outcomes.pl_action, **{field: value})
        assert field in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        services.outcome_update(actor=world.ministry_pl, outcome=outcomes.pl_action, status="dropped")
    assert "status" in refused.value.message_dict
    # what is as it is may be sent back unchanged
    same = services.outcome_update(actor=world.ministry_pl, outcome=outcomes.pl_action,
                                   text=outcomes.pl_action.text, note="On it.")
    assert same.note == "On it." and same.version == 2
    for actor, outcome in ((world.ministry_fr, outcomes.pl_action), (world.ministry_pl, outcomes.decision),
                           (world.ministry_pl, outcomes.secretariat_action), (world.analyst, outcomes.pl_action)):
        with pytest.raises(PermissionDenied):
            services.outcome_update(actor=actor, outcome=outcome, note="Mine.")
    for actor in (world.ministry_pl, world.analyst):
        with pytest.raises(PermissionDenied):
            services.outcome_record(actor=actor, meeting=outcomes.meeting, kind="decision", text="Ours.")


def test_changing_the_kind_takes_its_defaults(world: World, outcomes: Outcomes) -> None:
    decision = services.outcome_update(actor=world.secretariat, outcome=outcomes.pl_action, kind="decision")
    assert (decision.status, decision.owner_id, decision.due_on) == ("recorded", None, None)
    action = services.outcome_update(actor=world.secretariat, outcome=decision, kind="action",
                                     due_on=dt.date(2030, 5, 30), owner=world.gb)
    assert (action.status, action.owner_id) == ("open", world.gb.pk)


@pytest.mark.django_db(transaction=True)  # each write its own transaction, so its own moment in the history
def test_overdue_as_of_any_moment(world: World, outcomes: Outcomes) -> None:
    before_done = timezone.now()
    services.outcome_update(actor=world.ministry_pl, outcome=outcomes.pl_action, status="done")
    then = {row.id: row.overdue for row in outcomes_as_of(world.secretariat, before_done)}
    assert then[outcomes.pl_action.pk] is True and then[outcomes.fr_action.pk] is False
    assert then[outcomes.decision.pk] is False
    now = {row.id: row.overdue for row in outcomes_as_of(world.secretariat, timezone.now())}
    assert now[outcomes.pl_action.pk] is False
    # a moment after the FR action's day: overdue as of then, as recorded now
    later = timezone.now() + dt.timedelta(days=30)
    assert {row.id: row.overdue for row in outcomes_as_of(world.analyst, later)}[outcomes.fr_action.pk] is True
    # before it was recorded: not there
    assert not outcomes_as_of(world.secretariat, outcomes.meeting.starts_at).exists()


def test_every_member_reads_them_and_no_one_else(world: World, outcomes: Outcomes) -> None:
    everything = {outcome.pk for outcome in Outcome.objects.all()}
    for reader in (world.ministry_pl, world.ministry_fr, world.ministry_gb, world.analyst, world.secretariat,
                   world.admin):
        assert set(outcomes_visible_to(reader).values_list("pk", flat=True)) == everything
    assert not outcomes_visible_to(world.ministry_us).exists()
    assert not outcomes_as_of(world.ministry_us, timezone.now()).exists()


def test_a_countrys_open_actions_overdue_first(world: World, outcomes: Outcomes) -> None:
    later = services.outcome_record(actor=world.secretariat, meeting=outcomes.meeting, kind="action",
                                    owner=world.pl, text="Second.", due_on=timezone.localdate())
    assert list(open_actions_of(country_id=world.pl.pk, user=world.ministry_pl)) == [outcomes.pl_action, later]
    assert list(open_actions_of(country_id=None, user=world.secretariat)) == [outcomes.secretariat_action]
