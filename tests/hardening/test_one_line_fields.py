"""One-line fields refuse line breaks and every other control character, on every path: the model's validation
(so the services, the API and the admin's forms), the API (a 400 naming the field), the admin (a form error) and
the database (a CHECK, raw SQL refused). The fields are every CharField a user types in every app, found from the
models, so a new one is checked without being listed here; the data migration cleans what was stored before."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pghistory
import pytest
from django.apps import apps
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import RequestFactory
from django.utils import timezone
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from pghistory.models import Event
from rest_framework.test import APIClient

from meetings import services as meeting_services
from meetings.models import AgendaItem, Invitation, Meeting
from places.services import place_add
from pledges.conditions import condition_create
from pledges.models import Condition, Country, Pledge
from tests.conftest import World
from tests.factories import make_pledge
from utilities.text import NOT_ONE_LINE_SQL, validate_single_line

PROJECT_APPS = ("accounts", "places", "pledges", "meetings", "imports", "idempotency")
# CharFields no one types: made by the code, or outside this rule for a reason given.
NOT_TYPED = {
    "accounts.User.password": "a hash made by the code (the password itself is neither stored nor shown)",
    "meetings.Notification.key": "made by the code (reminder:12:7)",
    "imports.Import.digest": "a SHA-256 made by the code",
    "imports.Import.filename": "the uploaded file's name, shown in the admin only (imports/ is another change's)",
    "idempotency.IdempotentRequest.key": "a request header, compared, never shown",
    "idempotency.IdempotentRequest.fingerprint": "a SHA-256 made by the code",
    "idempotency.IdempotentRequest.method": "the request's method",
    "idempotency.IdempotentRequest.path": "the request's path",
}
BROKEN = ["\n", "\r", "\t", "\x0b", "\x1b", "\x7f", "\x85", "\u2028", "\u2029"]


def one_line_fields() -> list[models.CharField[Any, Any]]:
    """Every CharField (slugs and addresses too) of the project's models that a user types: not a choice, not
    made by the code, not a history table's copy."""
    found = []
    for label in PROJECT_APPS:
        for model in apps.get_app_config(label).get_models():
            if issubclass(model, Event):
                continue
            for field in model._meta.concrete_fields:
                name = f"{label}.{model.__name__}.{field.name}"
                if isinstance(field, models.CharField) and not field.choices and name not in NOT_TYPED:
                    found.append(field)
    return found


def label(field: Any) -> str:
    return f"{field.model._meta.app_label}.{field.model.__name__}.{field.name}"


def broken_value(field: Any, character: str = "\n") -> str:
    if isinstance(field, models.EmailField):
        return f"someone{character}@example.org"
    return ("A" + character + "B")[:field.max_length]


FIELDS = one_line_fields()


def test_the_rule_covers_the_fields_named_in_the_issue() -> None:
    names = {label(field) for field in FIELDS}
    assert {"meetings.Meeting.title", "meetings.Meeting.place", "meetings.Invitation.head_of_delegation",
            "meetings.AgendaItem.title", "pledges.Country.name", "pledges.Coalition.name",
            "pledges.Coalition.short_name", "pledges.Pledge.location", "places.Place.name",
            "accounts.User.username", "accounts.User.first_name", "accounts.User.last_name"} <= names


@pytest.fixture
def rows(world: World) -> dict[type[models.Model], models.Model]:
    """One stored row of every model with a one-line field."""
    pledge = make_pledge(country=world.pl, coalition=world.coalition, location="Lviv")
    start = timezone.now() + dt.timedelta(days=9)
    meeting = meeting_services.meeting_create(actor=world.secretariat, coalition=world.coalition, title="Ministers",
                                              starts_at=start, ends_at=start, place="Brussels")
    meeting_services.invitation_set(actor=world.secretariat, meeting=meeting, country=world.pl,
                                    head_of_delegation="Minister")
    meeting_services.agenda_item_add(actor=world.secretariat, meeting=meeting, title="Force picture")
    place = place_add(actor=world.admin, name="Air base", country_code="PL", latitude=50.1, longitude=22.0)
    condition = condition_create(actor=world.secretariat, coalition=world.coalition, name="Ceasefire in force")
    found = {type(row): row for row in (pledge, meeting, Invitation.objects.get(), AgendaItem.objects.get(), place,
                                        condition,
                                        world.pl, world.coalition, world.troops, world.personnel, world.ministry_pl)}
    assert {field.model for field in FIELDS} <= set(found), "a model with a one-line field has no row here"
    return found


@pytest.mark.parametrize("field", FIELDS, ids=label)
def test_validation_refuses_a_line_break_naming_the_field(field: Any, rows: dict[type, models.Model]) -> None:
    row = field.model.objects.get(pk=rows[field.model].pk)
    for character in BROKEN:
        setattr(row, field.attname, broken_value(field, character))
        with pytest.raises(ValidationError) as refused:
            row.full_clean()
        assert field.name in refused.value.message_dict, (repr(character), refused.value)


@pytest.mark.parametrize("field", FIELDS, ids=label)
def test_the_database_refuses_a_line_break_by_raw_sql(field: Any, rows: dict[type, models.Model]) -> None:
    table, column = field.model._meta.db_table, field.column
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('pghistory.context_id', gen_random_uuid()::text, true), "
                       "set_config('pghistory.context_metadata', '{\"username\": \"dba\"}', true)")
        for character in BROKEN:
            with pytest.raises(IntegrityError) as refused, transaction.atomic():
                cursor.execute(f'UPDATE "{table}" SET "{column}" = %s WHERE id = %s',
                               [broken_value(field, character), rows[field.model].pk])
            assert refused.value.__cause__.sqlstate == "23514", refused.value  # check_violation


@pytest.mark.property
@seed(6)
@settings(max_examples=200, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=st.text(alphabet=st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=40))
def test_the_validator_and_the_check_refuse_the_same_characters(db: None, text: str) -> None:
    """Python's rule and PostgreSQL's agree on every text (NUL and lone surrogates aside: PostgreSQL cannot hold
    them, and validate_plain_text refuses them before)."""
    try:
        validate_single_line(text)
        accepted = True
    except ValidationError:
        accepted = False
    with connection.cursor() as cursor:
        cursor.execute("SELECT NOT (%s ~ %s)", [text, NOT_ONE_LINE_SQL])
        assert cursor.fetchone()[0] == accepted, repr(text)


# --- the API: a 400 naming the field, nothing written ------------------------------------------


def _api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_api_refuses_line_breaks_in_every_one_line_field_it_writes(world: World, rows: dict) -> None:
    meeting, pledge = rows[Meeting], rows[Pledge]
    start = timezone.now() + dt.timedelta(days=3)
    secretariat, poland = _api(world.secretariat), _api(world.ministry_pl)
    new_meeting = {"coalition": world.coalition.pk, "starts_at": start.isoformat(),
                   "ends_at": (start + dt.timedelta(hours=2)).isoformat(), "title": "Working level"}
    writes = [
        (secretariat.post, "/api/v1/meetings/", {**new_meeting, "title": "X\r\nBcc: a@example"}, "title"),
        (secretariat.post, "/api/v1/meetings/", {**new_meeting, "place": "Mons\nX-Header: y"}, "place"),
        (secretariat.post, "/api/v1/meetings/", {**new_meeting, "time_zone": "Europe/\nParis"}, "time_zone"),
        (secretariat.patch, f"/api/v1/meetings/{meeting.pk}/", {"title": "A\u2028B"}, "title"),
        (secretariat.post, f"/api/v1/meetings/{meeting.pk}/invitations/",
         {"country": "FR", "head_of_delegation": "Minister\r\nBcc: x"}, "head_of_delegation"),
        (secretariat.patch, f"/api/v1/meetings/{meeting.pk}/invitations/PL/",
         {"head_of_delegation": "Minister\x85X"}, "head_of_delegation"),
        (secretariat.post, f"/api/v1/meetings/{meeting.pk}/agenda/", {"title": "Item\tone"}, "title"),
        (poland.post, "/api/v1/pledges/", {"coalition": world.coalition.pk, "category": "troops",
                                          "unit": "personnel", "quantity": 5, "location": "Lviv\r\nwest"}, "location"),
        (poland.patch, f"/api/v1/pledges/{pledge.pk}/", {"location": "Lviv\nwest"}, "location"),
        (secretariat.post, "/api/v1/conditions/", {"coalition": world.coalition.pk, "name": "US\r\nbackstop"},
         "name"),
        (secretariat.patch, f"/api/v1/conditions/{rows[Condition].pk}/", {"name": "Cease\u2028fire"}, "name"),
    ]
    written = (Meeting, Invitation, AgendaItem, Pledge, Condition)
    before = {model: list(model.objects.order_by("pk").values()) for model in written}
    for send, url, body, field in writes:
        response = send(url, body, format="json")
        assert response.status_code == 400, (url, body, response.content)
        assert field in response.json(), (url, response.json())
    assert before == {model: list(model.objects.order_by("pk").values()) for model in written}


# --- the admin: a form error on the field, for every form of every role ------------------------


def _admin_forms(request: Any, model_admin: Any, obj: Any) -> list[tuple[str, Any]]:
    """The admin's form classes this user gets for `obj` (None: the add form), the inlines' too."""
    forms: list[tuple[str, Any]] = []
    may = model_admin.has_change_permission(request, obj) if obj is not None else model_admin.has_add_permission(
        request)
    if may:
        forms.append((type(model_admin).__name__, model_admin.get_form(request, obj, change=obj is not None)))
    for inline in model_admin.get_inline_instances(request, obj):
        if inline.has_add_permission(request, obj) or inline.has_change_permission(request, obj):
            forms.append((type(inline).__name__, inline.get_formset(request, obj).form))
    return forms


def test_every_admin_form_of_every_role_refuses_line_breaks(world: World, rows: dict) -> None:
    one_line = {(field.model, field.name) for field in FIELDS}
    checked: set[str] = set()
    for role in ("admin", "secretariat", "ministry_pl", "analyst"):
        request = RequestFactory().get("/admin/")
        request.user = getattr(world, role)
        for model, model_admin in admin.site._registry.items():
            for obj in (None, rows.get(model)):
                if obj is None and rows.get(model) is None and not model_admin.has_add_permission(request):
                    continue
                for name, form_class in _admin_forms(request, model_admin, obj):
                    form_model = form_class._meta.model
                    fields = [f for f in form_class.base_fields if (form_model, f) in one_line]
                    if not fields:
                        continue
                    instance = {"instance": model.objects.get(pk=obj.pk)} if obj and form_model is model else {}
                    form = form_class(data={f: "A\r\nB" for f in fields}, **instance)  # a copy: forms change it
                    assert not form.is_valid()
                    for field in fields:
                        assert field in form.errors, (role, name, field, form.errors)
                        checked.add(f"{form_model.__name__}.{field}")
    assert {"Meeting.title", "Meeting.place", "Invitation.head_of_delegation", "AgendaItem.title", "Pledge.location",
            "Country.name", "Coalition.short_name", "Place.name", "User.first_name"} <= checked


def test_the_admin_meeting_form_shows_the_error_and_saves_nothing(world: World, client: Any) -> None:
    client.force_login(world.secretariat)
    start = timezone.localtime() + dt.timedelta(days=4)
    response = client.post("/admin/meetings/meeting/add/", {
        "coalition": world.coalition.pk, "title": "X\r\nBcc: someone@example\r\nX-Header: y", "kind": "ministerial",
        "status": "planned", "starts_at_0": start.date().isoformat(), "starts_at_1": "09:00",
        "ends_at_0": start.date().isoformat(), "ends_at_1": "12:00", "time_zone": "Europe/Brussels",
        **{f"{prefix}-{key}": value for prefix in ("invitations", "agenda_items", "briefs")
           for key, value in (("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"))},
    })
    assert response.status_code == 200
    assert "Keep this on one line" in response.content.decode()
    assert re.search(r'class="errorlist[^"]*"[^>]*id="id_title_error"', response.content.decode())
    assert not Meeting.objects.exists()


# --- the data migration: rows stored before the rule are cleaned, so the CHECK can be added -----

BEFORE = [("accounts", "0003_preferred_language"), ("places", "0003_country_code_validator"),
          ("pledges", "0018_reference_version"), ("meetings", "0012_model_names_translatable")]


@pytest.mark.django_db(transaction=True)
def test_migrating_a_database_with_line_breaks_cleans_them_and_adds_the_checks(world: World) -> None:
    start = timezone.now() + dt.timedelta(days=9)
    meeting = meeting_services.meeting_create(actor=world.secretariat, coalition=world.coalition, title="Ministers",
                                              starts_at=start, ends_at=start)
    pledge = make_pledge(country=world.pl, coalition=world.coalition)
    Country.objects.create(code="ZZ", name="Poland ")  # what "Poland\n" becomes: the migration must not collide
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute("SELECT set_config('pghistory.context_id', gen_random_uuid()::text, true), "
                       "set_config('pghistory.context_metadata', '{\"username\": \"legacy\"}', true)")
        cursor.execute("UPDATE meetings_meeting SET title = %s, place = %s WHERE id = %s",
                       ["X\r\nBcc: someone@example", "Mons\u2028", meeting.pk])
        cursor.execute("UPDATE pledges_pledge SET location = %s WHERE id = %s", ["Lviv\x85west", pledge.pk])
        cursor.execute("UPDATE pledges_country SET name = %s WHERE code = 'PL'", ["Poland\n"])
        cursor.execute("UPDATE accounts_user SET first_name = %s WHERE id = %s", ["Jan\tK", world.ministry_pl.pk])
        cursor.execute("COMMIT")
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    meeting.refresh_from_db()
    assert (meeting.title, meeting.place, meeting.version) == ("X  Bcc: someone@example", "Mons ", 2)
    assert Pledge.objects.get(pk=pledge.pk).location == "Lviv west"
    assert Country.objects.get(code="PL").name == f"Poland  ({world.pl.pk})"
    assert type(world.ministry_pl).objects.get(pk=world.ministry_pl.pk).first_name == "Jan K"
    last = apps.get_model("meetings", "MeetingEvent").objects.filter(pgh_obj_id=meeting.pk).latest("pgh_id")
    assert last.title == meeting.title and last.pgh_context.metadata["action"] == "single_line_cleanup"
    with pytest.raises(IntegrityError, match="meeting_title_single_line"), transaction.atomic(), \
            pghistory.context(username="test"):
        Meeting.objects.filter(pk=meeting.pk).update(title="A\nB")
