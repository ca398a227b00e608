"""No text in a query parameter is a server error.

Every query parameter of every GET of the OpenAPI schema (each filter of each list, `as_of`, `ordering`, `page`,
`cursor`, `format`, ...) is read from /api/v1/schema/, so a new filter is covered without anyone adding it here.
Each takes the texts a message format or the database would choke on (`%`, `%d`, `{}`, NUL, lone surrogates,
10,000 characters, unknown codes among known ones) and then what hypothesis makes of them (fixed by
`derandomize`, so a run is reproducible). The answer is 200, 404 (no such page or format) or a 400 that names
the parameter; never a 500.
"""

from __future__ import annotations

import operator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.api.conftest import Objects
from tests.conftest import World

EXAMPLES_PER_PARAMETER = 15
PIECES = ["%", "%d", "%s", "%(value)s", "%%", "{", "}", "{}", "{0}", ",", "\x00", "\ud800", "\udfff", "PL", "pl",
          "draft", "true", "1", "-1", " ", "é", "-", "Z", "2025-03-01", "T", ":"]
EVERY_TIME = ["%", "%d", "%s", "%25", "%(value)s", "{}", "{0}", "\x00", "a\x00b", "\ud800", "PL,%d", "ZZ,%", "draft,%s",
              "PL,\x00", ",", "%" * 10_000, "x" * 10_000, "\u00e9" * 10_000, "PL," * 3_000, "\ud800" * 10_000]


def texts() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=50),
        st.lists(st.sampled_from(PIECES), max_size=12).map("".join),
        st.builds(operator.mul, st.sampled_from(["%", "{}", "PL,", "%d,", "\ud800", "9"]),
                  st.integers(min_value=1, max_value=10_000)),
    )


def get_parameters(schema: dict[str, Any]) -> list[tuple[str, str]]:
    return [(template, parameter["name"]) for template, operations in schema["paths"].items()
            for parameter in operations.get("get", {}).get("parameters", []) if parameter["in"] == "query"]


# What an operation needs besides the parameter under test to answer 200 (the test checks it does).
GIVEN = {"/api/v1/pledges/changes/": {"since": "2025-01-01T00:00:00Z"}}


def query_string(values: dict[str, str]) -> str:
    # As a client sends any text: UTF-8, a lone surrogate as the bytes it would have been.
    return "&".join(f"{name}={quote(value.encode('utf-8', 'surrogatepass'), safe='')}"
                    for name, value in values.items())


def refusal(client: APIClient, template: str, path: str, name: str, value: str) -> str | None:
    """What is wrong with the answer to `path?name=value`, if anything."""
    response = client.get(f"{path}?{query_string({**GIVEN.get(template, {}), name: value})}")
    status = response.status_code
    if status == 400 and ("json" not in response["Content-Type"] or name not in response.json()):
        return f"400 not naming {name}: {response.content[:200]!r}"
    if status >= 500 or status not in (200, 400, 404):
        return f"{status}: {response.content[:200]!r}"
    return None


@pytest.mark.property
def test_no_text_in_any_query_parameter_is_a_server_error(world: World, objects: Objects, unthrottled: None) -> None:
    client = APIClient()
    client.raise_request_exception = False  # a 500 is an answer to report
    _, token = AuthToken.objects.create(user=world.secretariat, expiry=None)  # reads every list, briefs included
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    parameters = get_parameters(client.get("/api/v1/schema/?format=json").json())
    failures: list[str] = []
    for template, name in parameters:
        path = objects.fill(template)
        assert client.get(f"{path}?{query_string(GIVEN.get(template, {}))}").status_code == 200, template
        for value in EVERY_TIME:
            if problem := refusal(client, template, path, name, value):
                failures.append(f"GET {template}?{name}={value[:40]!r}: {problem}")

        @given(value=texts())
        @settings(max_examples=EXAMPLES_PER_PARAMETER, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def any_text(value: str) -> None:
            if problem := refusal(client, template, path, name, value):  # noqa: B023 (run here, in this iteration)
                failures.append(f"GET {template}?{name}={value[:40]!r}: {problem}")  # noqa: B023

        any_text()
    print(f"{len(parameters)} query parameters, {len(EVERY_TIME) + EXAMPLES_PER_PARAMETER} texts each")
    assert len(parameters) >= 60
    assert failures == [], "\n".join(failures)
