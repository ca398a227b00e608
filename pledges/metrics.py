"""The data version (pledges.answer_cache.data_version), read from PostgreSQL at every scrape: each part rises
with every write to what it covers."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import DatabaseError
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)
PARTS = ("database_oid", "reference", "pledges", "caveats", "deliveries", "requirements")


class DataVersionCollector(Collector):
    def collect(self) -> Iterable[Metric]:
        from pledges.answer_cache import data_version

        family = GaugeMetricFamily("coalition_data_version", "The data version, by part (newest history id of "
                                   "pledges, caveats, deliveries, requirements; the reference data's sequence).",
                                   labels=["part"])
        settled = GaugeMetricFamily("coalition_data_version_settled", "0 while a transaction that has written is "
                                    "open (the version is then not read).")
        try:
            version = data_version()
        except DatabaseError:
            logger.warning("metrics: the database did not answer; no data version")
            return []
        settled.add_metric([], 0 if version is None else 1)
        for part, value in zip(PARTS, version or (), strict=False):
            if part != "database_oid":
                family.add_metric([part], float(value or 0))
        return [settled, family]
