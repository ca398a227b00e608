"""The OpenAPI schema is valid, the docs are served locally, and fuzzing it finds no server error."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.core.management import call_command
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from knox.models import AuthToken
from schemathesis.generation.modes import GenerationMode

from coalition.wsgi import application
from tests.conftest import World
from tests.factories import make_pledge


def test_schema_validates_without_warnings(tmp_path: Path) -> None:
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in ("/api/v1/pledges/{id}/transition/", "/api/v1/pledges/changes/", "/api/v1/coalitions/{id}/force/",
                 "/api/v1/auth/token/", "/api/v1/countries/{code}/"):
        assert f"  {path}:" in text
    assert "'412':" in text and "'401':" in text and "If-Match" in text


def test_docs_are_served_locally(db: None) -> None:
    client = Client()
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?https?://""", html), "the docs page loads something from a CDN"
    asset = re.search(r"/static/drf_spectacular_sidecar/swagger-ui-dist/[\w./-]+\.js", html)
    assert asset and client.get(asset.group(0)).status_code == 200
    assert client.get("/api/v1/schema/").status_code == 200


EXAMPLES_PER_OPERATION = 10
calls: dict[str, int] = {}


def fuzz(operation: Any, label: str, headers: dict[str, str], failures: list[str], mode: GenerationMode,
         path_parameters: dict[str, Any] | None) -> None:
    """Send EXAMPLES_PER_OPERATION generated requests to one operation; note every 5xx."""
    calls[label] = 0

    @given(case=operation.as_strategy(mode, path_parameters=path_parameters))
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def run(case: schemathesis.Case) -> None:
        calls[label] += 1
        response = case.call(headers=headers)
        if response.status_code >= 500:
            failures.append(f"{label}: {response.status_code} for {case.as_curl_command()}")

    try:
        run()
    except Unsatisfiable:
        assert mode == GenerationMode.NEGATIVE  # nothing in this operation can be made invalid


@pytest.mark.django_db(transaction=True)  # autocommit, as in production: one refused statement spoils nothing
@pytest.mark.parametrize("role", ["analyst", "ministry_pl"])
def test_fuzzing_the_schema_finds_no_server_error(world: World, role: str) -> None:
    pledge = make_pledge(country=world.pl, coalition=world.coalition, status="indicative", releasability="coalition")
    make_pledge(country=world.fr, coalition=world.coalition, status="confirmed")
    assert pledge.pk
    _, token = AuthToken.objects.create(user=getattr(world, role), expiry=None)
    headers = {"Authorization": f"Token {token}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)
    operations = [result.ok() for result in schema.get_all_operations()]
    failures: list[str] = []
    known = {"pledges": pledge.pk, "coalitions": world.coalition.pk, "countries": "PL", "categories": "troops"}
    for operation in operations:
        resource = operation.path.split("/")[3]
        # Valid data at objects that exist (reaches the services), then invalid data anywhere.
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fixed = None
            if mode == GenerationMode.POSITIVE and "{" in operation.path and resource in known:
                fixed = {"id" if "{id}" in operation.path else "code": known[resource]}
            label = f"{role} {mode.value} {operation.method.upper()} {operation.path}"
            fuzz(operation, label, headers, failures, mode, fixed)
    print(f"schemathesis: {role}: {len(operations)} operations, {sum(calls[k] for k in calls if k.startswith(role))}"
          " examples")
    assert len(operations) >= 25
    assert failures == []
