"""A country's ministry staff see nothing of a coalition their country is not in: 404, as for anything else
they may not see (requirements, the force picture, the coalition itself, its meetings and their outcomes)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from meetings.services import meeting_create
from outcomes.services import outcome_record
from tests.api.conftest import Scene
from tests.conftest import World

pytestmark = pytest.mark.django_db


def test_outsiders_get_404_for_everything_of_a_coalition_they_are_not_in(
    world: World, scene: Scene, client_for: Callable[[str], APIClient]
) -> None:
    now = timezone.now()
    meeting = meeting_create(actor=world.secretariat, coalition=world.coalition, title="Ministerial",
                             starts_at=now, ends_at=now)
    outcome = outcome_record(actor=world.secretariat, meeting=meeting, kind="decision", text="Headquarters in Kyiv.")
    us = APIClient()
    us.force_authenticate(world.ministry_us)  # the US is in the contact group only
    for path in (f"/api/v1/requirements/{scene.requirement.pk}/", f"/api/v1/coalitions/{world.coalition.pk}/",
                 f"/api/v1/coalitions/{world.coalition.pk}/force/",
                 f"/api/v1/coalitions/{world.coalition.pk}/force/?as_of=2000-01-01",
                 f"/api/v1/meetings/{meeting.pk}/", f"/api/v1/outcomes/{outcome.pk}/"):
        response = us.get(path)
        assert response.status_code == 404, (path, response.content)
        assert set(response.json()) == {"detail"}
    assert us.get("/api/v1/requirements/").json()["results"] == []
    assert [c["id"] for c in us.get("/api/v1/coalitions/").json()["results"]] == [world.other_coalition.pk]
    assert us.get("/api/v1/meetings/").json()["results"] == []
    assert us.get("/api/v1/outcomes/").json()["results"] == []

    # members see them
    pl = client_for("ministry_pl")
    assert pl.get(f"/api/v1/requirements/{scene.requirement.pk}/").status_code == 200
    assert pl.get(f"/api/v1/coalitions/{world.coalition.pk}/force/").status_code == 200
    assert {c["id"] for c in pl.get("/api/v1/coalitions/").json()["results"]} == {
        world.coalition.pk, world.other_coalition.pk}


def test_the_admin_hides_them_too(world: World, scene: Scene) -> None:
    from django.test import Client

    client = Client()
    client.force_login(world.ministry_us)
    assert client.get(f"/admin/pledges/requirement/{scene.requirement.pk}/change/").status_code == 302  # not found
    listed = client.get("/admin/pledges/coalition/").context["cl"].result_list
    assert [c.pk for c in listed] == [world.other_coalition.pk]
