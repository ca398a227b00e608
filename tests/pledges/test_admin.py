"""The admin screens as ministry staff, analysts, the secretariat and administrators use them."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from pledges import services
from pledges.models import Caveat, Pledge, Requirement
from tests.conftest import World
from tests.factories import make_pledge

CHANGELIST = reverse("admin:pledges_pledge_changelist")
ADD = reverse("admin:pledges_pledge_add")
DOES_NOT_EXIST = "doesn\N{RIGHT SINGLE QUOTATION MARK}t exist"  # the admin's message for an unknown id


def change_url(pledge: Pledge) -> str:
    return reverse("admin:pledges_pledge_change", args=[pledge.pk])


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def management(total: int, initial: int) -> dict[str, Any]:
    return {"caveats-TOTAL_FORMS": total, "caveats-INITIAL_FORMS": initial,
            "caveats-MIN_NUM_FORMS": 0, "caveats-MAX_NUM_FORMS": 1000,
            # the tranches inline (on an existing pledge's page), left as it is
            "deliveries-TOTAL_FORMS": 0, "deliveries-INITIAL_FORMS": 0, "deliveries-MIN_NUM_FORMS": 0,
            "deliveries-MAX_NUM_FORMS": 1000}


def change_data(pledge: Pledge, **overrides: Any) -> dict[str, Any]:
    """The change form as the browser would post it, unchanged unless overridden; existing caveats included."""
    caveats = list(pledge.caveats.order_by("-is_active", "imposed_on", "id"))
    data: dict[str, Any] = {
        "category": pledge.category_id, "unit": pledge.unit_id, "quantity": pledge.quantity,
        "status": pledge.status, "description": pledge.description, "available_from": "",
        "available_until": "", "notice_to_move_days": "", "location": pledge.location, "place": pledge.place_id or "",
        "estimated_value_eur": "", "releasability": pledge.releasability, "seen_version": pledge.version,
        **management(len(caveats), len(caveats)),
    }
    for i, caveat in enumerate(caveats):
        data |= {f"caveats-{i}-id": caveat.pk, f"caveats-{i}-pledge": pledge.pk, f"caveats-{i}-kind": caveat.kind,
                 f"caveats-{i}-text": caveat.text, f"caveats-{i}-rationale": caveat.rationale}
    data.update(overrides)
    return data


def listed_ids(response: Any) -> set[int]:
    return {row.pk for row in response.context["cl"].result_list}


@pytest.fixture
def pledges(world: World) -> dict[str, Pledge]:
    """Poland's draft, France's draft, France's offer released to the coalition, France's secretariat-only offer."""
    return {
        "pl_draft": make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, quantity=1111,
                                description="Polish logistics hub"),
        "fr_draft": make_pledge(country=world.fr, coalition=world.coalition, category=world.troops, quantity=2222,
                                description="French secret draft"),
        "fr_released": make_pledge(country=world.fr, coalition=world.coalition, category=world.troops,
                                   quantity=3333, status="indicative", releasability="coalition",
                                   description="French brigade"),
        "fr_secretariat": make_pledge(country=world.fr, coalition=world.coalition, category=world.troops,
                                      quantity=4444, status="confirmed", description="French air wing"),
    }


# --- what each role sees ---------------------------------------------------------------------


def test_ministry_changelist_shows_own_drafts_and_others_released_offers(world: World, pledges: dict) -> None:
    response = client_for(world.ministry_pl).get(CHANGELIST)

    assert response.status_code == 200
    assert listed_ids(response) == {pledges["pl_draft"].pk, pledges["fr_released"].pk}
    html = response.content.decode()
    assert "1111" in html and "3333" in html
    assert "2222" not in html and "4444" not in html


def test_other_ministry_never_sees_polish_draft(world: World, pledges: dict) -> None:
    response = client_for(world.ministry_fr).get(CHANGELIST)

    assert pledges["pl_draft"].pk not in listed_ids(response)
    assert {pledges["fr_draft"].pk, pledges["fr_released"].pk, pledges["fr_secretariat"].pk} <= listed_ids(response)
    assert "1111" not in response.content.decode()


def test_search_by_country_code_and_description(world: World, pledges: dict) -> None:
    client = client_for(world.ministry_pl)

    assert listed_ids(client.get(CHANGELIST, {"q": "FR"})) == {pledges["fr_released"].pk}
    assert listed_ids(client.get(CHANGELIST, {"q": "logistics hub"})) == {pledges["pl_draft"].pk}
    assert listed_ids(client.get(CHANGELIST, {"status__exact": "draft"})) == {pledges["pl_draft"].pk}


def test_analyst_sees_no_drafts_and_cannot_change(world: World, pledges: dict) -> None:
    client = client_for(world.analyst)

    response = client.get(CHANGELIST)
    assert listed_ids(response) == {pledges["fr_released"].pk, pledges["fr_secretariat"].pk}
    assert "Add pledge" not in response.content.decode()

    page = client.get(change_url(pledges["fr_secretariat"]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert "French air wing" in page.content.decode()

    post = client.post(change_url(pledges["fr_secretariat"]), change_data(pledges["fr_secretariat"], quantity=1))
    assert post.status_code == 403
    assert client.get(ADD).status_code == 403
    pledges["fr_secretariat"].refresh_from_db()
    assert pledges["fr_secretariat"].quantity == 4444


def test_analyst_opening_a_draft_is_told_it_does_not_exist(world: World, pledges: dict) -> None:
    response = client_for(world.analyst).get(change_url(pledges["pl_draft"]), follow=True)

    assert DOES_NOT_EXIST in response.content.decode()
    assert "Polish logistics hub" not in response.content.decode()


# --- URL guessing ------------------------------------------------------------------------------


def test_guessing_another_countrys_draft_url_shows_nothing(world: World, pledges: dict) -> None:
    client = client_for(world.ministry_pl)
    draft = pledges["fr_draft"]

    for url in (change_url(draft), reverse("admin:pledges_pledge_history", args=[draft.pk]),
                reverse("admin:pledges_pledge_delete", args=[draft.pk])):
        response = client.get(url, follow=True)
        html = response.content.decode()
        assert DOES_NOT_EXIST in html, url
        assert "French secret draft" not in html and "2222" not in html

    client.post(change_url(draft), change_data(draft, quantity=1))
    draft.refresh_from_db()
    assert draft.quantity == 2222 and draft.version == 1


def test_guessing_a_caveat_on_another_countrys_draft(world: World, pledges: dict) -> None:
    caveat = services.caveat_add(actor=world.ministry_fr, pledge=pledges["fr_draft"], kind="condition",
                                 text="Only with a US backstop")
    response = client_for(world.ministry_pl).get(
        reverse("admin:pledges_caveat_change", args=[caveat.pk]), follow=True)

    assert DOES_NOT_EXIST in response.content.decode()
    assert "US backstop" not in response.content.decode()


def test_another_countrys_released_offer_is_read_only(world: World, pledges: dict) -> None:
    offer = pledges["fr_released"]
    services.caveat_add(actor=world.ministry_fr, pledge=offer, kind="geographic", text="West of the Dnipro only")
    client = client_for(world.ministry_pl)

    page = client.get(change_url(offer))
    html = page.content.decode()
    assert page.status_code == 200
    assert "French brigade" in html and "West of the Dnipro only" in html
    assert 'name="_save"' not in html and 'name="caveats-0-lift"' not in html

    assert client.post(change_url(offer), change_data(offer, quantity=1)).status_code == 403
    caveat = offer.caveats.get()
    caveat_page = client.get(reverse("admin:pledges_caveat_change", args=[caveat.pk]))
    assert caveat_page.status_code == 200 and 'name="_save"' not in caveat_page.content.decode()
    offer.refresh_from_db()
    assert offer.quantity == 3333


# --- adding -------------------------------------------------------------------------------------


def test_add_form_fixes_the_country_and_offers_only_member_coalitions(world: World) -> None:
    page = client_for(world.ministry_us).get(ADD)
    html = page.content.decode()

    assert page.status_code == 200
    assert "United States" in html
    assert 'name="country"' not in html
    coalition_choices = {str(c) for c in page.context["adminform"].form.fields["coalition"].queryset}
    assert coalition_choices == {"UDCG"}
    assert [value for value, _ in page.context["adminform"].form.fields["status"].choices] == ["draft", "indicative"]


def test_add_with_caveat_inline_for_own_country_only(world: World) -> None:
    client = client_for(world.ministry_pl)
    data = {
        "country": world.fr.pk,  # ignored: the country is the user's own
        "coalition": world.coalition.pk, "category": world.troops.pk, "unit": world.personnel.pk,
        "quantity": 250, "status": "indicative", "description": "Engineering company", "location": "Lviv",
        "releasability": "secretariat", **management(1, 0),
        "caveats-0-kind": "condition", "caveats-0-text": "Subject to a US backstop",
        "caveats-0-rationale": "Threat from Belarus",
    }

    response = client.post(ADD, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    pledge = Pledge.objects.get(description="Engineering company")
    assert (pledge.country, pledge.status, pledge.quantity) == (world.pl, "indicative", 250)
    caveat = pledge.caveats.get()
    assert (caveat.kind, caveat.text, caveat.country) == ("condition", "Subject to a US backstop", world.pl)
    page = client.get(change_url(pledge)).content.decode()
    assert "Subject to a US backstop" in page and "Threat from Belarus" in page


def test_add_refuses_a_coalition_the_country_is_not_in(world: World) -> None:
    data = {"coalition": world.coalition.pk, "category": world.troops.pk, "unit": world.personnel.pk,
            "quantity": 10, "status": "draft", "releasability": "secretariat", **management(0, 0)}

    response = client_for(world.ministry_us).post(ADD, data)

    assert response.status_code == 200
    assert "coalition" in response.context["adminform"].form.errors
    assert not Pledge.objects.exists()


def test_add_with_a_unit_outside_the_category_is_a_form_error_from_the_service(world: World) -> None:
    data = {"coalition": world.coalition.pk, "category": world.troops.pk, "unit": world.aircraft.pk,
            "quantity": 10, "status": "draft", "releasability": "secretariat", **management(1, 0),
            "caveats-0-kind": "role", "caveats-0-text": "Training only"}

    response = client_for(world.ministry_pl).post(ADD, data)

    assert response.status_code == 200
    assert "is not a unit of troops" in response.content.decode()
    assert not Pledge.objects.exists() and not Caveat.objects.exists()


# --- changing ----------------------------------------------------------------------------------


def test_illegal_transition_is_a_form_error_and_changes_nothing(world: World, pledges: dict) -> None:
    draft = pledges["pl_draft"]

    response = client_for(world.ministry_pl).post(change_url(draft), change_data(
        draft, status="confirmed", quantity=999, **management(1, 0),
        **{"caveats-0-kind": "other", "caveats-0-text": "Never saved"}))

    assert response.status_code == 200
    assert "A pledge cannot move from draft to confirmed" in response.content.decode()
    draft.refresh_from_db()
    assert (draft.status, draft.quantity, draft.version) == ("draft", 1111, 1)
    assert not Caveat.objects.exists()


def test_status_menu_offers_only_legal_moves(world: World, pledges: dict) -> None:
    offer = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, status="indicative")
    form = client_for(world.ministry_pl).get(change_url(offer)).context["adminform"].form

    assert [value for value, _ in form.fields["status"].widget.choices] == ["indicative", "confirmed", "withdrawn"]


@pytest.mark.django_db(transaction=True)  # history moments are transactions' moments
def test_change_and_transition_go_through_services_and_show_in_history(world: World, pledges: dict) -> None:
    client = client_for(world.ministry_pl)
    draft = pledges["pl_draft"]

    response = client.post(change_url(draft), change_data(draft, status="indicative", quantity=1200))

    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.status, draft.quantity, draft.version) == ("indicative", 1200, 3)
    history = client.get(reverse("admin:pledges_pledge_history", args=[draft.pk])).content.decode()
    assert "ministry-pl" in history
    assert "Draft &rarr; Indicative" in history
    assert "1111 &rarr; 1200" in history


@pytest.mark.django_db(transaction=True)  # history moments are transactions' moments
def test_other_countries_do_not_see_the_draft_part_of_history(world: World, pledges: dict) -> None:
    offer = pledges["fr_released"]
    services.pledge_update(actor=world.ministry_fr, pledge=offer, quantity=3400)

    history = client_for(world.ministry_pl).get(reverse("admin:pledges_pledge_history", args=[offer.pk]))

    assert "3333 &rarr; 3400" in history.content.decode()
    assert "Draft" not in history.content.decode()  # the draft snapshot is not shown to another country


def test_stale_version_is_a_form_error(world: World, pledges: dict) -> None:
    draft = pledges["pl_draft"]
    stale = change_data(draft, quantity=5)
    services.pledge_update(actor=world.ministry_pl, pledge=draft, quantity=1500)

    response = client_for(world.ministry_pl).post(change_url(draft), stale)

    assert response.status_code == 200
    assert "Someone else changed this record" in response.content.decode()
    draft.refresh_from_db()
    assert draft.quantity == 1500


@pytest.mark.django_db(transaction=True)  # history moments are transactions' moments
def test_caveat_added_and_lifted_from_the_inline(world: World, pledges: dict) -> None:
    client = client_for(world.ministry_pl)
    draft = pledges["pl_draft"]

    added = client.post(change_url(draft), change_data(draft, **management(1, 0), **{
        "caveats-0-kind": "no_deployment", "caveats-0-text": "No troops on Ukrainian soil"}))
    assert added.status_code == 302
    caveat = draft.caveats.get()
    assert caveat.is_active
    assert "No troops on Ukrainian soil" in client.get(change_url(draft)).content.decode()

    draft.refresh_from_db()
    lifted = client.post(change_url(draft), change_data(draft, **{"caveats-0-lift": "on"}))
    assert lifted.status_code == 302
    caveat.refresh_from_db()
    assert not caveat.is_active and caveat.lifted_on == timezone.localdate()
    history = client.get(reverse("admin:pledges_caveat_history", args=[caveat.pk])).content.decode()
    assert "caveat_add" in history and "caveat_lift" in history and "ministry-pl" in history
    assert "Is active</strong>: yes &rarr; no" in history


def test_lift_action_on_caveat_changelist(world: World, pledges: dict) -> None:
    own = services.caveat_add(actor=world.ministry_pl, coalition=world.coalition, kind="condition",
                              text="Only with air defence")
    other = services.caveat_add(actor=world.ministry_fr, pledge=pledges["fr_released"], kind="role",
                                text="Training only")

    client_for(world.ministry_pl).post(reverse("admin:pledges_caveat_changelist"), {
        "action": "lift_selected", "_selected_action": [own.pk, other.pk]})

    own.refresh_from_db()
    other.refresh_from_db()
    assert not own.is_active and other.is_active


def test_only_drafts_are_deleted(world: World, pledges: dict) -> None:
    offer = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, status="indicative")
    client = client_for(world.ministry_pl)

    assert client.post(reverse("admin:pledges_pledge_delete", args=[offer.pk]), {"post": "yes"}).status_code == 403
    response = client.post(reverse("admin:pledges_pledge_delete", args=[pledges["pl_draft"].pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Pledge.objects.filter(pk=pledges["pl_draft"].pk).exists()
    assert Pledge.objects.filter(pk=offer.pk).exists()


# --- query counts ----------------------------------------------------------------------------


def _changelist_queries(user: Any) -> int:
    client = client_for(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(CHANGELIST)
    assert response.status_code == 200
    return len(queries)


def test_changelist_query_count_is_constant(world: World, django_assert_max_num_queries: Any) -> None:
    for i in range(5):
        make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, quantity=10 + i)
    with_five = _changelist_queries(world.ministry_pl)
    for i in range(45):
        make_pledge(country=world.fr if i % 2 else world.pl, coalition=world.coalition, category=world.troops,
                    quantity=100 + i, status="indicative", releasability="coalition")
    with_fifty = _changelist_queries(world.ministry_pl)

    assert with_five == with_fifty
    client = client_for(world.ministry_pl)
    with django_assert_max_num_queries(12):
        assert len(listed_ids(client.get(CHANGELIST))) == 50


# --- requirements, reference data and users ---------------------------------------------------


def test_secretariat_sets_requirements_through_the_service(world: World) -> None:
    add = reverse("admin:pledges_requirement_add")
    data = {"coalition": world.coalition.pk, "category": world.troops.pk, "unit": world.personnel.pk,
            "quantity": 5000}

    assert client_for(world.ministry_pl).post(add, data).status_code == 403
    assert client_for(world.secretariat).post(add, data).status_code == 302
    requirement = Requirement.objects.get()
    assert requirement.quantity == 5000

    wrong_unit = client_for(world.secretariat).post(add, data | {"unit": world.aircraft.pk})
    assert wrong_unit.status_code == 200
    assert "is not a unit of troops" in wrong_unit.content.decode()

    change = reverse("admin:pledges_requirement_change", args=[requirement.pk])
    assert client_for(world.secretariat).post(change, {"quantity": 6000, "seen_version": 1}).status_code == 302
    requirement.refresh_from_db()
    assert (requirement.quantity, requirement.version) == (6000, 2)


def test_reference_data_and_users_are_for_administrators(world: World) -> None:
    ministry, admin_ = client_for(world.ministry_pl), client_for(world.admin)

    assert ministry.get(reverse("admin:pledges_country_changelist")).status_code == 200
    assert ministry.get(reverse("admin:pledges_country_add")).status_code == 403
    assert ministry.get(reverse("admin:accounts_user_changelist")).status_code == 403
    assert "Users" not in ministry.get(reverse("admin:index")).content.decode()

    assert admin_.get(reverse("admin:accounts_user_changelist")).status_code == 200
    assert admin_.get(reverse("admin:pledges_coalition_change", args=[world.coalition.pk])).status_code == 200
    response = admin_.post(reverse("admin:pledges_country_add"), {"code": "DK", "name": "Denmark"})
    assert response.status_code == 302


def test_membership_with_pledges_cannot_be_removed(world: World, pledges: dict) -> None:
    url = reverse("admin:pledges_coalition_change", args=[world.coalition.pk])
    memberships = list(world.coalition.memberships.order_by("country__name", "id"))
    data: dict[str, Any] = {"name": world.coalition.name, "short_name": world.coalition.short_name,
                            "description": "", "memberships-TOTAL_FORMS": len(memberships),
                            "memberships-INITIAL_FORMS": len(memberships), "memberships-MIN_NUM_FORMS": 0,
                            "memberships-MAX_NUM_FORMS": 1000}
    for i, membership in enumerate(memberships):
        data |= {f"memberships-{i}-id": membership.pk, f"memberships-{i}-coalition": world.coalition.pk,
                 f"memberships-{i}-country": membership.country_id, f"memberships-{i}-joined_on": ""}
        if membership.country == world.pl:
            data[f"memberships-{i}-DELETE"] = "on"

    response = client_for(world.admin).post(url, data)

    assert response.status_code == 200
    assert "Poland has pledges or caveats in this coalition" in response.content.decode()
    assert world.coalition.memberships.filter(country=world.pl).exists()


def test_country_wide_caveat_added_from_the_caveat_admin(world: World, pledges: dict) -> None:
    client = client_for(world.ministry_pl)
    add = reverse("admin:pledges_caveat_add")
    data = {"coalition": world.coalition.pk, "pledge": "", "kind": "no_deployment",
            "text": "No troops on Ukrainian soil", "rationale": "Threat from Belarus", "releasability": "coalition"}

    assert client.post(add, data).status_code == 302
    caveat = Caveat.objects.get()
    assert (caveat.country, caveat.pledge, caveat.coalition) == (world.pl, None, world.coalition)

    other_coalition = client.post(add, data | {"pledge": pledges["pl_draft"].pk,
                                               "coalition": world.other_coalition.pk})
    assert other_coalition.status_code == 200
    assert "The chosen pledge is to CotW" in other_coalition.content.decode()
    assert client_for(world.ministry_fr).get(reverse("admin:pledges_caveat_changelist")).status_code == 200
    seen_by_fr = client_for(world.ministry_fr).get(reverse("admin:pledges_caveat_changelist"))
    assert "No troops on Ukrainian soil" in seen_by_fr.content.decode()  # released to the coalition


def tranche_form(pledge: Pledge, **fields: Any) -> dict[str, Any]:
    data = change_data(pledge)
    data.update({"deliveries-TOTAL_FORMS": 1, "deliveries-INITIAL_FORMS": 0,
                 **{f"deliveries-0-{name}": value for name, value in fields.items()}})
    return data


def test_tranches_are_planned_and_recorded_on_the_pledges_page(world: World) -> None:
    from pledges.history import delivery_versions
    from pledges.models import Delivery

    offer = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, quantity=10,
                        status="confirmed")
    client = client_for(world.ministry_pl)
    page = client.get(change_url(offer)).content.decode()
    assert "Tranches (what was planned and what arrived)" in page
    added = client.post(change_url(offer), tranche_form(offer, quantity=4, planned_on="2025-05-01",
                                                       delivered_on="2025-05-03", note="First half"))
    assert added.status_code == 302, added.content.decode()[-3000:]
    tranche = Delivery.objects.get()
    assert (tranche.quantity, tranche.delivered_on.isoformat()) == (4, "2025-05-03")
    [version] = delivery_versions(user=world.ministry_pl, delivery_id=tranche.pk)
    assert version.row.pgh_context.metadata["username"] == "ministry-pl"

    offer.refresh_from_db()
    too_much = client.post(change_url(offer), tranche_form(offer, quantity=7, planned_on="2025-06-01"))
    assert too_much.status_code == 200 and "can be at most 6" in too_much.content.decode()
    assert Delivery.objects.count() == 1
    # Others see the tranche, read-only.
    seen = client_for(world.analyst).get(change_url(offer)).content.decode()
    assert "delivered 03 May 2025" in seen and 'name="deliveries-0-quantity"' not in seen


def test_stale_and_overdue_columns_filters_and_the_reconfirm_action(world: World) -> None:
    import datetime as dt

    from utilities.versioning import SystemActor

    stale = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, status="indicative")
    services.pledge_reconfirm(actor=SystemActor("test"), system=True, pledge=stale,
                              at=timezone.now() - dt.timedelta(days=365))
    current = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, status="indicative")
    client = client_for(world.ministry_pl)
    listed = client.get(CHANGELIST, {"stale": "yes"})
    assert listed_ids(listed) == {stale.pk}
    assert listed_ids(client.get(CHANGELIST, {"stale": "no"})) >= {current.pk}
    done = client.post(CHANGELIST, {"action": "reconfirm_selected", "_selected_action": [stale.pk]}, follow=True)
    assert "Reconfirmed 1 pledge(s)." in done.content.decode()
    assert listed_ids(client.get(CHANGELIST, {"stale": "yes"})) == set()
    # The action is ministry staff's only.
    assert "reconfirm_selected" not in client_for(world.analyst).get(CHANGELIST).content.decode()
