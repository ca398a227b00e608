"""Every form POST the pages have answers odd values in words, never with a 500.

The pages are found, not listed: every route of the URL conf outside the API (the dashboard, the language switch,
what comes next) and every URL of every ModelAdmin in the admin site's registry (changelists, add and change
forms, history and delete pages, the import upload and its preview), each as each role, with a real object where
the URL names one. The forms are read from those pages as a browser reads them (tests/hardening/page_forms.py),
and so is any page an action answers with (the delete confirmation). Each field of each form is then sent with
odd values, the others as the page had them: an unknown choice, NUL, very long, missing, a lone surrogate (as
the invalid UTF-8 it arrives as), numbers out of range; each action of each changelist with odd selections; and,
in the property test, random values everywhere (hypothesis, fixed seed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from meetings.models import Meeting
from pledges.models import Pledge
from tests.conftest import World
from tests.hardening.page_forms import Form, encode, post_forms
from tests.hardening.site_pages import ROLES, Things, admin_paths, build_things, site_paths

LONG = "x" * 20_000
# Odd values: an unknown choice with a NUL in it, very long, a lone surrogate, numbers out of range, an impossible
# day with format directives in it.
ODD = ["zz-unknown\x00", LONG, "\ud800", "99999999999999999999", "-1", "2026-02-30 %(x)s%s{0}"]
ALONE = ODD[0]  # each field alone (and missing; and LONG where one types), the rest of the form as it stands
TYPED = ("text", "textarea", "email", "url", "search", "password", "number", "tel")
ODD_FILES = [("", b""), ("a\x00b.xlsx", b"PK\x03\x04"), ("x" * 300 + ".csv", b"id,country\n1,PL\n"),
             ("\ud800.csv", b"\xff\xfe"), ("a\r\nb.xlsx", b"junk")]


@pytest.fixture
def things(world: World) -> Things:
    return build_things(world)


@dataclass
class Found:
    forms: list[tuple[str, Form]]  # (role, form)
    post_only: set[str]


def discover(things: Things) -> Found:
    forms: dict[tuple[str, Any], tuple[str, Form]] = {}
    post_only: set[str] = set()
    for role in ROLES:
        user = getattr(things.world, role)
        client = Client()
        client.force_login(user)
        for path in [*site_paths(things), *admin_paths(user, things)]:
            response = client.get(path)
            assert response.status_code < 500, (role, path, response.status_code)
            if response.status_code == 405:
                post_only.add(path)
            if response.status_code == 200 and "html" in response.get("Content-Type", ""):
                for form in post_forms(response.content.decode(), path):
                    forms.setdefault((role, form.key), (role, form))
    return Found(forms=list(forms.values()), post_only=post_only)


class Poster:
    """Sends forms as each role; keeps every answer that was a 500, with what was sent and why it failed."""

    def __init__(self, things: Things) -> None:
        self.things = things
        self.clients: dict[str, Client] = {}
        self.sent = 0
        self.failures: dict[tuple[str, str, str], str] = {}

    def client(self, role: str) -> Client:
        if role not in self.clients:
            self.clients[role] = Client(raise_request_exception=False)
            self.clients[role].force_login(getattr(self.things.world, role))
        return self.clients[role]

    def post(self, role: str, form: Form, data: dict[str, list[str]],
             files: dict[str, tuple[str, bytes]] | None = None) -> Any:
        if form.multipart and files is None:
            files = {name: ("pledges.xlsx", self.things.xlsx) for name, f in form.fields.items() if f.kind == "file"}
        body, content_type = encode(data, files, form.multipart)
        response = self.client(role).generic("POST", form.action, body, content_type=content_type)
        self.sent += 1
        if form.action.endswith("/logout/"):
            del self.clients[role]  # signed out: the next form is sent signed in again
        if response.status_code >= 500:
            error = response.exc_info[1] if response.exc_info else response.status_code
            where = (role, form.action, type(error).__name__)
            sent = {name: values[:2] for name, values in data.items()}
            self.failures.setdefault(where, f"{error!r} after sending {sent}"[:600])
        return response

    def assert_no_500(self) -> None:
        assert not self.failures, "\n".join(f"{where}: {what}" for where, what in self.failures.items())


def _pattern(name: str) -> str:
    """An inline's rows have the same fields (invitations-0-country, invitations-1-country): one stands for all."""
    return re.sub(r"-\d+-", "-N-", name)


def _shape(form: Form) -> tuple[str, tuple[str, ...]]:
    return re.sub(r"\d+", "N", form.action), tuple(sorted({_pattern(name) for name in form.fields}))


def sweep(poster: Poster, role: str, form: Form, seen: set[Any], depth: int = 0) -> None:
    """The form as it stands (with each of its buttons) and with every field odd at once; then, once per shape of
    form (whichever role has it first), each field alone odd or missing, the others as they stand, and every odd
    value for every field at once; each action of a changelist with odd selections, and, once per action, the
    page it answers with (e.g. "Are you sure?")."""
    defaults = form.defaults()
    texts = [name for name, f in form.fields.items() if f.kind != "file"]
    first_time = _shape(form) not in seen
    seen.add(_shape(form))
    for name, button in [("", ""), *form.buttons]:
        poster.post(role, form, {**defaults, **({name: [button]} if name else {})})
    # Every field odd at once, each with another odd value (a Latin square: each field meets each value).
    for turn in range(len(ODD) if first_time else 1):
        poster.post(role, form, {**defaults, **{name: [ODD[(turn + i) % len(ODD)]] for i, name in enumerate(texts)}})
    if first_time:
        patterns: set[str] = set()
        for name, fieldinfo in form.fields.items():
            if _pattern(name) in patterns:
                continue
            patterns.add(_pattern(name))
            if fieldinfo.kind == "file":
                for odd_file in ODD_FILES:
                    poster.post(role, form, defaults, {name: odd_file})
                continue
            if fieldinfo.kind != "hidden":  # a hidden field missing: the formsets' own refusal, tested by Django
                poster.post(role, form, {k: v for k, v in defaults.items() if k != name})
            for value in [ALONE, LONG] if fieldinfo.kind in TYPED else [ALONE]:
                poster.post(role, form, {**defaults, name: [value]})
            if fieldinfo.kind in ("select-multiple", "checkbox"):
                poster.post(role, form, {**defaults, name: [*fieldinfo.options, "zz-unknown", "a\x00b"]})
    if "action" in form.fields and "_selected_action" in form.fields:
        shown = form.fields["_selected_action"].options
        hidden = [str(pk) for pk in Pledge.objects.exclude(pk__in=[p for p in shown if p.isdigit()])
                  .values_list("pk", flat=True)[:3]]  # rows this role may not see, or not shown here
        for action in form.fields["action"].options:
            sends = [{"_selected_action": selection} for selection in
                     ([], hidden, ["zz"], ["a\x00b"], ["99999999999999999999"], ["-1", LONG], shown)]
            sends += [{"_selected_action": [], "select_across": ["1"]},
                      {"_selected_action": [*hidden, "zz"], "post": ["yes"]},
                      {"_selected_action": shown[-1:], "post": ["yes"]}]  # one row, as far as the action goes
            for extra in sends:
                response = poster.post(role, form, {**defaults, "action": [action], **extra})
                answered = (role, form.action, action)
                if (depth == 0 and answered not in seen and response.status_code == 200
                        and "html" in response.get("Content-Type", "")):
                    seen.add(answered)
                    for step in post_forms(response.content.decode(), form.action):
                        sweep(poster, role, step, seen, depth + 1)


def _last_what_deletes(item: tuple[str, Form]) -> tuple[bool, bool, bool]:
    """Delete pages last, changelists (whose actions delete) before them, the administrator's last of all: what
    they remove (users too), the other forms still name."""
    role, form = item
    return "/delete/" in form.action, "action" in form.fields, role == "admin"


@pytest.fixture
def found(things: Things) -> Found:
    return discover(things)


def test_the_walk_reaches_every_kind_of_form(things: Things, found: Found) -> None:
    actions = {(role, form.action.split("?")[0]) for role, form in found.forms}
    meeting, pledge = things.scene.meeting.pk, things.scene.pl_confirmed.pk
    for expected in [("secretariat", f"/meetings/{meeting}/briefs/"), ("analyst", "/language/"),
                     ("secretariat", "/admin/meetings/meeting/add/"),
                     ("secretariat", f"/admin/meetings/meeting/{meeting}/change/"),
                     ("secretariat", "/admin/meetings/meeting/"), ("ministry_pl", "/admin/pledges/pledge/"),
                     ("ministry_pl", f"/admin/pledges/pledge/{pledge}/change/"),
                     ("ministry_pl", "/admin/imports/import/upload/"), ("admin", "/admin/accounts/user/add/"),
                     ("admin", "/admin/places/place/add/"), ("admin", "/admin/password_change/")]:
        assert expected in actions, expected
    reached = {form.action.split("?")[0] for _role, form in found.forms}
    assert found.post_only <= reached, f"POST-only routes no page's form reaches: {found.post_only - reached}"


def test_every_form_post_answers_odd_values_without_a_500(things: Things, found: Found) -> None:
    poster = Poster(things)
    seen: set[Any] = set()
    for role, form in sorted(found.forms, key=_last_what_deletes):
        sweep(poster, role, form, seen)
    poster.assert_no_500()
    assert poster.sent > 1000


@pytest.mark.property
def test_any_values_in_any_form_never_make_a_500(things: Things, found: Found) -> None:
    poster = Poster(things)
    forms = [item for item in found.forms if "/delete/" not in item[1].action]
    anything = st.one_of(st.text(st.characters(exclude_categories=()), max_size=60), st.sampled_from(ODD),
                         st.integers().map(str), st.dates().map(str))

    @seed(5)
    @settings(max_examples=100, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(data=st.data())
    def post_anything(data: st.DataObject) -> None:
        role, form = data.draw(st.sampled_from(forms))
        sent: dict[str, list[str]] = {}
        for name, fieldinfo in form.fields.items():
            if fieldinfo.kind == "file":
                continue
            choice = data.draw(st.sampled_from(["keep", "odd", "drop", "option"]))
            if choice == "keep":
                sent[name] = list(fieldinfo.value)
            elif choice == "odd":
                sent[name] = data.draw(st.lists(anything, min_size=1, max_size=3))
            elif choice == "option" and fieldinfo.options:
                sent[name] = [data.draw(st.sampled_from(fieldinfo.options))]
        poster.post(role, form, sent)

    post_anything()
    poster.assert_no_500()
    assert not Meeting.objects.filter(title__contains="\n").exists()


def test_an_action_on_rows_that_do_not_exist_does_nothing_and_says_so(things: Things, client: Client) -> None:
    """Before: Django's admin put the forged ids in the query (ValueError, a 500), for every ModelAdmin."""
    client.force_login(things.world.secretariat)
    for selection in (["zz"], [str(things.scene.meeting.pk), "a\x00b"]):
        body, content_type = encode({"action": ["compile_brief"], "index": ["0"], "_selected_action": selection})
        response = client.generic("POST", "/admin/meetings/meeting/", body, content_type=content_type)
        assert response.status_code == 302
        page = client.get(response["Location"]).content.decode()
        assert "Some of the selected rows do not exist; nothing was done." in page
    assert things.scene.meeting.briefs.count() == 1  # the fixture's own, and no other


def test_an_autocomplete_box_given_a_forged_value_comes_back_as_a_form_error(things: Things, client: Client) -> None:
    """Before: the place box, drawn again with the form's errors, put "zz" in a query (ValueError, a 500)."""
    client.force_login(things.world.ministry_pl)
    page = client.get("/admin/pledges/pledge/add/").content.decode()
    [form] = [f for f in post_forms(page, "/admin/pledges/pledge/add/") if "place" in f.fields]
    body, content_type = encode({**form.defaults(), "place": ["zz"]})
    response = client.generic("POST", form.action, body, content_type=content_type)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
