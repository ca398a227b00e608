"""The same round trip in the admin: upload, preview, apply; only the country's own staff."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from imports.models import Import
from pledges.models import Pledge
from tests.conftest import World
from tests.factories import make_pledge
from tests.imports.helpers import edited, workbook
from tests.imports.test_api import HEADER


def signed_in(user: object) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_upload_preview_and_apply_in_the_admin(world: World) -> None:
    troops = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, unit=world.personnel,
                         quantity=1200, status="confirmed")
    client = signed_in(world.ministry_pl)
    changelist = client.get("/admin/pledges/pledge/").content.decode()
    assert 'href="/admin/imports/import/upload/">Import from a spreadsheet' in changelist
    upload_page = client.get("/admin/imports/import/upload/").content.decode()
    template_url = f"/api/v1/coalitions/{world.coalition.pk}/template.xlsx"
    assert template_url in upload_page
    template = client.get(template_url).content
    data = edited(template, change={troops.pk: {"quantity": 1400}},
                  add=[{"category": "troops", "unit": "personnel", "quantity": 30, "status": "draft"}])
    response = client.post("/admin/imports/import/upload/", {
        "coalition": world.coalition.pk, "file": SimpleUploadedFile("ours.xlsx", data)})
    imported = Import.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/admin/imports/import/{imported.pk}/preview/"
    preview = re.sub(r"\s+", " ", client.get(response["Location"]).content.decode())
    assert "<strong>1</strong> to create" in preview and "<strong>1</strong> to change" in preview
    assert "quantity: 1200 → 1400" in preview and "Apply every row" in preview
    troops.refresh_from_db()
    assert troops.quantity == 1200  # the preview changed nothing

    applied = client.post(f"/admin/imports/import/{imported.pk}/apply/", follow=True)
    assert "Applied: 1 pledge(s) created, 1 changed, 0 unchanged." in applied.content.decode()
    troops.refresh_from_db()
    assert troops.quantity == 1400 and Pledge.objects.filter(quantity=30, country=world.pl).exists()


def test_a_bad_file_is_a_form_error_in_the_admin(world: World) -> None:
    client = signed_in(world.ministry_pl)
    response = client.post("/admin/imports/import/upload/", {
        "coalition": world.coalition.pk, "file": SimpleUploadedFile("notes.xlsx", b"plain text, not a workbook")})
    assert response.status_code == 200
    assert "not an Excel workbook" in response.content.decode() and not Import.objects.exists()


def test_rows_with_errors_offer_no_apply_button(world: World) -> None:
    client = signed_in(world.ministry_pl)
    data = workbook([HEADER, [None, None, "FR", "troops", "personnel", 5, "draft"]])
    client.post("/admin/imports/import/upload/", {"coalition": world.coalition.pk,
                                                  "file": SimpleUploadedFile("x.xlsx", data)})
    page = client.get(f"/admin/imports/import/{Import.objects.get().pk}/preview/").content.decode()
    assert "rows for another country are refused" in page and "Apply every row" not in page


@pytest.mark.parametrize("role", ["analyst", "secretariat", "ministry_fr"])
def test_others_cannot_upload_nor_see_an_import(world: World, role: str) -> None:
    data = workbook([HEADER, [None, None, "PL", "troops", "personnel", 5, "draft"]])
    signed_in(world.ministry_pl).post("/admin/imports/import/upload/", {
        "coalition": world.coalition.pk, "file": SimpleUploadedFile("x.xlsx", data)})
    imported = Import.objects.get()
    client = signed_in(getattr(world, role))
    assert client.get(f"/admin/imports/import/{imported.pk}/preview/").status_code in (403, 404)
    assert client.post(f"/admin/imports/import/{imported.pk}/apply/").status_code in (403, 404)
    if role != "ministry_fr":
        assert client.get("/admin/imports/import/upload/").status_code == 403
