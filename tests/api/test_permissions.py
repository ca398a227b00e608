"""One permission matrix for the whole API: endpoint x role x verb -> status (NetBox style).

Each row names a request built from the `scene`; each column a role. A refused
write (any 4xx) must change nothing, which the state fingerprint checks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import pytest
from django.db.models import Sum
from rest_framework.test import APIClient

from pledges.models import Caveat, Pledge, Requirement
from tests.api.conftest import ROLES, Scene
from tests.conftest import World

Build = Callable[[World, Scene], Any]


class Row(NamedTuple):
    name: str
    method: str
    path: Build
    body: Build | None
    expected: tuple[int, ...]  # in ROLES order: anonymous, ministry_pl, ministry_fr, analyst, secretariat, admin


R = Row
MATRIX = [
    R("countries list", "get", lambda w, s: "/api/v1/countries/", None, (401, 200, 200, 200, 200, 200)),
    R("country detail", "get", lambda w, s: "/api/v1/countries/PL/", None, (401, 200, 200, 200, 200, 200)),
    R("countries create", "post", lambda w, s: "/api/v1/countries/", lambda w, s: {"code": "DE"},
      (401, 405, 405, 405, 405, 405)),
    R("coalitions list", "get", lambda w, s: "/api/v1/coalitions/", None, (401, 200, 200, 200, 200, 200)),
    R("coalition force", "get", lambda w, s: f"/api/v1/coalitions/{w.coalition.pk}/force/", None,
      (401, 200, 200, 200, 200, 200)),
    R("categories list", "get", lambda w, s: "/api/v1/categories/", None, (401, 200, 200, 200, 200, 200)),
    R("pledges list", "get", lambda w, s: "/api/v1/pledges/", None, (401, 200, 200, 200, 200, 200)),
    R("pledge detail (secretariat only)", "get", lambda w, s: f"/api/v1/pledges/{s.offered.pk}/", None,
      (401, 200, 404, 200, 200, 200)),
    R("pledge detail (coalition)", "get", lambda w, s: f"/api/v1/pledges/{s.released.pk}/", None,
      (401, 200, 200, 200, 200, 200)),
    R("pledge detail (draft)", "get", lambda w, s: f"/api/v1/pledges/{s.draft.pk}/", None,
      (401, 200, 404, 404, 404, 404)),
    R("pledge changes", "get", lambda w, s: "/api/v1/pledges/changes/?since=2000-01-01T00:00:00Z", None,
      (401, 200, 200, 200, 200, 200)),
    R("pledge create for PL", "post", lambda w, s: "/api/v1/pledges/",
      lambda w, s: {"coalition": w.coalition.pk, "country": "PL", "category": "troops", "unit": "personnel",
                    "quantity": 10},
      (401, 201, 403, 403, 403, 403)),
    R("pledge patch (secretariat only)", "patch", lambda w, s: f"/api/v1/pledges/{s.offered.pk}/",
      lambda w, s: {"quantity": 350}, (401, 200, 404, 403, 403, 403)),
    R("pledge patch (coalition)", "patch", lambda w, s: f"/api/v1/pledges/{s.released.pk}/",
      lambda w, s: {"quantity": 5}, (401, 200, 403, 403, 403, 403)),
    R("pledge put", "put", lambda w, s: f"/api/v1/pledges/{s.released.pk}/",
      lambda w, s: {"category": "air", "unit": "aircraft", "quantity": 6}, (401, 200, 403, 403, 403, 403)),
    R("pledge transition", "post", lambda w, s: f"/api/v1/pledges/{s.offered.pk}/transition/",
      lambda w, s: {"status": "confirmed"}, (401, 200, 404, 403, 403, 403)),
    R("pledge delete (draft)", "delete", lambda w, s: f"/api/v1/pledges/{s.draft.pk}/", None,
      (401, 204, 404, 403, 403, 403)),
    R("caveats list", "get", lambda w, s: "/api/v1/caveats/", None, (401, 200, 200, 200, 200, 200)),
    R("caveat detail", "get", lambda w, s: f"/api/v1/caveats/{s.caveat.pk}/", None,
      (401, 200, 404, 200, 200, 200)),
    R("caveat create, own country", "post", lambda w, s: "/api/v1/caveats/",
      lambda w, s: {"coalition": w.coalition.pk, "kind": "condition", "text": "Only with a US backstop."},
      (401, 201, 201, 403, 403, 403)),
    R("caveat create on a PL pledge", "post", lambda w, s: "/api/v1/caveats/",
      lambda w, s: {"pledge": s.released.pk, "kind": "role", "text": "Air policing only."},
      (401, 201, 403, 403, 403, 403)),
    R("caveat patch", "patch", lambda w, s: f"/api/v1/caveats/{s.caveat.pk}/", lambda w, s: {"text": "Changed."},
      (401, 200, 404, 403, 403, 403)),
    R("caveat lift", "post", lambda w, s: f"/api/v1/caveats/{s.caveat.pk}/lift/", lambda w, s: {},
      (401, 200, 404, 403, 403, 403)),
    R("requirements list", "get", lambda w, s: "/api/v1/requirements/", None, (401, 200, 200, 200, 200, 200)),
    R("requirement set", "post", lambda w, s: "/api/v1/requirements/",
      lambda w, s: {"coalition": w.coalition.pk, "category": "air", "unit": "aircraft", "quantity": 24},
      (401, 403, 403, 403, 201, 201)),
    R("requirement patch", "patch", lambda w, s: f"/api/v1/requirements/{s.requirement.pk}/",
      lambda w, s: {"quantity": 1200}, (401, 403, 403, 403, 200, 200)),
    R("requirement delete", "delete", lambda w, s: f"/api/v1/requirements/{s.requirement.pk}/", None,
      (401, 403, 403, 403, 204, 204)),
]


def fingerprint() -> tuple[Any, ...]:
    """Enough of the database to see whether anything changed."""
    return tuple(
        (model.objects.count(), model.objects.aggregate(v=Sum("version"))["v"])
        for model in (Pledge, Caveat, Requirement)
    )


CASES = [
    pytest.param(row, role, expected, id=f"{row.name}-{role}")
    for row in MATRIX
    for role, expected in zip(ROLES, row.expected, strict=True)
]


@pytest.mark.parametrize(("row", "role", "expected"), CASES)
def test_permission_matrix(row: Row, role: str, expected: int, world: World, scene: Scene,
                           client_for: Callable[[str], APIClient]) -> None:
    client = client_for(role)
    before = fingerprint()
    body = row.body(world, scene) if row.body else None
    response = getattr(client, row.method)(row.path(world, scene), body, format="json")
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert fingerprint() == before, "a refused request changed something"
        assert "detail" in response.json() or expected == 400
    if expected == 401:
        assert response["WWW-Authenticate"] == "Token"
