"""The spreadsheet round trip through the API: template, preview (nothing changes), apply (all or nothing)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from imports.models import Import
from pledges import services
from pledges.history import CaveatEvent, PledgeEvent
from pledges.models import Caveat, Pledge
from tests.conftest import World
from tests.factories import make_pledge
from tests.http import content_of
from tests.imports.helpers import edited, sheet_rows, workbook

HEADER = ["id", "version", "country", "category", "unit", "quantity", "status", "releasability", "description",
          "location", "place", "available_from", "available_until", "notice_to_move_days", "estimated_value_eur",
          "caveats"]


@pytest.fixture
def pledges(world: World) -> dict[str, Pledge]:
    return {
        "pl_troops": make_pledge(country=world.pl, coalition=world.coalition, category=world.troops,
                                 unit=world.personnel, quantity=1200, status="confirmed", description="Logistics"),
        "pl_draft": make_pledge(country=world.pl, coalition=world.coalition, category=world.air,
                                unit=world.aircraft, quantity=4, description="Helicopters"),
        "fr_troops": make_pledge(country=world.fr, coalition=world.coalition, category=world.troops,
                                 unit=world.personnel, quantity=800, status="indicative", description="Battlegroup"),
    }


def upload(client: APIClient, coalition_id: int, data: bytes, name: str = "pledges.xlsx") -> Any:
    return client.post("/api/v1/imports/", {"file": SimpleUploadedFile(name, data), "coalition": coalition_id},
                       format="multipart")


def state() -> tuple[Any, ...]:
    """Everything an import could change: pledges, caveats and their history."""
    return (sorted(Pledge.objects.values_list("id", "quantity", "status", "version", "description")),
            Caveat.objects.count(), PledgeEvent.objects.count(), CaveatEvent.objects.count())


def test_the_template_holds_the_countrys_pledges_with_drop_downs(world: World, pledges: dict[str, Pledge],
                                                                  client_for: Callable[[str], APIClient]) -> None:
    response = client_for("ministry_pl").get(f"/api/v1/coalitions/{world.coalition.pk}/template.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = sheet_rows(response.content)
    assert [(r["id"], r["version"], r["quantity"], r["status"]) for r in rows] == [
        (pledges["pl_troops"].pk, pledges["pl_troops"].version, 1200, "confirmed"),
        (pledges["pl_draft"].pk, 1, 4, "draft")]
    assert list(rows[0]) == HEADER
    from openpyxl import load_workbook
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Pledges", "How to fill it in", "Lists"]
    rules = book["Pledges"].data_validations.dataValidation
    validated = {str(rule.sqref).split(":")[0][0]: rule.formula1 for rule in rules}
    assert set(validated) == {"D", "E", "G", "H"}  # category, unit, status, releasability
    assert "quantity" in [row[0] for row in book["How to fill it in"].iter_rows(values_only=True)]


@pytest.mark.parametrize(("role", "expected"), [("analyst", 403), ("secretariat", 403), ("ministry_us", 404),
                                                ("anonymous", 401)])
def test_the_template_is_for_the_countrys_own_staff(world: World, pledges: dict[str, Pledge],
                                                    client_for: Callable[[str], APIClient], role: str,
                                                    expected: int) -> None:
    assert client_for(role).get(f"/api/v1/coalitions/{world.coalition.pk}/template.xlsx").status_code == expected


def test_preview_changes_nothing_and_apply_writes_every_row_once(
        world: World, pledges: dict[str, Pledge], client_for: Callable[[str], APIClient]) -> None:
    pl = client_for("ministry_pl")
    template = pl.get(f"/api/v1/coalitions/{world.coalition.pk}/template.xlsx").content
    troops = pledges["pl_troops"]
    data = edited(template, change={troops.pk: {"quantity": 1500, "caveats": "condition: Only with a ceasefire."}},
                  add=[{"category": "air", "unit": "aircraft", "quantity": 6, "status": "indicative",
                        "releasability": "coalition", "description": "Air policing", "available_from": "2026-05-01",
                        "caveats": "geographic: Polish airspace only.\nrole: Air policing only."}])
    before = state()
    response = upload(pl, world.coalition.pk, data)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "previewed"
    assert [(r["row"], r["action"]) for r in body["rows"]] == [(2, "update"), (3, "unchanged"), (4, "create")]
    assert body["rows"][0]["changes"]["quantity"] == {"before": 1200, "after": 1500}
    assert body["rows"][0]["changes"]["caveats"]["after"] == ["condition: Only with a ceasefire."]
    assert body["summary"] == {"create": 1, "update": 1, "unchanged": 1, "error": 0}
    assert state() == before  # nothing changed by the preview

    applied = pl.post(f"/api/v1/imports/{body['id']}/apply/")
    assert applied.status_code == 200, applied.content
    assert applied.json()["status"] == "applied"
    troops.refresh_from_db()
    assert troops.quantity == 1500 and troops.caveats.get().text == "Only with a ceasefire."
    new = Pledge.objects.get(description="Air policing")
    assert (new.country, new.status, new.releasability, str(new.available_from)) == (
        world.pl, "indicative", "coalition", "2026-05-01")
    assert sorted(new.caveats.values_list("kind", flat=True)) == ["geographic", "role"]
    assert applied.json()["rows"][2]["pledge"] == new.pk
    # The history names the user and the import.
    event = PledgeEvent.objects.filter(pgh_obj_id=troops.pk).select_related("pgh_context").latest("pgh_id")
    metadata = event.pgh_context.metadata
    assert (metadata["username"], metadata["import_id"], metadata["import_file"]) == (
        "ministry-pl", body["id"], "pledges.xlsx")

    after = state()
    again = pl.post(f"/api/v1/imports/{body['id']}/apply/")
    assert again.status_code == 200 and again.json()["status"] == "applied" and state() == after
    same_file = upload(pl, world.coalition.pk, data)
    assert same_file.status_code == 400 and "applied already" in same_file.json()["file"][0]
    assert state() == after


def test_a_pledge_changed_since_the_template_is_an_error_not_an_overwrite(
        world: World, pledges: dict[str, Pledge], client_for: Callable[[str], APIClient]) -> None:
    pl = client_for("ministry_pl")
    template = pl.get(f"/api/v1/coalitions/{world.coalition.pk}/template.xlsx").content
    troops = pledges["pl_troops"]
    services.pledge_update(actor=world.ministry_pl, pledge=troops, quantity=1300)  # a colleague, meanwhile
    response = upload(pl, world.coalition.pk, edited(template, change={troops.pk: {"quantity": 2000}}))
    row = response.json()["rows"][0]
    assert row["action"] == "error" and "changed since this file was made" in row["errors"]["version"][0]
    before = state()
    refused = pl.post(f"/api/v1/imports/{response.json()['id']}/apply/")
    assert refused.status_code == 400 and state() == before
    troops.refresh_from_db()
    assert troops.quantity == 1300


def test_a_change_between_preview_and_apply_applies_nothing(
        world: World, pledges: dict[str, Pledge], client_for: Callable[[str], APIClient]) -> None:
    pl = client_for("ministry_pl")
    template = pl.get(f"/api/v1/coalitions/{world.coalition.pk}/template.xlsx").content
    troops = pledges["pl_troops"]
    data = edited(template, change={troops.pk: {"quantity": 2000}},
                  add=[{"category": "troops", "unit": "personnel", "quantity": 50, "status": "draft"}])
    preview = upload(pl, world.coalition.pk, data).json()
    assert preview["summary"]["error"] == 0
    services.pledge_update(actor=world.ministry_pl, pledge=troops, quantity=1300)
    before = state()
    refused = pl.post(f"/api/v1/imports/{preview['id']}/apply/")
    assert refused.status_code == 400
    assert refused.json()["rows"][0]["row"] == 2 and "version" in refused.json()["rows"][0]["errors"]
    assert state() == before  # the new row (3) was not written either


@pytest.mark.parametrize(("row", "field", "message"), [
    ({"country": "FR"}, "country", "rows for another country are refused"),
    ({"unit": "aircraft"}, "unit", "'aircraft' is not a unit of"),
    ({"quantity": 0}, "quantity", "must be 1 or more"),
    ({"quantity": "many"}, "quantity", "not a whole number"),
    ({"status": "confirmed"}, "status", "A new pledge starts as draft or indicative"),
    ({"status": "promised"}, "status", "is not a status"),
    ({"category": "cavalry"}, "category", "is not a capability category"),
    ({"available_from": "03/04/2026"}, "available_from", "could be read day-month or month-day"),
    ({"available_from": "next spring"}, "available_from", "is not a date"),
    ({"available_from": "2026-05-01", "available_until": "2026-04-01"}, "available_until", ""),
    ({"releasability": "public"}, "releasability", "is not one of"),
    ({"caveats": "maybe: later"}, "caveats", "is not 'kind: text'"),
    ({"description": "x" * 20_000}, "description", ""),
])
def test_a_bad_row_is_an_error_naming_its_field(world: World, pledges: dict[str, Pledge],
                                                client_for: Callable[[str], APIClient], row: dict[str, Any],
                                                field: str, message: str) -> None:
    values = {"country": "PL", "category": "troops", "unit": "personnel", "quantity": 10, "status": "draft", **row}
    data = workbook([HEADER, [values.get(name) for name in HEADER]])
    before = state()
    response = upload(client_for("ministry_pl"), world.coalition.pk, data)
    assert response.status_code == 201, response.content
    result = response.json()["rows"][0]
    assert result["action"] == "error" and field in result["errors"], result
    assert message in " ".join(result["errors"][field])
    assert state() == before
    assert client_for("ministry_pl").post(f"/api/v1/imports/{response.json()['id']}/apply/").status_code == 400
    assert state() == before


def test_status_moves_are_checked_as_anywhere_else(world: World, pledges: dict[str, Pledge],
                                                   client_for: Callable[[str], APIClient]) -> None:
    pl = client_for("ministry_pl")
    template = pl.get(f"/api/v1/coalitions/{world.coalition.pk}/template.xlsx").content
    draft, troops = pledges["pl_draft"], pledges["pl_troops"]
    rows = upload(pl, world.coalition.pk, edited(template, change={
        draft.pk: {"status": "deployed"}, troops.pk: {"status": "deployed"}})).json()["rows"]
    assert rows[0]["action"] == "update" and rows[0]["changes"]["status"] == {"before": "confirmed",
                                                                              "after": "deployed"}
    assert rows[1]["action"] == "error" and "status" in rows[1]["errors"]


def test_another_countrys_pledge_id_is_refused(world: World, pledges: dict[str, Pledge],
                                               client_for: Callable[[str], APIClient]) -> None:
    fr = pledges["fr_troops"]
    data = workbook([HEADER, [fr.pk, fr.version, "PL", "troops", "personnel", 1, "indicative"]])
    result = upload(client_for("ministry_pl"), world.coalition.pk, data).json()["rows"][0]
    assert result["action"] == "error" and "not one of your country's pledges" in result["errors"]["id"][0]


@pytest.mark.parametrize(("name", "data", "message"), [
    ("pledges.xlsx", b"", "The submitted file is empty."),
    ("pledges.xlsx", b"id,quantity\n1,2\n", "not an Excel workbook"),
    ("pledges.xlsm", b"PK\x03\x04", "macros"),
    ("pledges.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "password-protected"),
    ("pledges.ods", b"anything", "Upload an Excel workbook (.xlsx) or a CSV file"),
    ("pledges.xlsx", workbook([["id", "amount", "status"], [None, 3, "draft"]]), "unknown column(s) 'amount'"),
    ("pledges.xlsx", workbook([HEADER, [None, None, "PL", "troops", "personnel", 5, "draft"]], merge="I2:J2"),
     "merged cells (I2:J2)"),
    ("pledges.xlsx", workbook([HEADER]), "has no pledge rows"),
    ("pledges.csv", "id;quantity\n".encode("utf-16"), "not UTF-8"),
    ("pledges.xlsx", workbook([HEADER] + [[None, None, "PL", "troops", "personnel", 5, "draft"]] * 5001),
     "more than 5,000 pledge rows"),
])
def test_a_bad_file_is_a_400_a_desk_officer_understands(world: World, pledges: dict[str, Pledge],
                                                        client_for: Callable[[str], APIClient], name: str,
                                                        data: bytes, message: str) -> None:
    before = state()
    response = upload(client_for("ministry_pl"), world.coalition.pk, data, name)
    assert response.status_code == 400, response.content
    assert message in response.json()["file"][0]
    assert state() == before and not Import.objects.exists()


def test_a_formula_is_never_run(world: World, pledges: dict[str, Pledge],
                                client_for: Callable[[str], APIClient]) -> None:
    data = workbook([HEADER, [None, None, "PL", "troops", "personnel", "=2*600", "draft", None, "=HYPERLINK(1)"]])
    result = upload(client_for("ministry_pl"), world.coalition.pk, data).json()["rows"][0]
    assert result["action"] == "error"
    assert "a formula with no saved value" in result["errors"]["quantity"][0]


def test_a_file_over_five_megabytes_is_refused(world: World, client_for: Callable[[str], APIClient]) -> None:
    response = upload(client_for("ministry_pl"), world.coalition.pk, b"x" * (5 * 1024 * 1024 + 1), "big.csv")
    assert response.status_code == 400 and "at most 5 MB" in response.json()["file"][0]


def test_the_csv_export_imports_as_it_is(world: World, pledges: dict[str, Pledge],
                                         client_for: Callable[[str], APIClient]) -> None:
    pl = client_for("ministry_pl")
    csv = pl.get("/api/v1/pledges/", {"country": "PL", "coalition": world.coalition.pk, "format": "csv"})
    assert csv.status_code == 200
    response = upload(pl, world.coalition.pk, content_of(csv), "export.csv")
    assert response.status_code == 201, response.content
    assert [r["action"] for r in response.json()["rows"]] == ["unchanged", "unchanged"]
    changed = content_of(csv).decode().replace(",1200,", ",1250,")
    rows = upload(pl, world.coalition.pk, changed.encode(), "export.csv").json()["rows"]
    assert [r["action"] for r in rows] == ["update", "unchanged"]


def test_other_roles_cannot_import_and_imports_are_the_countrys_own(
        world: World, pledges: dict[str, Pledge], client_for: Callable[[str], APIClient]) -> None:
    data = workbook([HEADER, [None, None, "PL", "troops", "personnel", 5, "draft"]])
    assert upload(client_for("secretariat"), world.coalition.pk, data).status_code == 403
    assert upload(client_for("analyst"), world.coalition.pk, data).status_code == 403
    preview = upload(client_for("ministry_pl"), world.coalition.pk, data).json()
    assert client_for("ministry_fr").get(f"/api/v1/imports/{preview['id']}/").status_code == 404
    assert client_for("ministry_fr").post(f"/api/v1/imports/{preview['id']}/apply/").status_code == 404
    assert client_for("ministry_pl").get("/api/v1/imports/").json()["results"][0]["id"] == preview["id"]
    assert upload(client_for("ministry_us"), world.coalition.pk, data).status_code == 400  # not its coalition


@pytest.mark.django_db(transaction=True)
def test_an_applied_import_is_in_the_changes_feed(world: World, pledges: dict[str, Pledge],
                                                  client_for: Callable[[str], APIClient]) -> None:
    from django.utils import timezone

    since = timezone.now()
    pl = client_for("ministry_pl")
    data = workbook([HEADER, [None, None, "PL", "troops", "personnel", 75, "indicative", "coalition"]])
    preview = upload(pl, world.coalition.pk, data).json()
    assert pl.post(f"/api/v1/imports/{preview['id']}/apply/").status_code == 200
    changes = client_for("analyst").get("/api/v1/pledges/changes/", {"since": since.isoformat()}).json()
    assert [(c["kind"], c["quantity_after"]) for c in changes["pledges"]] == [("new", 75)]


def test_a_csv_row_with_a_control_character_is_an_error(world: World, pledges: dict[str, Pledge],
                                                         client_for: Callable[[str], APIClient]) -> None:
    data = b"category,unit,quantity,status,description\ntroops,personnel,5,draft,bell \x07 ringing\n"
    result = upload(client_for("ministry_pl"), world.coalition.pk, data, "pledges.csv").json()["rows"][0]
    assert result["action"] == "error" and "description" in result["errors"]


def test_a_european_csv_with_semicolons_reads(world: World, pledges: dict[str, Pledge],
                                              client_for: Callable[[str], APIClient]) -> None:
    data = b"category;unit;quantity;status;available_from\ntroops;personnel;1 200;draft;2026-06-01\n"
    result = upload(client_for("ministry_pl"), world.coalition.pk, data, "pledges.csv").json()["rows"][0]
    assert result["action"] == "create", result


@pytest.mark.usefixtures("gazetteer")
def test_a_place_goes_round_the_spreadsheet_by_its_geonames_id(world: World, pledges: dict[str, Pledge],
                                                                client_for: Callable[[str], APIClient]) -> None:
    world.coalition.theatre = ["UA", "PL"]
    world.coalition.save()
    pl = client_for("ministry_pl")
    troops = pledges["pl_troops"]
    template = pl.get(f"/api/v1/coalitions/{world.coalition.pk}/template.xlsx").content
    assert {r["id"]: r["place"] for r in sheet_rows(template)}[troops.pk] is None
    data = edited(template, change={troops.pk: {"place": 703448}},
                  add=[{"category": "troops", "unit": "personnel", "quantity": 10, "status": "draft",
                        "place": "759734"},
                       {"category": "troops", "unit": "personnel", "quantity": 11, "status": "draft",
                        "place": 999999999},
                       {"category": "troops", "unit": "personnel", "quantity": 12, "status": "draft",
                        "place": 2988507},
                       {"category": "troops", "unit": "personnel", "quantity": 13, "status": "draft",
                        "place": "Kyiv"}])
    body = upload(pl, world.coalition.pk, data).json()
    rows = {r["row"]: r for r in body["rows"]}
    assert rows[2]["changes"]["place"] == {"before": None, "after": 703448}
    assert rows[4]["action"] == "create"
    assert rows[5]["errors"]["place"] == ["no place has the GeoNames id 999999999."]
    assert "outside the theatre" in rows[6]["errors"]["place"][0]
    assert rows[7]["errors"]["place"] == ["'Kyiv' is not a whole number."]
    assert pl.post(f"/api/v1/imports/{body['id']}/apply/").status_code == 400  # errors: nothing applied
    troops.refresh_from_db()
    assert troops.place_id is None
    fixed = edited(template, change={troops.pk: {"place": 703448}})
    applied = pl.post(f"/api/v1/imports/{upload(pl, world.coalition.pk, fixed).json()['id']}/apply/")
    assert applied.status_code == 200, applied.content
    troops.refresh_from_db()
    assert troops.place_id == 703448
    again = pl.get(f"/api/v1/coalitions/{world.coalition.pk}/template.xlsx").content
    assert {r["id"]: r["place"] for r in sheet_rows(again)}[troops.pk] == 703448
