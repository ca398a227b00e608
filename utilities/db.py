"""Small database chores the apps share."""

from __future__ import annotations

from typing import Any

from django.db import connection


def refresh_planner_statistics(*models: Any) -> None:
    """ANALYZE the tables of `models` (and of their history), after a bulk load changed them a lot: the
    planner then knows their sizes at once, instead of after autovacuum's next round."""
    tables = []
    for model in models:
        tables.append(model._meta.db_table)
        if (events := getattr(model, "pgh_event_model", None)) is not None:
            tables.append(events._meta.db_table)
    with connection.cursor() as cursor:
        for table in dict.fromkeys(tables):
            cursor.execute(f'ANALYZE "{table}"')  # names from the models, not from input
