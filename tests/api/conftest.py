"""API test helpers: clients per role and a small scene of pledges, caveats and a requirement."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import User
from pledges import services
from pledges.models import Caveat, Pledge, Requirement
from tests.conftest import World
from tests.factories import make_pledge

ROLES = ("anonymous", "ministry_pl", "ministry_fr", "analyst", "secretariat", "admin")


@pytest.fixture(autouse=True)
def _fresh_throttles() -> Iterator[None]:
    """Throttle counters live in the (Redis) cache; every test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client_for(world: World) -> Callable[[str], APIClient]:
    """An API client acting as one of ROLES (users from the `world` fixture)."""

    def make(role: str) -> APIClient:
        client = APIClient()
        if role != "anonymous":
            # A fresh copy, as each real request loads its user (visibility caches on the user object).
            user = User.objects.get(pk=getattr(world, role).pk)
            client.force_authenticate(user)
        return client

    return make


@dataclass
class Scene:
    offered: Pledge  # PL, indicative, released to the secretariat only
    released: Pledge  # PL, indicative, released to the whole coalition
    draft: Pledge  # PL draft
    caveat: Caveat  # PL country-wide caveat on the coalition, secretariat only
    requirement: Requirement


@pytest.fixture
def scene(world: World) -> Scene:
    offered = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, quantity=300,
                          status="indicative")
    released = make_pledge(country=world.pl, coalition=world.coalition, category=world.air, unit=world.aircraft,
                           quantity=4, status="indicative", releasability="coalition")
    draft = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, quantity=50)
    caveat = services.caveat_add(actor=world.ministry_pl, coalition=world.coalition, kind="geographic",
                                 text="Not east of the Dnipro.", rationale="Threat assessment")
    requirement = services.requirement_set(actor=world.secretariat, coalition=world.coalition, category=world.troops,
                                           unit=world.personnel, quantity=1000)
    return Scene(offered=offered, released=released, draft=draft, caveat=caveat, requirement=requirement)
