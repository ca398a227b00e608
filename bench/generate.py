"""Load a large coalition into PostgreSQL, quickly: `python bench/generate.py --pledges 100000`.

What it makes (in the coalition with short name BENCH, beside the demo reference data):
50 member countries, N pledges with history, 2,000 caveats, 40 meetings with
invitations and agendas, requirements for every category and unit, and an
analyst account for the benchmark.

How it is fast: pledges go in with COPY in batches, and the pghistory triggers
run on every row as they would for any other write, so each pledge gets its
`insert` event; then set-based UPDATEs move a share of them along their
lifecycle (indicative -> confirmed -> deployed, raised, withdrawn), which the
triggers record as `update` events, so there are more events than pledges.
Every event carries a pghistory context ("bench-generator"), and its time is
moved back to when the change happened (spread over the past year), so as-of
and change queries see a realistic history rather than one instant.

Idempotent: it tops the coalition up to N pledges (run it again with a larger
N to grow it); --reset drops and recreates the bench database first.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import time
import uuid
from pathlib import Path

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    BENCH_PASSWORD,
    BENCH_SHORT_NAME,
    BENCH_USER,
    bench_environment,
    drop_database,
    setup_django,
)

BATCH = 10_000
N_COUNTRIES = 50
# Locations in words and, where one fits, the GeoNames place (places.Place): most pledges on the map, some not.
CITIES = [("Kyiv", 703448), ("Lviv", 702550), ("Odesa", 698740), ("Dnipro", 709930), ("Kharkiv region", 706483),
          ("Rzeszów hub", 759734), ("Western Ukraine", None), ("Black Sea", None), ("Constanța", 680963),
          ("Vinnytsia", 689558), ("Zhytomyr", 686967), ("Chernivtsi", 710719), ("", None)]
CAVEAT_TEXTS = {
    "no_deployment": ("No troops on Ukrainian territory.", "Threat on the national border."),
    "geographic": ("Only west of the Dnipro, away from the line of contact.", "Reassurance role only."),
    "condition": ("Subject to a United States backstop.", "Air cover and intelligence sharing needed."),
    "role": ("Training and logistics roles only.", "Parliamentary mandate."),
    "duration": ("Six-month rotations, renewable once.", "Force generation limits."),
    "other": ("National approval needed for each rotation.", "Domestic procedure."),
}


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pledges", type=int, default=100_000, help="pledges the bench coalition should have")
    parser.add_argument("--caveats", type=int, default=2_000)
    parser.add_argument("--meetings", type=int, default=40)
    parser.add_argument("--reset", action="store_true", help="drop and recreate the bench database first")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser.parse_args()


def main() -> int:
    args = _parse()
    if args.reset:
        drop_database(bench_environment()["DATABASE_URL"])
    started = time.monotonic()
    setup_django()
    summary = generate(pledges=args.pledges, caveats=args.caveats, meetings=args.meetings, seed=args.seed,
                       progress=not args.quiet)
    summary["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(summary))
    return 0


def generate(*, pledges: int, caveats: int = 2_000, meetings: int = 40, seed: int = 2025,
             progress: bool = True, analyze: bool = True) -> dict[str, object]:
    """Top the bench coalition up to `pledges` pledges (with history), `caveats` caveats and `meetings` meetings."""
    from django.db import connection, transaction

    from places.gazetteer import ensure_gazetteer
    from pledges.demo import load_reference_data
    from pledges.models import Pledge

    load_reference_data()
    ensure_gazetteer()  # the places the generated pledges point at
    coalition = _bench_coalition()
    _bench_user()
    _requirements(coalition)
    rng = random.Random(seed)
    existing = Pledge.objects.filter(coalition=coalition).count()
    missing = max(0, pledges - existing)
    bar = tqdm(total=missing, unit="pledge", disable=not progress, desc="pledges")
    done = 0
    while done < missing:
        size = min(BATCH, missing - done)
        with transaction.atomic(), connection.cursor() as cursor:
            _set_history_context(cursor)
            first_id = _copy_pledges(cursor, coalition.pk, size, rng)
            _evolve(cursor, first_id)
            _backdate_events(cursor, first_id)
            _tranches(cursor, first_id)
        done += size
        bar.update(size)
    bar.close()
    with transaction.atomic(), connection.cursor() as cursor:
        _set_history_context(cursor)
        _caveats(cursor, coalition.pk, caveats)
    made_meetings = _meetings(coalition, meetings)
    with connection.cursor() as cursor:
        if analyze:  # statistics for the planner, and the visibility map for index-only scans (bench/plans.py
            cursor.execute("VACUUM ANALYZE")  # measures without, as a database never analysed is)
        cursor.execute("SELECT count(*) FROM pledges_pledgeevent WHERE coalition_id = %s", [coalition.pk])
        events = cursor.fetchone()[0]
    return {
        "database": os.environ["DATABASE_URL"].rsplit("@", 1)[-1],
        "coalition_id": coalition.pk,
        "pledges": Pledge.objects.filter(coalition=coalition).count(),
        "pledges_added": missing,
        "pledge_events": events,
        "caveats": coalition.caveats.count(),
        "meetings": made_meetings,
    }


def _bench_coalition():  # -> Coalition
    from pledges.models import Coalition, Country, Membership

    coalition, _ = Coalition.objects.get_or_create(
        short_name=BENCH_SHORT_NAME,
        defaults={"name": "Bench coalition (generated)", "description": "Generated for the benchmark."},
    )
    for country in Country.objects.order_by("code")[:N_COUNTRIES]:
        Membership.objects.get_or_create(coalition=coalition, country=country)
    return coalition


def _bench_user() -> None:
    from accounts.models import Role, User

    user, created = User.objects.get_or_create(username=BENCH_USER, defaults={"role": Role.ANALYST})
    if created or not user.check_password(BENCH_PASSWORD):
        user.set_password(BENCH_PASSWORD)
        user.save()


def _requirements(coalition) -> None:  # type: ignore[no-untyped-def]
    from pledges import services
    from pledges.models import CategoryUnit

    for pair in CategoryUnit.objects.select_related("category", "unit"):
        services.requirement_set(actor=None, system=True, coalition=coalition, category=pair.category,
                                 unit=pair.unit, quantity=50_000, notes="Generated for the benchmark.")


def _set_history_context(cursor) -> None:  # type: ignore[no-untyped-def]
    """What pghistory.context() does: every event written in this transaction names the generator."""
    metadata = json.dumps({"username": "bench-generator", "action": "bench_generate", "user": None})
    cursor.execute("SELECT set_config('pghistory.context_id', %s, true), "
                   "set_config('pghistory.context_metadata', %s, true)", [str(uuid.uuid4()), metadata])


def _copy_pledges(cursor, coalition_id: int, size: int, rng: random.Random) -> int:  # type: ignore[no-untyped-def]
    """COPY `size` pledges in (the history triggers fire per row); return the first new id."""
    cursor.execute("SELECT country_id FROM pledges_membership WHERE coalition_id = %s ORDER BY country_id",
                   [coalition_id])
    countries = [row[0] for row in cursor.fetchall()]
    cursor.execute("SELECT category_id, unit_id FROM pledges_categoryunit ORDER BY id")
    pairs = [tuple(row) for row in cursor.fetchall()]
    cursor.execute("SELECT coalesce(max(id), 0) FROM pledges_pledge")
    max_before = cursor.fetchone()[0]
    now = dt.datetime.now(dt.UTC)
    columns = ("country_id", "coalition_id", "category_id", "unit_id", "quantity", "description",
               "available_from", "available_until", "notice_to_move_days", "location", "place_id",
               "estimated_value_eur", "status", "releasability", "is_illustrative", "version", "created_at",
               "updated_at", "reconfirmed_at")
    raw = cursor.cursor  # the psycopg cursor under Django's wrapper
    with raw.copy(f"COPY pledges_pledge ({', '.join(columns)}) FROM STDIN") as copy:
        for _ in range(size):
            category_id, unit_id = rng.choice(pairs)
            created = now - dt.timedelta(days=rng.uniform(60, 400))
            start = (created + dt.timedelta(days=rng.randint(30, 120))).date()
            quantity = rng.choice((1, 2, 4, 8, 12, 50, 100, 150, 250, 500, 1000))
            copy.write_row((
                rng.choice(countries), coalition_id, category_id, unit_id, quantity,
                f"Generated pledge: {quantity} units", start,
                start + dt.timedelta(days=rng.choice((180, 365, 730))) if rng.random() < 0.7 else None,
                rng.choice((7, 14, 30, 60)) if rng.random() < 0.5 else None, *rng.choice(CITIES),
                round(quantity * rng.uniform(1e4, 1e6), 2) if rng.random() < 0.4 else None,
                status := "draft" if rng.random() < 0.1 else "indicative",
                "coalition" if rng.random() < 0.5 else "secretariat",
                # most offers were reconfirmed within the last half year; one in ten is stale (180 days)
                True, 1, created, created,
                None if status == "draft" else max(created, now - dt.timedelta(days=rng.randrange(200))),
            ))
    return int(max_before) + 1


def _evolve(cursor, first_id: int) -> None:  # type: ignore[no-untyped-def]
    """Move a share of the new pledges along their lifecycle, one set-based UPDATE per step."""
    new = "id >= %s"
    steps = [
        # 60% of the offered pledges are confirmed some days after they were offered ...
        f"UPDATE pledges_pledge SET status = 'confirmed', version = version + 1, "
        f"updated_at = updated_at + interval '1 day' * (5 + mod(id, 20)), "
        f"reconfirmed_at = greatest(reconfirmed_at, updated_at + interval '1 day' * (5 + mod(id, 20))) "
        f"WHERE {new} AND status = 'indicative' "
        f"AND mod(id, 10) < 6",
        # ... a sixth of those are deployed ...
        f"UPDATE pledges_pledge SET status = 'deployed', version = version + 1, "
        f"updated_at = updated_at + interval '1 day' * (5 + mod(id, 15)) WHERE {new} AND status = 'confirmed' "
        f"AND mod(id, 6) = 0",
        # ... one in seven offered pledges is raised by a fifth ...
        f"UPDATE pledges_pledge SET quantity = quantity + quantity / 5 + 1, version = version + 1, "
        f"updated_at = updated_at + interval '1 day' * (1 + mod(id, 9)) WHERE {new} AND status <> 'draft' "
        f"AND mod(id, 7) = 0",
        # ... and one in twenty-five is withdrawn.
        f"UPDATE pledges_pledge SET status = 'withdrawn', version = version + 1, "
        f"updated_at = updated_at + interval '1 day' * (1 + mod(id, 11)) WHERE {new} "
        f"AND status IN ('indicative', 'confirmed') AND mod(id, 25) = 3",
    ]
    for statement in steps:
        cursor.execute(statement, [first_id])


def _backdate_events(cursor, first_id: int) -> None:  # type: ignore[no-untyped-def]
    """Each event happened when its row says it did (created_at for inserts, updated_at for updates)."""
    cursor.execute(
        "UPDATE pledges_pledgeevent SET pgh_created_at = CASE WHEN pgh_label = 'insert' THEN created_at "
        "ELSE updated_at END WHERE pgh_obj_id >= %s",
        [first_id],
    )
    # Each event is replaced by the next of its object, in the order they now say they happened.
    cursor.execute(
        "UPDATE pledges_pledgeevent AS e SET pgh_superseded_at = n.next_at FROM (SELECT pgh_id, "
        "lead(pgh_created_at) OVER (PARTITION BY pgh_obj_id ORDER BY pgh_created_at, pgh_id) AS next_at "
        "FROM pledges_pledgeevent WHERE pgh_obj_id >= %s) AS n WHERE e.pgh_id = n.pgh_id",
        [first_id],
    )
    cursor.execute("UPDATE pledges_pledge SET updated_at = least(updated_at, now()) WHERE id >= %s", [first_id])


def _tranches(cursor, first_id: int) -> None:  # type: ignore[no-untyped-def]
    """Two tranches per confirmed or deployed pledge, planned twenty days after it was offered: half of it
    delivered a month after (if that day has come), the rest due four months after and delivered five days late,
    except one in ten, which is overdue once its day has passed. Each insert goes through the history trigger
    and the trigger that keeps tranches within their pledge, as any write does."""
    cursor.execute(
        """
        INSERT INTO pledges_delivery (pledge_id, quantity, planned_on, delivered_on, note, version, created_at,
                                      updated_at)
        SELECT id, greatest(quantity / 2, 1), (created_at + interval '30 days')::date,
               CASE WHEN created_at + interval '32 days' <= now() THEN (created_at + interval '32 days')::date END,
               'Generated tranche', 1, least(created_at + interval '20 days', now()),
               least(created_at + interval '32 days', now())
        FROM pledges_pledge WHERE id >= %s AND status IN ('confirmed', 'deployed')
        UNION ALL
        SELECT id, quantity - greatest(quantity / 2, 1), (created_at + interval '120 days')::date,
               CASE WHEN created_at + interval '125 days' <= now() AND mod(id, 10) <> 0
                    THEN (created_at + interval '125 days')::date END,
               'Generated tranche', 1, least(created_at + interval '20 days', now()),
               least(created_at + interval '125 days', now())
        FROM pledges_pledge WHERE id >= %s AND status IN ('confirmed', 'deployed') AND quantity > 1
        """,
        [first_id, first_id],
    )
    # Each tranche was recorded when its row says (its one history event, not replaced), like the pledges.
    cursor.execute(
        "UPDATE pledges_deliveryevent SET pgh_created_at = created_at WHERE pgh_obj_id IN "
        "(SELECT id FROM pledges_delivery WHERE pledge_id >= %s)",
        [first_id],
    )


def _caveats(cursor, coalition_id: int, target: int) -> None:  # type: ignore[no-untyped-def]
    """Top caveats up to `target`: three in four on a pledge, the rest country-wide."""
    cursor.execute("SELECT count(*) FROM pledges_caveat WHERE coalition_id = %s", [coalition_id])
    missing = target - cursor.fetchone()[0]
    if missing <= 0:
        return
    kinds = list(CAVEAT_TEXTS)
    on_pledge = missing * 3 // 4
    kind_sql = "(ARRAY[" + ", ".join(f"'{k}'" for k in kinds) + f"])[1 + (mod(p.id, {len(kinds)}))]"
    text_sql = "CASE " + " ".join(
        f"WHEN {kind_sql} = '{k}' THEN '{t}'" for k, (t, _) in CAVEAT_TEXTS.items()
    ) + " END"
    cursor.execute(
        f"""
        INSERT INTO pledges_caveat (country_id, coalition_id, pledge_id, kind, text, rationale, releasability,
                                    is_active, imposed_on, lifted_on, version, created_at, updated_at)
        SELECT p.country_id, p.coalition_id, p.id, {kind_sql}, {text_sql}, 'Generated for the benchmark.',
               p.releasability, mod(p.id, 10) <> 0, p.created_at::date,
               CASE WHEN mod(p.id, 10) = 0 THEN p.updated_at::date END, 1, p.created_at, p.updated_at
        FROM pledges_pledge p
        WHERE p.coalition_id = %s AND p.status <> 'draft'
          AND NOT EXISTS (SELECT 1 FROM pledges_caveat c WHERE c.pledge_id = p.id)
        ORDER BY p.id DESC LIMIT %s
        """,
        [coalition_id, on_pledge],
    )
    cursor.execute(
        f"""
        INSERT INTO pledges_caveat (country_id, coalition_id, pledge_id, kind, text, rationale, releasability,
                                    is_active, imposed_on, version, created_at, updated_at)
        SELECT m.country_id, m.coalition_id, NULL, {kind_sql.replace('p.id', 'g.n')},
               {text_sql.replace('p.id', 'g.n')}, 'Generated for the benchmark.',
               CASE WHEN mod(g.n, 2) = 0 THEN 'coalition' ELSE 'secretariat' END,
               true, current_date - 30, 1, now(), now()
        FROM generate_series(1, %s) AS g(n)
        JOIN LATERAL (SELECT * FROM pledges_membership WHERE coalition_id = %s
                      ORDER BY id OFFSET mod(g.n, {N_COUNTRIES}) LIMIT 1) m ON true
        """,
        [missing - on_pledge, coalition_id],
    )
    cursor.execute(
        "UPDATE pledges_caveatevent SET pgh_created_at = created_at WHERE coalition_id = %s "
        "AND pgh_created_at > created_at",
        [coalition_id],
    )


def _meetings(coalition, target: int) -> int:  # type: ignore[no-untyped-def]
    """Top the bench coalition up to `target` meetings, each with invitations for every member and an agenda."""
    from django.db import transaction
    from django.utils import timezone

    from meetings.models import AgendaItem, Invitation, InvitationStatus, Meeting, MeetingKind, MeetingStatus
    from pledges.models import Country
    from utilities.versioning import SystemActor, history_context

    existing = Meeting.objects.filter(coalition=coalition).count()
    members = list(Country.objects.filter(memberships__coalition=coalition).order_by("code"))
    chairs = [c for c in members if c.code in ("FR", "GB")]
    statuses = list(InvitationStatus.values)
    now = timezone.now()
    with transaction.atomic(), history_context(SystemActor("bench-generator"), "bench_generate"):
        for number in range(existing, target):
            starts = now - dt.timedelta(days=400) + dt.timedelta(days=10 * number)
            meeting = Meeting.objects.create(
                coalition=coalition, title=f"Bench meeting {number + 1}", kind=MeetingKind.MINISTERIAL,
                starts_at=starts, ends_at=starts + dt.timedelta(hours=6), place="NATO headquarters, Brussels",
                status=MeetingStatus.HELD if starts < now else MeetingStatus.PLANNED,
            )
            meeting.chairs.set(chairs)
            Invitation.objects.bulk_create(
                Invitation(meeting=meeting, country=country, status=statuses[(number + i) % len(statuses)])
                for i, country in enumerate(members)
            )
            AgendaItem.objects.bulk_create(
                AgendaItem(meeting=meeting, position=position, title=f"Agenda item {position}")
                for position in range(1, 7)
            )
    return Meeting.objects.filter(coalition=coalition).count()


if __name__ == "__main__":
    sys.exit(main())
