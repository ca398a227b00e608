"""The past as each reader may see it (pledges.history): the cases reported, one by one.

The property test in tests/hardening/test_visibility_property.py walks random histories over every read
path; these pin the reported leaks and the moments history shows.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from pledges import services
from pledges.history import caveat_changes, caveat_versions, caveats_as_of, pledge_versions
from pledges.selectors import pledge_list
from tests.conftest import World
from tests.factories import make_pledge

pytestmark = pytest.mark.django_db(transaction=True)


def test_changes_until_a_moment_show_no_caveat_wording_that_was_secretariat_only_then(world: World) -> None:
    t0 = timezone.now()
    caveat = services.caveat_add(actor=world.ministry_fr, coalition=world.coalition, kind="condition",
                                 text="SECRETARIAT-ONLY WORDING", releasability="secretariat")
    t1 = timezone.now()
    services.caveat_update(actor=world.ministry_fr, caveat=caveat, text="Released wording",
                           releasability="coalition")

    assert caveat_changes(user=world.ministry_pl, since=t0, until=t1) == []
    [change] = caveat_changes(user=world.ministry_pl, since=t0)
    assert (change.kind, change.text) == ("added", "Released wording")
    # ...and it was added, for Poland, when it was released
    assert change.at > t1
    # the secretariat saw it all along
    [seen] = caveat_changes(user=world.secretariat, since=t0, until=t1)
    assert seen.text == "SECRETARIAT-ONLY WORDING"


def test_changes_until_a_moment_show_no_wording_written_while_the_pledge_was_a_draft(world: World) -> None:
    draft = make_pledge(country=world.pl, coalition=world.coalition, releasability="coalition")
    t0 = timezone.now()
    caveat = services.caveat_add(actor=world.ministry_pl, pledge=draft, kind="condition", text="DRAFT WORDING")
    t1 = timezone.now()
    services.caveat_update(actor=world.ministry_pl, caveat=caveat, text="Offered wording")
    services.pledge_transition(actor=world.ministry_pl, pledge=draft, to_status="indicative")

    for reader in (world.analyst, world.secretariat, world.ministry_fr):
        assert caveat_changes(user=reader, since=t0, until=t1) == []
        [change] = caveat_changes(user=reader, since=t0)
        assert change.text == "Offered wording"
        assert not caveats_as_of(reader, t1).filter(id=caveat.pk).exists()
    assert [c.text for c in caveat_changes(user=world.ministry_pl, since=t0, until=t1)] == ["DRAFT WORDING"]


def test_the_api_changes_answer_the_same(world: World) -> None:
    from rest_framework.test import APIClient

    t0 = timezone.now()
    caveat = services.caveat_add(actor=world.ministry_fr, coalition=world.coalition, kind="other",
                                 text="SECRETARIAT-ONLY WORDING")
    t1 = timezone.now()
    services.caveat_update(actor=world.ministry_fr, caveat=caveat, releasability="coalition", text="Now shared")
    client = APIClient()
    client.force_authenticate(world.ministry_pl)

    body = client.get("/api/v1/pledges/changes/", {"since": t0.isoformat(), "until": t1.isoformat()}).content
    assert b"SECRETARIAT-ONLY" not in body
    assert b"Now shared" in client.get("/api/v1/pledges/changes/", {"since": t0.isoformat()}).content


def test_caveat_history_shows_another_country_only_what_was_released_to_it(world: World) -> None:
    caveat = services.caveat_add(actor=world.ministry_fr, coalition=world.coalition, kind="condition",
                                 text="SECRETARIAT-ONLY WORDING", rationale="INTERNAL REASON")
    services.caveat_update(actor=world.ministry_fr, caveat=caveat, text="Shared wording", rationale="Public reason",
                           releasability="coalition")
    services.caveat_update(actor=world.ministry_fr, caveat=caveat, text="Shared wording, amended")

    def texts(user: object) -> list[str]:
        return [version.row.text for version in caveat_versions(user=user, caveat_id=caveat.pk)]

    assert texts(world.ministry_pl) == ["Shared wording", "Shared wording, amended"]
    assert texts(world.secretariat) == ["SECRETARIAT-ONLY WORDING", "Shared wording", "Shared wording, amended"]
    client = Client()
    client.force_login(world.ministry_pl)
    page = client.get(reverse("admin:pledges_caveat_history", args=[caveat.pk])).content.decode()
    assert "Shared wording, amended" in page
    assert "SECRETARIAT-ONLY" not in page and "INTERNAL REASON" not in page


def test_a_version_is_shown_from_when_it_became_visible(world: World) -> None:
    draft = make_pledge(country=world.pl, coalition=world.coalition)
    caveat = services.caveat_add(actor=world.ministry_pl, pledge=draft, kind="role", text="Written on the draft")
    before_offer = timezone.now()
    offered = services.pledge_transition(actor=world.ministry_pl, pledge=draft, to_status="indicative")

    [version] = caveat_versions(user=world.analyst, caveat_id=caveat.pk)
    assert version.row.text == "Written on the draft"
    assert version.shown_from > before_offer  # not when it was written: nobody else could see it then
    [pledge_version] = pledge_versions(user=world.analyst, pledge_id=offered.pk)
    assert pledge_version.row.status == "indicative"
    assert [v.row.status for v in pledge_versions(user=world.ministry_pl, pledge_id=offered.pk)] == [
        "draft", "indicative"
    ]


def test_a_secretariat_only_pledge_version_stays_hidden_from_other_countries(world: World) -> None:
    offer = make_pledge(country=world.fr, coalition=world.coalition, status="indicative", quantity=999,
                        description="SECRETARIAT-ONLY DETAIL")
    services.pledge_update(actor=world.ministry_fr, pledge=offer, releasability="coalition", quantity=50,
                           description="Shared detail")
    assert [v.row.quantity for v in pledge_versions(user=world.ministry_pl, pledge_id=offer.pk)] == [50]
    assert [v.row.quantity for v in pledge_versions(user=world.analyst, pledge_id=offer.pk)] == [999, 50]


def test_as_of_flags_a_pledge_deleted_since_by_its_caveat_as_it_stood(world: World) -> None:
    """The conditional flag of a past row comes from the caveats as they stood, not from today's pledges."""
    draft = make_pledge(country=world.fr, coalition=world.coalition)
    services.caveat_add(actor=world.ministry_fr, pledge=draft, kind="condition", text="If the US joins.")
    then = timezone.now()
    services.pledge_delete(actor=world.ministry_fr, pledge=draft)

    [row] = pledge_list(user=world.ministry_fr, as_of=then)
    assert row.is_conditional is True


def test_one_save_that_changes_and_moves_a_pledge_is_one_history_row(world: World) -> None:
    from django.db import transaction

    from pledges.admin.pledges import PLEDGE_HISTORY_FIELDS
    from pledges.models import Pledge
    from utilities.service_admin import history_rows

    pledge = make_pledge(country=world.pl, coalition=world.coalition, quantity=10)
    with transaction.atomic():  # as the admin saves a form
        services.pledge_update(actor=world.ministry_pl, pledge=pledge, quantity=12)
        services.pledge_transition(actor=world.ministry_pl, pledge=pledge, to_status="indicative")
    rows = history_rows(Pledge, pledge_versions(user=world.ministry_pl, pledge_id=pledge.pk), PLEDGE_HISTORY_FIELDS)
    assert [row.action for row in rows] == ["pledge_update, pledge_indicative", "pledge_create"]
    assert ("Quantity", "10", "12") in rows[0].changes and ("Status", "Draft", "Indicative") in rows[0].changes
