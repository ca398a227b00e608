"""Query counts of every list endpoint, pinned, and the same for 3 rows as for 30."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from pledges import services
from pledges.models import Coalition, Country
from tests.conftest import World
from tests.factories import CategoryFactory, CoalitionFactory, CountryFactory, make_pledge, member
from tests.http import content_of

Grow = Callable[[World, int], None]


def grow_pledges(world: World, n: int) -> None:
    countries = [world.pl, world.fr, world.gb]
    for i in range(n):
        pledge = make_pledge(country=countries[i % 3], coalition=world.coalition, category=world.troops,
                             quantity=10 + i, status="indicative")
        if i % 2:
            services.caveat_add(actor=pledge.country.staff.first(), pledge=pledge, kind="condition", text="If US.")


def grow_caveats(world: World, n: int) -> None:
    pledge = make_pledge(country=world.pl, coalition=world.coalition, status="indicative", releasability="coalition")
    for i in range(n):
        services.caveat_add(actor=world.ministry_pl, pledge=pledge if i % 2 else None, coalition=world.coalition,
                            kind="other", text=f"Caveat {i}", releasability="coalition")


def grow_deliveries(world: World, n: int) -> None:
    import datetime as dt

    pledge = make_pledge(country=world.pl, coalition=world.coalition, status="confirmed", quantity=1000,
                         releasability="coalition")
    for i in range(n):
        services.delivery_plan(actor=world.ministry_pl, pledge=pledge, quantity=1, note=f"Tranche {i}",
                               planned_on=dt.date(2025, 1, 1) + dt.timedelta(days=i),
                               delivered_on=dt.date(2025, 1, 2) if i % 2 else None)


def grow_requirements(world: World, n: int) -> None:
    for i in range(n):
        category = CategoryFactory(code=f"cap{i}", unit_codes=["personnel", "systems"])
        services.requirement_set(actor=world.secretariat, coalition=world.coalition, category=category,
                                 unit=world.personnel, quantity=100 + i)


def grow_coalitions(world: World, n: int) -> None:
    for i in range(n):
        coalition = CoalitionFactory()
        member(CountryFactory(), coalition)
        member(world.pl, coalition)
        assert i >= 0


def grow_countries(world: World, n: int) -> None:
    for _ in range(n):
        CountryFactory()


def grow_categories(world: World, n: int) -> None:
    for i in range(n):
        CategoryFactory(code=f"cat{i}", unit_codes=["personnel", f"u{i}"])


# A live JSON page of pledges is kept per data version (pledges.answer_cache): computing it costs three queries
# more (the data version before and after, when the next offer turns stale), reading it back only the version.
KEPT = 3

def grow_outcomes(world: World, n: int) -> None:
    import datetime as dt

    from django.utils import timezone

    from outcomes.services import outcome_record
    from tests.outcomes.conftest import held_meeting

    meeting = held_meeting(world)
    owners = [world.pl, world.fr, None]
    for i in range(n):
        outcome_record(actor=world.secretariat, meeting=meeting, kind="action", owner=owners[i % 3],
                       text=f"Action {i}", due_on=timezone.localdate() + dt.timedelta(days=i - 5))


# endpoint, how to add n rows, role, pinned number of queries (force_authenticate: no auth queries)
CASES = [
    ("/api/v1/pledges/", grow_pledges, "analyst", 1 + KEPT),  # the count and the page: one statement
    ("/api/v1/pledges/", grow_pledges, "ministry_pl", 2 + KEPT),  # + the coalitions Poland belongs to
    ("/api/v1/pledges/?format=csv", grow_pledges, "analyst", 1),
    ("/api/v1/pledges/?country=PL,FR&status=indicative&conditional=true&ordering=-quantity", grow_pledges,
     "analyst", 2 + KEPT),  # + the country codes checked
    ("/api/v1/pledges/?as_of=2999-01-01T00:00:00Z", grow_pledges, "analyst", 2),  # + "changed since?"
    # the settled moment; per section the page's ids, then pledges at since and until; caveats at since,
    # "changed since until?", at until, and the history of the changed ones with their pledges' (when each
    # change happened as the reader saw it); tranches' ids (these pledges have none); conditions' ids (none);
    # outcomes' ids (none)
    ("/api/v1/pledges/changes/?since=2000-01-01T00:00:00Z", grow_pledges, "analyst", 13),
    # with tranches: + their ids, them at since and at until, and their pledges at until
    ("/api/v1/pledges/changes/?since=2000-01-01T00:00:00Z", grow_deliveries, "analyst", 11),
    # outcomes only: the settled moment, each section's ids, the outcomes at since and at until, their owners' codes
    ("/api/v1/pledges/changes/?since=2000-01-01T00:00:00Z", grow_outcomes, "analyst", 9),
    ("/api/v1/outcomes/", grow_outcomes, "analyst", 2),
    ("/api/v1/outcomes/", grow_outcomes, "ministry_fr", 3),  # + the coalitions France belongs to
    ("/api/v1/outcomes/?format=csv&overdue=false&owner=PL,secretariat", grow_outcomes, "analyst", 2),  # + codes
    ("/api/v1/deliveries/", grow_deliveries, "analyst", 2),
    ("/api/v1/deliveries/", grow_deliveries, "ministry_fr", 3),
    ("/api/v1/deliveries/?format=csv", grow_deliveries, "analyst", 1),
    ("/api/v1/caveats/", grow_caveats, "analyst", 2),
    ("/api/v1/caveats/", grow_caveats, "ministry_fr", 3),
    ("/api/v1/requirements/", grow_requirements, "analyst", 2),
    ("/api/v1/coalitions/", grow_coalitions, "analyst", 3),
    ("/api/v1/countries/", grow_countries, "analyst", 2),
    ("/api/v1/categories/", grow_categories, "analyst", 3),
]


def count_queries(client: APIClient, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        content_of(response)  # a streamed CSV reads its rows as it is sent
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


@pytest.mark.parametrize(("url", "grow", "role", "pinned"), CASES,
                         ids=[f"{url}-{role}" for url, _, role, _ in CASES])
def test_list_query_count_is_pinned_and_constant(world: World, client_for: Callable[[str], APIClient], url: str,
                                                 grow: Grow, role: str, pinned: int) -> None:
    grow(world, 3)
    few = count_queries(client_for(role), url)
    grow(world, 27)
    many = count_queries(client_for(role), url)
    assert (few, many) == (pinned, pinned)
    kept = url.startswith("/api/v1/pledges/?") or url == "/api/v1/pledges/"
    if kept and "format=csv" not in url and "as_of" not in url:
        assert count_queries(client_for(role), url) == 1, "read back: the data version only"


def test_force_query_count_is_constant(world: World, client_for: Callable[[str], APIClient]) -> None:
    url = f"/api/v1/coalitions/{world.coalition.pk}/force/"
    grow_pledges(world, 3)
    few = count_queries(client_for("analyst"), url)
    grow_pledges(world, 27)
    grow_requirements(world, 5)
    # one aggregate over the pledges, one over their tranches, the requirements, names of categories, units and
    # countries; the data version before and after, and how long the picture holds (pledges.answer_cache); the
    # version before and after the answer is kept, and how long the answer holds (computed as of a moment before
    # the picture's, so the next offer to turn stale is looked for from there); the coalition's named conditions
    assert (few, count_queries(client_for("analyst"), url)) == (14, 14)
    # the same again: the coalition, the data version, and the answer as sent
    assert count_queries(client_for("analyst"), url) == 2
    # another reader of the same kind: their own answer, from the picture the first one computed
    assert count_queries(client_for("secretariat"), url) == 4
    assert Coalition.objects.count() and Country.objects.count()
