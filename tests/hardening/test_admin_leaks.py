"""The admin shows no one a draft they may not see, through any screen, raw history included; and its
"view on site" shortcut answers alike for hidden, missing and visible objects."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse

from pledges import services
from pledges.history import CaveatEvent, PledgeEvent, RequirementEvent
from pledges.models import Pledge
from tests.conftest import World
from tests.factories import make_pledge

pytestmark = pytest.mark.django_db

DRAFT_MARK = "DRAFT-ONLY-MARK"


def logged_in(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def test_no_history_event_model_has_an_admin_screen() -> None:
    event_models = {PledgeEvent, CaveatEvent, RequirementEvent}
    registered = set(admin.site._registry)
    assert not registered & event_models
    assert not [model for model in registered if model._meta.app_label == "pghistory"]


@pytest.mark.parametrize("role", ["admin", "secretariat", "analyst", "ministry_fr"])
def test_no_admin_screen_shows_a_draft_to_anyone_but_its_country(world: World, role: str) -> None:
    draft = make_pledge(country=world.pl, coalition=world.coalition, description=f"{DRAFT_MARK} pledge")
    services.caveat_add(actor=world.ministry_pl, pledge=draft, kind="role", text=f"{DRAFT_MARK} caveat",
                        releasability="coalition")
    client = logged_in(getattr(world, role))
    assert client.get("/admin/pghistory/events/").status_code == 404
    for model, model_admin in admin.site._registry.items():
        if not model_admin.has_module_permission(_request(client, getattr(world, role))):
            continue
        meta = model._meta
        page = client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        assert DRAFT_MARK not in page.content.decode(), (role, meta.label)
        for pk in model.objects.values_list("pk", flat=True)[:50]:
            for view in ("change", "history"):
                url = reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=[pk])
                assert DRAFT_MARK not in client.get(url).content.decode(), (role, url)
    # the owner does see them
    assert DRAFT_MARK in logged_in(world.ministry_pl).get(
        reverse("admin:pledges_pledge_change", args=[draft.pk])).content.decode()


def _request(client: Client, user: object) -> object:
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = user  # type: ignore[attr-defined]
    return request


def test_view_on_site_answers_alike_for_hidden_missing_and_visible(world: World, settings: object) -> None:
    settings.DEBUG = True  # type: ignore[attr-defined]  # the technical 404 page shows the exception's message
    hidden = make_pledge(country=world.fr, coalition=world.coalition)  # FR's draft
    visible = make_pledge(country=world.pl, coalition=world.coalition)
    missing = Pledge.objects.order_by("-pk").first().pk + 1000  # type: ignore[union-attr]
    pledge_type = ContentType.objects.get_for_model(Pledge).pk
    client = logged_in(world.ministry_pl)

    def answer(pk: int) -> tuple[int, str]:
        response = client.get(f"/admin/r/{pledge_type}/{pk}/")
        return response.status_code, re.sub(rf"\b{pk}\b", "ID", response.content.decode())

    assert answer(hidden.pk) == answer(missing) == answer(visible.pk)
    assert answer(hidden.pk)[0] == 404
    # The admin's other object URLs answer a hidden object as a missing one too.
    for view in ("change", "history", "delete"):
        def redirect(pk: int, view: str = view) -> tuple[int, str]:
            response = client.get(reverse(f"admin:pledges_pledge_{view}", args=[pk]))
            return response.status_code, response.get("Location", "")
        assert redirect(hidden.pk) == redirect(missing), view
