"""Every message the API answers is in the reader's language, not only the strings someone remembered to mark.

The walk takes every operation of the OpenAPI schema (/api/v1/schema/), so a new endpoint is walked without
anyone adding it here, and sends it what a reader gets wrong: no credentials, unknown and malformed ids, a bad
value in each query parameter, bodies with wrong types, unknown fields, NUL bytes, values out of range, broken
or too deep JSON, each enum value in turn, a stale If-Match, a method the path does not take, and a role that may
not write. Each request goes once in English and once in French (by Accept-Language, or by the user's own
preferred language), each in a transaction rolled back after it, so both meet the same data; an answer in French
whose message is the English one, once the words the reader typed are taken out, is a failure. A 5xx is one too.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import openpyxl
import pytest
from django.conf import settings
from django.db import transaction
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.models import User
from imports.columns import COLUMNS
from tests.api.conftest import Objects, Scene
from tests.conftest import World

UNKNOWN_ID = "2147483000"
# A message may legitimately read the same in both languages only when nothing in it is a word to translate.
LETTERS = re.compile(r"[^\W\d_]{2,}")


@dataclass
class Probe:
    label: str
    method: str
    path: str  # with its query string
    body: Any = None
    content_type: str = "application/json"
    raw: bytes | None = None  # a body sent as it is (broken JSON, another media type)
    headers: dict[str, str] = field(default_factory=dict)
    typed: list[str] = field(default_factory=list)  # what the reader typed: exempt from the comparison


# --- the probes, from the schema ------------------------------------------------------------------------------


def _resolve(schema: dict[str, Any], node: Any) -> Any:
    """A schema with its $ref followed (also drf-spectacular's `allOf: [{$ref}]` around an enum)."""
    while isinstance(node, dict) and ("$ref" in node or len(node.get("allOf", [])) == 1):
        if "$ref" in node:
            node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
        else:
            node = {**{k: v for k, v in node.items() if k != "allOf"}, **_resolve(schema, node["allOf"][0])}
    return node


def _wrong_type(prop: dict[str, Any]) -> Any:
    kind, fmt = prop.get("type"), prop.get("format")
    if "enum" in prop:
        return "bogus-choice"
    if kind in ("integer", "number"):
        return "many"
    if kind == "boolean":
        return "perhaps"
    if kind == "array":
        return "not-a-list"
    if kind == "string" and fmt in ("date", "date-time"):
        return "someday"
    if kind == "string":
        return {"not": "a string"}
    return "not-an-object"


def _out_of_range(prop: dict[str, Any]) -> Any:
    kind = prop.get("type")
    if kind in ("integer", "number"):
        return -10**15
    if kind == "string" and prop.get("format") == "date":
        return "9999-12-31"
    if kind == "string":
        return "x" * 20_001
    if kind == "array":
        return [{"not": "an item"}]
    return None


def _bad_query_value(param: dict[str, Any]) -> str:
    prop = param.get("schema", {})
    if "enum" in prop:
        return "bogus"
    if prop.get("type") == "integer":
        return "many"
    if prop.get("type") == "boolean":
        return "perhaps"
    if prop.get("format") in ("date", "date-time") or param["name"] in ("as_of", "since", "until", "updated_since"):
        return "2025-13-45"
    return "ZZ,%d"  # an unknown code (country, status), and a % sign that must not break the message


def probes_for(schema: dict[str, Any], objects: Objects, role: str, how: str) -> Iterator[list[Probe]]:
    """The probes of each operation, the request as it is (valid path, empty body) first."""
    for template, operations in schema["paths"].items():
        if how == "preference" and all({} in op.get("security", [{}]) for op in operations.values()
                                       if isinstance(op, dict)):
            continue  # an operation that signs no one in (the token login) cannot know whose language
        for method, operation in operations.items():
            if isinstance(operation, dict) and "responses" in operation:
                yield list(_operation_probes(schema, objects, role, template, method.upper(), operation))
        offered = {method.upper() for method in operations}
        if missing := [method for method in ("PUT", "PATCH", "DELETE") if method not in offered]:
            yield [Probe(f"{role} {missing[0]} {template} not offered", missing[0], objects.fill(template),
                         body={})]


def _operation_probes(schema: dict[str, Any], objects: Objects, role: str, template: str, method: str,
                      operation: dict[str, Any]) -> Iterator[Probe]:
    path = objects.fill(template)
    label = f"{role} {method} {template}"
    yield Probe(f"{label} as it is", method, path, body={})
    for name in re.findall(r"\{(\w+)\}", template):
        for unknown in (UNKNOWN_ID if "id" in name else "ZZ", "abc" if "id" in name else "Q!"):
            yield Probe(f"{label} {name}={unknown}", method, objects.fill(template, **{name: unknown}), body={},
                        typed=[unknown])
    for param in operation.get("parameters", []):
        if param["in"] == "query":
            value = _bad_query_value(param)
            query = f"{param['name']}={value.replace('%', '%25')}"
            yield Probe(f"{label} ?{query}", method, f"{path}?{query}", typed=[value])
    if any(p["in"] == "header" and p["name"] == "If-Match" for p in operation.get("parameters", [])):
        tag = objects.etags[template.split("/")[3]]
        yield Probe(f"{label} stale If-Match", method, path, body={}, headers={"If-Match": tag[:-1] + '9"'})
        yield Probe(f"{label} If-Match of another object", method, path, body={}, headers={"If-Match": '"0-1"'})
    if method in ("POST", "PUT", "PATCH"):
        yield from _body_probes(schema, operation, label, method, path)


def _body_probes(schema: dict[str, Any], operation: dict[str, Any], label: str, method: str,
                 path: str) -> Iterator[Probe]:
    content = operation.get("requestBody", {}).get("content", {})
    multipart = "application/json" not in content and "multipart/form-data" in content
    media = "multipart/form-data" if multipart else "application/json"
    body_schema = _resolve(schema, content.get(media, {}).get("schema", {})) if content else {}
    props = {name: _resolve(schema, prop) for name, prop in body_schema.get("properties", {}).items()
             if not _resolve(schema, prop).get("readOnly")}
    fmt = "multipart" if multipart else "json"
    yield Probe(f"{label} empty body", method, path, body={}, content_type=fmt)
    yield Probe(f"{label} unknown field", method, path, body={"zz_unknown": "1"}, content_type=fmt)
    as_read = {name for code, answer in operation["responses"].items() if code.startswith("2")
               for name in _resolve(schema, answer.get("content", {}).get("application/json", {}).get("schema", {}))
               .get("properties", {})} - set(props)
    if as_read:  # a client that sends back the object as it read it: fields it may not change
        yield Probe(f"{label} fields as read", method, path, body=dict.fromkeys(sorted(as_read), "1"),
                    content_type=fmt)
    if props:
        wrong = {name: _wrong_type(prop) for name, prop in props.items()}
        if multipart:
            wrong = {name: json.dumps(value) if isinstance(value, dict) else value for name, value in wrong.items()}
        yield Probe(f"{label} wrong types", method, path, body=wrong, content_type=fmt,
                    typed=[v for v in wrong.values() if isinstance(v, str)])
        nul = {name: "a\x00b" for name in props}
        yield Probe(f"{label} NUL bytes", method, path, body=nul, content_type=fmt)
        far = {name: value for name, prop in props.items() if (value := _out_of_range(prop)) is not None}
        if far and not multipart:
            yield Probe(f"{label} out of range", method, path, body=far, typed=[str(v) for v in far.values()])
        for name, prop in props.items():
            for value in prop.get("enum", []):
                if value:
                    yield Probe(f"{label} {name}={value}", method, path, body={name: value}, content_type=fmt)
    if multipart:
        yield Probe(f"{label} broken multipart", method, path, raw=b"--x\r\nnothing",
                    content_type="multipart/form-data")
        return
    yield Probe(f"{label} a list", method, path, body=[1, 2])
    yield Probe(f"{label} broken JSON", method, path, raw=b'{"quantity": 5,')
    yield Probe(f"{label} JSON too deep", method, path, raw=(b"[" * 40) + (b"]" * 40))
    yield Probe(f"{label} another media type", method, path, raw=b"quantity=5", content_type="text/csv")


def semantic_probes(objects: Objects, world: World) -> Iterator[tuple[str, Probe]]:
    """Refusals the generic probes cannot reach: they need values that are valid one by one."""
    pledge, caveat = objects.ids[("pledges", "id")], objects.ids[("caveats", "id")]
    meeting = objects.ids[("meetings", "id")]
    yield "ministry_pl", Probe("until before since", "GET",
                               "/api/v1/pledges/changes/?since=2025-02-01&until=2025-01-01")
    yield "ministry_pl", Probe("lifted in the future", "POST", f"/api/v1/caveats/{caveat}/lift/",
                               body={"lifted_on": "2999-01-01"})
    yield "ministry_pl", Probe("lifted before imposed", "POST", f"/api/v1/caveats/{caveat}/lift/",
                               body={"lifted_on": "2000-01-01"})
    yield "ministry_pl", Probe("imposed far ahead", "POST", "/api/v1/caveats/",
                               body={"pledge": int(pledge), "kind": "other", "text": "x", "imposed_on": "2999-01-01"})
    yield "ministry_pl", Probe("caveat without pledge or coalition", "POST", "/api/v1/caveats/",
                               body={"kind": "other", "text": "x"})
    yield "ministry_pl", Probe("caveat of another coalition", "POST", "/api/v1/caveats/",
                               body={"pledge": int(pledge), "coalition": world.other_coalition.pk, "kind": "other",
                                     "text": "x"})
    yield "ministry_pl", Probe("caveat of another country", "POST", "/api/v1/caveats/",
                               body={"pledge": int(pledge), "country": "FR", "kind": "other", "text": "x"})
    yield "ministry_pl", Probe("until before from", "PATCH", f"/api/v1/pledges/{pledge}/",
                               body={"available_from": "2026-02-01", "available_until": "2026-01-01"})
    yield "ministry_pl", Probe("a unit of another category", "PATCH", f"/api/v1/pledges/{pledge}/",
                               body={"unit": "aircraft"})
    yield "ministry_pl", Probe("more delivered than pledged", "POST", "/api/v1/deliveries/",
                               body={"pledge": int(pledge), "quantity": 10_000, "planned_on": "2026-01-01"})
    yield "ministry_pl", Probe("a pledge for a coalition not one's own", "POST", "/api/v1/pledges/",
                               body={"coalition": world.other_coalition.pk + 1000, "category": "troops",
                                     "unit": "personnel", "quantity": 1})
    yield "secretariat", Probe("meeting to another coalition", "PATCH", f"/api/v1/meetings/{meeting}/",
                               body={"coalition": world.other_coalition.pk})
    yield "secretariat", Probe("invitation of a non-member", "POST", f"/api/v1/meetings/{meeting}/invitations/",
                               body={"country": "US", "status": "invited"})
    yield "secretariat", Probe("a brief in German", "POST", f"/api/v1/meetings/{meeting}/briefs/",
                               body={"language": "de"}, typed=["de"])
    yield "secretariat", Probe("ends before it starts", "PATCH", f"/api/v1/meetings/{meeting}/",
                               body={"starts_at": "2030-01-02T10:00:00Z", "ends_at": "2030-01-01T10:00:00Z"})
    yield "ministry_pl", Probe("a body over the limit", "POST", "/api/v1/pledges/",
                               raw=b" " * (settings.API_MAX_BODY_BYTES + 1))
    yield "anonymous", Probe("wrong password", "POST", "/api/v1/auth/token/",
                             body={"username": "nobody", "password": "wrong"}, typed=["nobody"])
    yield "anonymous", Probe("a token that is not one", "GET", "/api/v1/pledges/",
                             headers={"Authorization": "Token not-a-token"})


# --- sending and comparing ------------------------------------------------------------------------------------


def _client(user: User | None) -> APIClient:
    """A client that signs in as a real one does: with a token (or with nothing, for `anonymous`)."""
    client = APIClient()
    client.raise_request_exception = False  # a 500 is an answer to report, not an exception in the test
    if user is not None:
        _, token = AuthToken.objects.create(user=user, expiry=None)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def _send(client: APIClient, probe: Probe, user: User | None, language: str, how: str) -> Any:
    """The probe in `language`: by Accept-Language, or by the user's own preference (the browser asking for
    English), in a transaction rolled back after it."""
    headers = dict(probe.headers)
    with transaction.atomic():
        if how == "preference" and user is not None:
            User.objects.filter(pk=user.pk).update(preferred_language=language)
            headers["Accept-Language"] = "en"  # in French only if the user's own choice wins
        else:
            headers["Accept-Language"] = language
        if probe.raw is not None:
            response = client.generic(probe.method, probe.path, probe.raw, content_type=probe.content_type,
                                      headers=headers)
        else:
            body = probe.body if probe.method not in ("GET", "HEAD") else None
            kwargs: dict[str, Any] = {"headers": headers}
            if body is not None:
                kwargs.update(data=body, format=probe.content_type if probe.content_type != "application/json"
                              else "json")
            response = getattr(client, probe.method.lower())(probe.path, **kwargs)
        transaction.set_rollback(True)
    return response


def _messages(response: Any) -> list[tuple[str, str]]:
    """(where, text) of every message in an answer."""
    if "json" not in response.get("Content-Type", ""):
        return [("body", response.content.decode(errors="replace")[:500])]
    found: list[tuple[str, str]] = []

    def walk(value: Any, where: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{where}.{key}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{where}[{index}]")
        elif isinstance(value, str):
            found.append((where, value))

    walk(response.json(), "")
    return found


def _stripped(text: str, typed: list[str]) -> str:
    for value in sorted(typed, key=len, reverse=True):
        if value:
            text = text.replace(value, "")
    return text


def english_answers(client: APIClient, probe: Probe, user: User | None, how: str) -> tuple[list[str], int]:
    """What the French answer says in English, and the answer's status."""
    english, french = _send(client, probe, user, "en-gb", how), _send(client, probe, user, "fr", how)
    problems = []
    for response, language in ((english, "en"), (french, "fr")):
        if response.status_code >= 500:
            problems.append(f"{probe.label}: {response.status_code} in {language}")
    if french.status_code < 400 or problems:
        return problems, english.status_code
    said_in_english = dict(_messages(english))
    for where, text in _messages(french):
        if where in said_in_english and _stripped(said_in_english[where], probe.typed) == (
                rest := _stripped(text, probe.typed)) and LETTERS.search(rest):
            problems.append(f"{probe.label}: {french.status_code} {where}: {text[:200]!r}")
    return problems, english.status_code


# (who, how their language is chosen, which probes): the full walk as ministry staff and as the secretariat
# (writers of different resources); every operation as it is for an analyst (refusals of a reader) and without
# credentials.
WALKS = [("anonymous", "header", "first"), ("ministry_pl", "header", "all"), ("secretariat", "preference", "all"),
         ("analyst", "header", "first")]


@pytest.mark.parametrize(("role", "how", "depth"), WALKS)
def test_every_refusal_of_every_operation_is_in_french(world: World, objects: Objects, unthrottled: None,
                                                       role: str, how: str, depth: str) -> None:
    user = None if role == "anonymous" else getattr(world, role)
    client = _client(user)
    schema = APIClient().get("/api/v1/schema/?format=json").json()
    operations = list(probes_for(schema, objects, role, how))
    operations += [[probe] for who, probe in semantic_probes(objects, world) if who == role]
    problems, sent = [], 0
    for probes in operations:
        for probe in probes[:1] if depth == "first" else probes:
            found, status = english_answers(client, probe, user, how)
            problems += found
            sent += 1
            if status == 403 and probe is probes[0]:
                break  # this role may not do this at all: every other probe would be the same refusal
    print(f"{role} ({how}): {len(operations)} operations, {sent} probes")
    assert len(operations) > 60
    assert not problems, f"{len(problems)} answers in English:\n" + "\n".join(problems)


def test_the_import_template_speaks_the_readers_language(world: World) -> None:
    """The spreadsheet a ministry fills in: its help sheet, the drop-downs' error prompts and the lists' headings are
    in the reader's language; column names, codes and sheet names (what the reader of the upload looks for) are not
    words to translate."""

    def texts(language: str) -> dict[str, str]:
        client = APIClient(headers={"Accept-Language": language})
        client.force_authenticate(world.ministry_pl)
        response = client.get(f"/api/v1/coalitions/{world.coalition.pk}/template.xlsx")
        assert response.status_code == 200
        book = openpyxl.load_workbook(io.BytesIO(response.content))
        # The help sheet but its column of column names; the lists' headings (their rows are codes and names).
        found = {f"{sheet.title}!{cell.coordinate}": cell.value for sheet in book if sheet.title != "Pledges"
                 for row in sheet.iter_rows(max_row=None if sheet.title != "Lists" else 1) for cell in row
                 if isinstance(cell.value, str) and not (sheet.title != "Lists" and cell.column_letter == "A"
                                                         and cell.row > 3)}
        for index, rule in enumerate(book["Pledges"].data_validations.dataValidation):
            found[f"rule {index} title"], found[f"rule {index} error"] = rule.errorTitle, rule.error
        return found

    english, french = texts("en"), texts("fr")
    codes = {column.name for column in COLUMNS}
    said_in_english = [f"{where}: {text!r}" for where, text in french.items()
                       if english.get(where) == text and text not in codes and LETTERS.search(text)]
    assert len(english) > 30 and "rule 0 error" in french
    assert said_in_english == []


def test_a_reused_idempotency_key_is_refused_in_the_readers_language(world: World, scene: Scene) -> None:
    """The 422 of a key sent again with another body: two requests, so outside the walk's one-request probes."""
    _, token = AuthToken.objects.create(user=world.ministry_pl, expiry=None)
    client = APIClient(HTTP_AUTHORIZATION=f"Token {token}")
    body = {"pledge": scene.offered.pk, "kind": "other", "text": "First."}
    first = client.post("/api/v1/caveats/", body, format="json", headers={"Idempotency-Key": "key-1"})
    assert first.status_code == 201, first.content
    answers = {language: client.post("/api/v1/caveats/", {**body, "text": "Second."}, format="json",
                                     headers={"Idempotency-Key": "key-1", "Accept-Language": language})
               for language in ("en", "fr")}
    assert {answer.status_code for answer in answers.values()} == {422}
    assert answers["fr"].json()["detail"] != answers["en"].json()["detail"]
    assert answers["fr"]["Content-Language"] == "fr"
