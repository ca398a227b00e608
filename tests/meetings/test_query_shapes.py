"""No read puts `column IN (subquery)` inside an OR ("no pledge, or one of these").

PostgreSQL runs such an IN as a hashed subplan only while every id of the subquery fits in work_mem; past that
(about 300,000 pledges with the default 4 MB) it scans the whole list once per row, and a brief that took 7 s at
100,000 pledges took 50 s at 400,000 (its caveats 10 s, its changes 28 s). `pledges.visibility.among` writes the
test as a correlated EXISTS instead. These tests read the SQL the database is sent: by the as-of and changes
reads for every kind of reader, and by a whole brief compile, so the next read written the old way fails here.
"""

from __future__ import annotations

import datetime as dt
import re

from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from meetings import services as meetings
from meetings.briefs import pipeline
from meetings.models import Meeting
from pledges import services
from pledges.history import caveat_changes, caveats_as_of, deliveries_as_of, delivery_changes, pledge_changes
from pledges.models import Caveat, Pledge
from pledges.visibility import among
from tests.conftest import World
from tests.factories import make_pledge

OR_IN_SUBQUERY = re.compile(r"\bOR\s+\(?\s*[\w\".]+\s+IN\s+\(\s*SELECT\b")


def assert_no_or_in(queries: CaptureQueriesContext) -> None:
    offending = [q["sql"] for q in queries.captured_queries if OR_IN_SUBQUERY.search(q["sql"])]
    assert not offending, offending[0][:2000]


def a_history(world: World) -> dt.datetime:
    pledge = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, status="indicative",
                         releasability="coalition", quantity=100)
    services.caveat_add(actor=world.ministry_pl, pledge=pledge, kind="condition", text="Only with air cover.",
                        releasability="coalition")
    services.caveat_add(actor=world.ministry_pl, coalition=world.coalition, kind="other", text="Country-wide.",
                        releasability="coalition")
    services.delivery_plan(actor=world.ministry_pl, pledge=pledge, quantity=10, planned_on=dt.date(2025, 1, 1),
                           note="First")
    middle = timezone.now()
    services.pledge_update(actor=world.ministry_pl, pledge=pledge, quantity=150)
    return middle


def test_the_pattern_is_seen_and_among_avoids_it(world: World) -> None:
    a_history(world)
    ids = Pledge.objects.filter(coalition_id=world.coalition.pk).values("id")
    old = str(Caveat.objects.filter(Q(pledge_id__isnull=True) | Q(pledge_id__in=ids)).query)
    new = str(Caveat.objects.filter(Q(pledge_id__isnull=True) | among("pledge_id", ids)).query)
    assert OR_IN_SUBQUERY.search(old) and not OR_IN_SUBQUERY.search(new)
    assert set(Caveat.objects.filter(Q(pledge_id__isnull=True) | Q(pledge_id__in=ids))) == set(
        Caveat.objects.filter(Q(pledge_id__isnull=True) | among("pledge_id", ids)))


def test_as_of_and_changes_reads_send_no_or_in_subquery(world: World) -> None:
    middle = a_history(world)
    since = middle - dt.timedelta(hours=1)
    for user in (world.analyst, world.ministry_pl, world.ministry_fr, world.secretariat):
        with CaptureQueriesContext(connection) as queries:
            list(caveats_as_of(user, middle, live=False))
            list(deliveries_as_of(user, middle))
            pledge_changes(user=user, since=since, coalition=world.coalition)
            caveat_changes(user=user, since=since, coalition=world.coalition)
            delivery_changes(user=user, since=since, coalition=world.coalition)
        assert_no_or_in(queries)


def test_a_whole_brief_compile_sends_no_or_in_subquery(world: World, meeting: Meeting) -> None:
    a_history(world)
    brief = meetings.brief_request(actor=world.secretariat, meeting=meeting, queue=False)
    with CaptureQueriesContext(connection) as queries:
        pipeline.brief_compile(brief_id=brief.pk)
    assert len(queries.captured_queries) > 10
    assert_no_or_in(queries)
