"""The force in time at scale: `python bench/timeline.py [--pledges 100000]`.

Loads (or tops up) the bench coalition (bench/generate.py: windows spread over two years, a share of them
conditional), adds rotations and two named conditions, then times, as the bench analyst, medians of
`--repeats`: the timeline of 24 months (goal: under 300 ms at 100,000 pledges), the same under a scenario, the
force picture on a day beside the force picture of every day (both computed, not kept), and prints a table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BENCH_SHORT_NAME, BENCH_USER, bench_environment, median_ms, setup_django


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pledges", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    import os

    os.environ.update(bench_environment())
    setup_django()
    from bench.generate import generate

    generate(pledges=args.pledges, progress=False)
    from django.db import connection
    from django.utils import timezone

    from accounts.models import User
    from pledges import services
    from pledges.models import Caveat, CaveatKind, Coalition, Condition, Pledge
    from pledges.scenarios import Assumptions
    from pledges.selectors import coalition_force
    from pledges.timeline import coalition_timeline
    from utilities.versioning import SystemActor, history_context

    coalition = Coalition.objects.get(short_name=BENCH_SHORT_NAME)
    actor = SystemActor("bench")
    backstop = Condition.objects.filter(coalition=coalition, name="Backstop").first() or services.condition_create(
        actor=actor, system=True, coalition=coalition, name="Backstop")
    with history_context(actor, "bench"), connection.cursor() as cursor:
        # Name the condition on the bench's condition caveats, and chain one pledge in fifty to the one before
        # it of the same capability: rotations to hand over.
        Caveat.objects.filter(coalition=coalition, kind=CaveatKind.CONDITION, condition=None).update(
            condition=backstop)
        if not Pledge.objects.filter(coalition=coalition, relieves__isnull=False).exists():
            cursor.execute(
                "UPDATE pledges_pledge p SET relieves_id = prev.id FROM ("
                " SELECT id, lag(id) OVER (PARTITION BY category_id, unit_id ORDER BY id) AS prev_id"
                " FROM pledges_pledge WHERE coalition_id = %s AND status <> 'draft') AS chain"
                " JOIN pledges_pledge prev ON prev.id = chain.prev_id"
                " WHERE p.id = chain.id AND p.id %% 50 = 0", [coalition.pk])
        cursor.execute("ANALYZE pledges_pledge")
    analyst = User.objects.get(username=BENCH_USER)
    pledges = Pledge.objects.filter(coalition=coalition).count()
    start = timezone.localdate().replace(day=1)
    scenario = Assumptions({backstop.pk: "failed"})
    timings = {
        "timeline, 24 months": median_ms(lambda: coalition_timeline(
            coalition=coalition, user=analyst, start=start, months=24), args.repeats),
        "timeline, 24 months, backstop failed": median_ms(lambda: coalition_timeline(
            coalition=coalition, user=analyst, start=start, months=24, assume=scenario), args.repeats),
        "timeline, 60 months": median_ms(lambda: coalition_timeline(
            coalition=coalition, user=analyst, start=start, months=60), args.repeats),
        "force, every day (computed)": median_ms(lambda: coalition_force(
            coalition=coalition, user=analyst, fresh=True), args.repeats),
        "force on a day": median_ms(lambda: coalition_force(
            coalition=coalition, user=analyst, on=start + dt.timedelta(days=40)), args.repeats),
        "force on a day, backstop failed": median_ms(lambda: coalition_force(
            coalition=coalition, user=analyst, on=start + dt.timedelta(days=40), assume=scenario), args.repeats),
    }
    print(f"{pledges:,} pledges in the bench coalition; medians of {args.repeats}")
    print("| read | median |\n|---|---|")
    for name, ms in timings.items():
        print(f"| {name} | {ms:.0f} ms |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
