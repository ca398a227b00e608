"""The imports' figures (utilities.metrics), counted where an import is applied (a request or the imports
worker), added up across processes at the scrape."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

IMPORTS = Counter("coalition_imports_applied", "Imports applied, by outcome (applied, refused, failed).",
                  ["outcome"])
IMPORT_SECONDS = Histogram("coalition_import_apply_duration_seconds", "Time to apply an import, by outcome.",
                           ["outcome"], buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600))


def import_finished(outcome: str, seconds: float) -> None:
    IMPORTS.labels(outcome).inc()
    IMPORT_SECONDS.labels(outcome).observe(seconds)
