"""The briefs' and the mails' figures (utilities.metrics): counted in the worker that compiles or sends, added up
across processes at the scrape."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

BRIEFS = Counter("coalition_briefs_compiled", "Briefs compiled, by outcome (ready or failed).", ["outcome"])
BRIEF_SECONDS = Histogram("coalition_brief_compile_duration_seconds", "Time to compile a brief, by outcome.",
                          ["outcome"], buckets=(1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600))
MAILS = Counter("coalition_mails", "Mails of meetings (reminders, brief-ready notices), by kind and outcome "
                "(sent, failed).", ["kind", "outcome"])


def brief_finished(outcome: str, seconds: float) -> None:
    """A compile ended: "ready" or "failed" (a passing fault, retried, is neither)."""
    BRIEFS.labels(outcome).inc()
    BRIEF_SECONDS.labels(outcome).observe(seconds)


def mail_sent(kind: str, outcome: str) -> None:
    if outcome != "taken":  # another worker's
        MAILS.labels(kind, outcome).inc()
