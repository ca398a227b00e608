"""The figures the work leaves, each counted where it ends: a brief compiled (ready or failed, with its time),
an import applied (applied, refused, failed), a mail sent or failed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from prometheus_client import REGISTRY

from imports import services as import_services
from meetings import reminders
from meetings import services as meeting_services
from meetings.briefs import pipeline
from meetings.models import BriefStatus
from tests.conftest import World
from tests.factories import make_pledge

pytestmark = pytest.mark.django_db


def figure(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_briefs_are_counted_by_outcome_with_their_duration(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    make_pledge(country=world.pl, coalition=world.coalition, status="confirmed", quantity=500)
    starts = timezone.now() + dt.timedelta(days=3)
    meeting = meeting_services.meeting_create(actor=world.secretariat, coalition=world.coalition, title="Ministerial",
                                              starts_at=starts, ends_at=starts + dt.timedelta(hours=4))
    ready, failed = figure("coalition_briefs_compiled_total", outcome="ready"), figure(
        "coalition_briefs_compiled_total", outcome="failed")
    timed = figure("coalition_brief_compile_duration_seconds_count", outcome="ready")

    brief = meeting_services.brief_request(actor=world.secretariat, meeting=meeting, queue=False)
    assert pipeline.brief_compile(brief_id=brief.pk) is not None
    assert pipeline.brief_compile(brief_id=brief.pk) is None  # nothing to do: not counted again

    def broken(*args: Any, **kwargs: Any) -> bytes:
        raise RuntimeError("the renderer broke")

    monkeypatch.setattr("meetings.briefs.pdf.render_pdf", broken)
    second = meeting_services.brief_request(actor=world.secretariat, meeting=meeting, language="fr", queue=False)
    assert pipeline.brief_compile(brief_id=second.pk) is None
    second.refresh_from_db()
    assert second.status == BriefStatus.FAILED

    assert figure("coalition_briefs_compiled_total", outcome="ready") == ready + 1
    assert figure("coalition_briefs_compiled_total", outcome="failed") == failed + 1
    assert figure("coalition_brief_compile_duration_seconds_count", outcome="ready") == timed + 1
    assert figure("coalition_brief_compile_duration_seconds_sum", outcome="ready") > 0


def test_imports_are_counted_by_outcome(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    outcomes: list[Any] = [object(), import_services.ImportRefused([{"row": 2}]), ValueError("broken"),
                           PermissionDenied("not yours")]

    def apply(*args: Any) -> Any:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr(import_services, "_apply", apply)
    before = {outcome: figure("coalition_imports_applied_total", outcome=outcome)
              for outcome in ("applied", "refused", "failed")}
    import_services.import_apply(actor=world.ministry_pl, import_id=1)
    with pytest.raises(import_services.ImportRefused):
        import_services.import_apply(actor=world.ministry_pl, import_id=2)
    with pytest.raises(ValueError, match="broken"):
        import_services.import_apply(actor=world.ministry_pl, import_id=3)
    with pytest.raises(PermissionDenied):  # refused before any import was tried: not counted
        import_services.import_apply(actor=world.ministry_pl, import_id=4)
    for outcome, count in before.items():
        assert figure("coalition_imports_applied_total", outcome=outcome) == count + 1, outcome
        assert figure("coalition_import_apply_duration_seconds_count", outcome=outcome) >= 1


def test_mails_are_counted_by_kind_and_outcome_not_when_another_sent_them(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(["sent", "failed", "taken"])
    monkeypatch.setattr(reminders, "_send_once", lambda **kwargs: next(answers))
    before = {outcome: figure("coalition_mails_total", kind="reminder", outcome=outcome)
              for outcome in ("sent", "failed", "taken")}
    for _ in range(3):
        reminders.send_once(key="k", kind="reminder", meeting=None, user=None, brief=None,  # type: ignore[arg-type]
                            message=lambda: None)  # type: ignore[arg-type,return-value]
    assert figure("coalition_mails_total", kind="reminder", outcome="sent") == before["sent"] + 1
    assert figure("coalition_mails_total", kind="reminder", outcome="failed") == before["failed"] + 1
    assert figure("coalition_mails_total", kind="reminder", outcome="taken") == before["taken"]
