"""The OpenAPI schema is valid, the docs are served locally, and fuzzing it finds no server error."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.core.management import call_command
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from knox.models import AuthToken
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.modes import GenerationMode

from coalition.wsgi import application
from tests.api.conftest import Objects
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
EXAMPLES_PER_QUERY_OPERATION = 15  # where the filters are: every value a reader types ends up in a form field
calls: dict[str, int] = {}
statuses: Counter[int] = Counter()
# Texts that break a message built around them (`%` formatting, str.format) or the database (NUL), mixed into
# every generated string parameter (a schemathesis fuzz dictionary): random text alone seldom holds a `%`.
FORMAT_BREAKERS = ["%", "%d", "%s", "%(value)s", "%%", "%25", "{}", "{0}", "{value}", "PL,%d", "ZZ,%", "draft,%s",
                   "\x00", "a\x00b", "%" * 10_000]
CONFIG = SchemathesisConfig.from_dict({
    "dictionaries": {"format-breakers": {"values": FORMAT_BREAKERS}},
    "generation": {"dictionaries": {"string": {"dictionary": "format-breakers", "probability": 0.2}}},
})


def fuzz(operation: Any, label: str, headers: dict[str, str], failures: list[str], mode: GenerationMode,
         path_parameters: dict[str, Any] | None) -> None:
    """Send generated requests to one operation (more where it takes query parameters); note every 5xx.
    `derandomize`: the same requests on every run, so a failure found once is found again."""
    calls[label] = 0
    queried = any(True for _ in operation.query)

    @given(case=operation.as_strategy(mode, path_parameters=path_parameters))
    @settings(max_examples=EXAMPLES_PER_QUERY_OPERATION if queried else EXAMPLES_PER_OPERATION, deadline=None,
              database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def run(case: schemathesis.Case) -> None:
        calls[label] += 1
        response = case.call(headers=headers)
        statuses[response.status_code] += 1
        # 5xx: a server error; 401 or 429: the request never reached the code under test (a revoked token, the
        # throttle), except after the fuzzed logout itself.
        if response.status_code >= 500 or response.status_code == 429 or (
                response.status_code == 401 and operation.path != "/api/v1/auth/logout/"):
            failures.append(f"{label}: {response.status_code} for {case.as_curl_command()}")

    try:
        run()
    except Unsatisfiable:
        assert mode == GenerationMode.NEGATIVE  # nothing in this operation can be made invalid


@pytest.mark.django_db(transaction=True)  # autocommit, as in production: one refused statement spoils nothing
@pytest.mark.parametrize("role", ["ministry_pl", "secretariat"])
def test_fuzzing_the_schema_finds_no_server_error(world: World, objects: Objects, unthrottled: None,
                                                  role: str) -> None:
    """As ministry staff and as the secretariat (the two roles that write), with the throttle raised so that
    the generated requests reach the code rather than a 429, and a token of its own for each operation (the
    fuzzed POST /auth/logout/ revokes the one it is sent with)."""
    make_pledge(country=world.fr, coalition=world.coalition, status="confirmed")
    statuses.clear()
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application, config=CONFIG)
    operations = [result.ok() for result in schema.get_all_operations()]
    failures: list[str] = []
    for operation in operations:
        _, token = AuthToken.objects.create(user=getattr(world, role), expiry=None)
        headers = {"Authorization": f"Token {token}"}
        resource = operation.path.split("/")[3]
        # Valid data at objects that exist (reaches the services), then invalid data anywhere.
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fixed = None
            if mode == GenerationMode.POSITIVE and "{" in operation.path:
                fixed = {name: objects.ids[(resource, name)] for name in re.findall(r"\{(\w+)\}", operation.path)}
            label = f"{role} {mode.value} {operation.method.upper()} {operation.path}"
            fuzz(operation, label, headers, failures, mode, fixed)
    print(f"schemathesis: {role}: {len(operations)} operations, {sum(calls[k] for k in calls if k.startswith(role))}"
          f" examples; answers: {dict(sorted(statuses.items()))}")
    assert len(operations) >= 25
    assert failures == [], "\n".join(failures)
