"""The one visibility rule, for each role: who sees which pledges and caveats."""

from __future__ import annotations

import pytest

from pledges import services
from pledges.models import Pledge
from pledges.selectors import pledge_list
from pledges.visibility import caveats_editable_by, caveats_visible_to, pledges_editable_by, pledges_visible_to
from tests.conftest import World
from tests.factories import UserFactory, make_pledge


@pytest.fixture
def pledges(world: World) -> dict[str, Pledge]:
    """PL and FR each with a draft, a secretariat-only offer and a coalition-releasable offer; US in UDCG."""
    made = {}
    for code, country in (("pl", world.pl), ("fr", world.fr)):
        made[f"{code}_draft"] = make_pledge(country=country, coalition=world.coalition, status="draft",
                                            releasability="coalition")
        made[f"{code}_secret"] = make_pledge(country=country, coalition=world.coalition, status="confirmed")
        made[f"{code}_released"] = make_pledge(country=country, coalition=world.coalition, status="indicative",
                                               releasability="coalition")
    made["us_released_other"] = make_pledge(country=world.us, coalition=world.other_coalition,
                                            status="indicative", releasability="coalition")
    return made


def names(queryset: object, pledges: dict[str, Pledge]) -> set[str]:
    ids = {p.id for p in queryset}  # type: ignore[attr-defined]  # .id: history rows have their own pk
    return {name for name, pledge in pledges.items() if pledge.pk in ids}


def test_ministry_sees_own_drafts_and_others_released_offers(world: World, pledges: dict[str, Pledge]) -> None:
    # PL and FR are both in the contact group too, where the US released its offer
    assert names(pledges_visible_to(world.ministry_pl), pledges) == {
        "pl_draft", "pl_secret", "pl_released", "fr_released", "us_released_other"
    }
    assert names(pledges_visible_to(world.ministry_fr), pledges) == {
        "fr_draft", "fr_secret", "fr_released", "pl_released", "us_released_other"
    }


def test_ministry_sees_released_offers_only_in_its_coalitions(world: World, pledges: dict[str, Pledge]) -> None:
    # US is only in the contact group: it sees nothing of the coalition of the willing, however released
    assert names(pledges_visible_to(world.ministry_us), pledges) == {"us_released_other"}
    pl_other = make_pledge(country=world.pl, coalition=world.other_coalition, status="draft")
    assert pl_other.pk not in {p.pk for p in pledges_visible_to(world.ministry_us)}


@pytest.mark.parametrize("role", ["analyst", "secretariat", "admin"])
def test_analysts_secretariat_and_admins_see_every_offer_never_a_draft(
    world: World, pledges: dict[str, Pledge], role: str
) -> None:
    user = getattr(world, role)
    assert names(pledges_visible_to(user), pledges) == {
        "pl_secret", "pl_released", "fr_secret", "fr_released", "us_released_other"
    }
    assert not pledges_editable_by(user).exists()


def test_anonymous_and_inactive_see_nothing(world: World, pledges: dict[str, Pledge]) -> None:
    from django.contrib.auth.models import AnonymousUser

    assert not pledges_visible_to(AnonymousUser()).exists()
    inactive = UserFactory(username="gone", role="analyst", is_active=False)
    assert not pledges_visible_to(inactive).exists()


def test_ministry_edits_only_its_own(world: World, pledges: dict[str, Pledge]) -> None:
    assert names(pledges_editable_by(world.ministry_pl), pledges) == {"pl_draft", "pl_secret", "pl_released"}


def test_draft_becomes_visible_once_offered(world: World, pledges: dict[str, Pledge]) -> None:
    services.pledge_transition(actor=world.ministry_pl, pledge=pledges["pl_draft"], to_status="indicative")
    assert "pl_draft" in names(pledges_visible_to(world.analyst), pledges)
    assert "pl_draft" in names(pledges_visible_to(world.ministry_fr), pledges)


def test_as_of_list_applies_the_same_rule(world: World, pledges: dict[str, Pledge]) -> None:
    from django.utils import timezone

    rows = pledge_list(user=world.analyst, as_of=timezone.now())
    assert names(rows, pledges) == names(pledges_visible_to(world.analyst), pledges)


def test_caveats_follow_their_pledge_or_their_releasability(world: World, pledges: dict[str, Pledge]) -> None:
    on_draft = services.caveat_add(actor=world.ministry_pl, pledge=pledges["pl_draft"], kind="role", text="a")
    on_released = services.caveat_add(actor=world.ministry_pl, pledge=pledges["pl_released"], kind="role", text="b")
    country_wide_secret = services.caveat_add(actor=world.ministry_pl, coalition=world.coalition,
                                              kind="no_deployment", text="c")
    country_wide_shared = services.caveat_add(actor=world.ministry_pl, coalition=world.coalition,
                                              kind="no_deployment", text="d", releasability="coalition")
    everything = {on_draft.pk, on_released.pk, country_wide_secret.pk, country_wide_shared.pk}

    def seen(user: object) -> set[int]:
        return {c.pk for c in caveats_visible_to(user)}

    assert seen(world.ministry_pl) == everything
    assert seen(world.ministry_fr) == {on_released.pk, country_wide_shared.pk}
    assert seen(world.analyst) == everything - {on_draft.pk}
    assert seen(world.ministry_us) == set()
    assert {c.pk for c in caveats_editable_by(world.ministry_fr)} == set()


def test_a_caveat_kept_from_the_coalition_does_not_show_as_a_conditional_flag(
    world: World, pledges: dict[str, Pledge]
) -> None:
    services.caveat_add(actor=world.ministry_fr, coalition=world.coalition, kind="condition",
                        text="Only with a US backstop.", releasability="secretariat")

    def flag(user: object) -> bool:
        return pledge_list(user=user).get(pk=pledges["fr_released"].pk).is_conditional

    assert flag(world.analyst) is True
    assert flag(world.ministry_fr) is True
    assert flag(world.ministry_pl) is False  # PL may not see the caveat, so not its effect either


def test_a_pledges_caveat_can_be_kept_from_the_coalition(world: World, pledges: dict[str, Pledge]) -> None:
    inherited = services.caveat_add(actor=world.ministry_pl, pledge=pledges["pl_released"], kind="role", text="a")
    kept = services.caveat_add(actor=world.ministry_pl, pledge=pledges["pl_released"], kind="role", text="b",
                               releasability="secretariat")
    assert inherited.releasability == "coalition"
    assert {c.pk for c in caveats_visible_to(world.ministry_fr)} == {inherited.pk}
    assert {c.pk for c in caveats_visible_to(world.analyst)} == {inherited.pk, kept.pk}


@pytest.mark.parametrize("role", ["ministry_pl", "ministry_fr", "ministry_us", "analyst", "secretariat", "admin"])
def test_the_row_rules_equal_the_query_rules(world: World, role: str) -> None:
    """may_see_pledge / may_see_caveat (for walking history) decide exactly as the Q builders, for every
    status, releasability, country and coalition; caveats on each of those pledges and country-wide."""
    from pledges.models import Caveat
    from pledges.visibility import caveat_visibility_q, may_see_caveat, may_see_pledge, pledge_visibility_q

    made = []
    for country, coalition in ((world.pl, world.coalition), (world.fr, world.coalition),
                               (world.us, world.other_coalition), (world.pl, world.other_coalition)):
        for status in ("draft", "indicative", "confirmed", "deployed", "withdrawn"):
            for releasability in ("secretariat", "coalition"):
                pledge = make_pledge(country=country, coalition=coalition, releasability=releasability,
                                     status="indicative" if status == "withdrawn" else status)
                actor = pledge.country.staff.get()
                for caveat_releasability in ("secretariat", "coalition"):
                    made.append(services.caveat_add(actor=actor, pledge=pledge, kind="role", text="x",
                                                    releasability=caveat_releasability))
                if status == "withdrawn":  # a withdrawn pledge takes no new caveats: withdraw it after
                    services.pledge_transition(actor=actor, pledge=pledge, to_status="withdrawn")
        for caveat_releasability in ("secretariat", "coalition"):
            made.append(services.caveat_add(actor=country.staff.get(), coalition=coalition, kind="role", text="y",
                                            releasability=caveat_releasability))
    user = getattr(world, role)
    by_query = set(Pledge.objects.filter(pledge_visibility_q(user)).values_list("pk", flat=True))
    assert by_query == {p.pk for p in Pledge.objects.all() if may_see_pledge(user, p)}
    caveats_by_query = set(Caveat.objects.filter(caveat_visibility_q(user)).values_list("pk", flat=True))
    assert caveats_by_query == {c.pk for c in Caveat.objects.select_related("pledge")
                                if may_see_caveat(user, c, c.pledge)}
    assert len(made) == 88 and 0 < len(caveats_by_query) < 88
