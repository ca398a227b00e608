"""As-of reads on a database whose statistics were never gathered, against the same after ANALYZE.

`python bench/plans.py [--pledges 100000]`: loads the bench coalition into a database of its own with
autovacuum off for the history and pledge tables and no ANALYZE, times the force picture and the pledge list
as of three past moments (medians of 7), then runs ANALYZE and times them again. Prints a table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/coalition_bench_plans")

from bench.common import drop_database, setup_django

TABLES = ("pledges_pledge", "pledges_pledgeevent", "pledges_caveat", "pledges_caveatevent",
          "pledges_requirement", "pledges_requirementevent")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pledges", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    drop_database(os.environ["DATABASE_URL"])
    setup_django()
    from django.db import connection

    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
            cursor.execute("DELETE FROM pg_statistic WHERE starelid = %s::regclass", [table])
    from bench.generate import generate

    made = generate(pledges=args.pledges, analyze=False, progress=False)
    print(f"loaded {made['pledges']} pledges, {made['pledge_events']} events, {made['caveats']} caveats; no ANALYZE")
    rows = {"never analysed": measure(int(str(made["coalition_id"])), args.repeats)}
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    rows["after ANALYZE"] = measure(int(str(made["coalition_id"])), args.repeats)
    print("| statistics | " + " | ".join(rows["after ANALYZE"]) + " |")
    print("|---|" + "---|" * len(rows["after ANALYZE"]))
    for name, timings in rows.items():
        print(f"| {name} | " + " | ".join(f"{value:.0f} ms" for value in timings.values()) + " |")
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"ALTER TABLE {table} RESET (autovacuum_enabled)")
    return 0


def measure(coalition_id: int, repeats: int) -> dict[str, float]:
    import datetime as dt

    from django.utils import timezone

    from accounts.models import User
    from pledges.models import Coalition
    from pledges.selectors import coalition_force, pledge_list

    analyst = User.objects.get(username="bench-analyst")
    coalition = Coalition.objects.get(pk=coalition_id)
    timings: dict[str, float] = {}
    for days in (30, 120, 300):
        moment = timezone.now() - dt.timedelta(days=days)

        def force(moment: dt.datetime = moment) -> None:
            coalition_force(coalition=coalition, user=User.objects.get(pk=analyst.pk), as_of=moment)

        def page(moment: dt.datetime = moment) -> None:
            list(pledge_list(user=User.objects.get(pk=analyst.pk), as_of=moment).filter(
                coalition_id=coalition_id).order_by("country__name", "category__sort_order", "id")[:100])

        for name, call in ((f"force as of -{days} d", force), (f"list as of -{days} d", page)):
            call()
            runs = []
            for _ in range(repeats):
                started = time.perf_counter()
                call()
                runs.append((time.perf_counter() - started) * 1000)
            timings[name] = statistics.median(runs)
    return timings


if __name__ == "__main__":
    sys.exit(main())
