"""Who may see and change what: the one place that decides.

Every list and detail (admin, API, brief, export) reads pledges and caveats
through these functions. The rules:

- nobody but the owner country's ministry staff ever sees a draft;
- ministry staff see all of their own country's pledges and caveats, and other
  countries' offered pledges in coalitions their country belongs to when they
  are released to the whole coalition;
- analysts, the secretariat and administrators see every offered pledge;
- only the owner country's ministry staff change pledges and caveats; only the
  secretariat (or an administrator) sets requirements and runs meetings.

The Q builders take a field prefix so the same rule filters history rows
(PledgeEvent has the same field names) and related lookups. The past obeys the
same rule: a past version is shown only to a reader who could see it while it
was current (pledges.history applies these rules to the states of each moment).
`may_see_pledge` and `may_see_caveat` are the same rules for one row in Python,
for walking a history version by version; tests hold the two forms equal.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from accounts.roles import Actor, MinistryStaff, Reader, is_active_user, is_ministry, is_secretariat, sees_all_offered
from pledges.models import (
    Caveat,
    Coalition,
    Condition,
    Country,
    Delivery,
    Pledge,
    PledgeStatus,
    Releasability,
    Requirement,
)

NOTHING = Q(pk__in=[])


def member_coalitions(user: MinistryStaff) -> QuerySet[Coalition]:
    """The coalitions a ministry user's country belongs to."""
    return Coalition.objects.filter(memberships__country_id=user.country_id)


def _member_coalition_ids(user: MinistryStaff) -> list[int]:
    # Cached on the user object: one query per request, however many querysets are built.
    cached: list[int] | None = getattr(user, "_coalition_ids_cache", None)
    if cached is None:
        cached = list(member_coalitions(user).values_list("id", flat=True))
        user._coalition_ids_cache = cached  # type: ignore[attr-defined]
    return cached


def pledge_visibility_q(user: Reader | None, prefix: str = "") -> Q:
    """The filter of pledges (or pledge history rows) that `user` may see."""

    def q(**lookups: Any) -> Q:
        return Q(**{f"{prefix}{key}": value for key, value in lookups.items()})

    if not is_active_user(user):
        return NOTHING
    offered = ~q(status=PledgeStatus.DRAFT)
    if is_ministry(user):
        own = q(country_id=user.country_id)
        released = offered & q(releasability=Releasability.COALITION, coalition_id__in=_member_coalition_ids(user))
        return own | released
    if sees_all_offered(user):
        return offered
    return NOTHING


def caveat_own_visibility_q(user: Reader) -> Q:
    """The part of the caveat rule that reads the caveat's own fields: a ministry sees its own country's
    caveats and other members' released ones; analysts and the secretariat see any. A caveat on a pledge
    also needs its pledge visible (caveat_visibility_q); where that pledge is known to be visible (the
    conditional flag of a pledge being shown) this part alone decides."""
    if not is_active_user(user):
        return NOTHING
    if is_ministry(user):
        released = Q(releasability=Releasability.COALITION, coalition_id__in=_member_coalition_ids(user))
        return Q(country_id=user.country_id) | released
    if sees_all_offered(user):
        return Q()
    return NOTHING


def among(field: str, ids: QuerySet[Any]) -> Q:
    """`field` is one of `ids` (a one-column values() queryset), as a correlated EXISTS rather than
    `IN (subquery)`. Inside an OR ("no pledge, or a visible one") PostgreSQL runs `IN` as a hashed subplan only
    while every id fits in work_mem; past that (about 300,000 pledges with the default 4 MB) it scans the whole
    list once per row: a brief's caveats took 10 s, its changes 28 s, at 400,000 pledges. EXISTS looks the one
    id up by index (a history row's `id` is its object's, indexed as pgh_obj_id)."""
    [column] = ids.query.values_select
    if column == "id" and any(f.name == "pgh_obj" for f in ids.model._meta.fields):
        column = "pgh_obj_id"
    return Q(Exists(ids.order_by().filter(**{column: OuterRef(field)})))


def caveat_visibility_q(user: Reader, visible_pledge_ids: QuerySet[Any] | None = None) -> Q:
    """Caveats `user` may see. Their own country's, always; another country's only when released to the
    coalition and, for a caveat on a pledge, when that pledge is visible too. Analysts and the
    secretariat see every caveat except those on drafts.

    `visible_pledge_ids`: the ids of the pledges the user could see at the moment the caveat rows are from
    (history rows of a past moment must be judged against their pledges as they stood then, not now);
    by default the live pledges, through the caveat's foreign key.
    """
    if not is_active_user(user):
        return NOTHING
    if visible_pledge_ids is None:
        on_visible_pledge = Q(pledge__isnull=True) | pledge_visibility_q(user, prefix="pledge__")
    else:
        on_visible_pledge = Q(pledge_id__isnull=True) | among("pledge_id", visible_pledge_ids)
    if is_ministry(user):
        released = Q(releasability=Releasability.COALITION, coalition_id__in=_member_coalition_ids(user))
        return Q(country_id=user.country_id) | (released & on_visible_pledge)
    if sees_all_offered(user):
        return on_visible_pledge
    return NOTHING


def delivery_visibility_q(user: Reader, visible_pledge_ids: QuerySet[Any] | None = None) -> Q:
    """Tranches are seen by whoever sees their pledge (at the same moment: `visible_pledge_ids` for history
    rows of a past moment; by default the live pledges, through the foreign key)."""
    if visible_pledge_ids is not None:
        return Q(pledge_id__in=visible_pledge_ids)
    return pledge_visibility_q(user, prefix="pledge__")


def may_see_pledge(user: Reader, row: Any) -> bool:
    """pledge_visibility_q for one row (a pledge or a history row of one)."""
    if not is_active_user(user):
        return False
    offered = row.status != PledgeStatus.DRAFT
    if is_ministry(user):
        return row.country_id == user.country_id or (
            offered and row.releasability == Releasability.COALITION
            and row.coalition_id in _member_coalition_ids(user)
        )
    return sees_all_offered(user) and offered


def may_see_caveat(user: Reader, row: Any, pledge_row: Any | None) -> bool:
    """caveat_visibility_q for one caveat row, given its pledge as it stood at the same moment (None for a
    country-wide caveat, or when the pledge did not exist then)."""
    if not is_active_user(user):
        return False
    on_visible_pledge = row.pledge_id is None or (pledge_row is not None and may_see_pledge(user, pledge_row))
    if is_ministry(user):
        return row.country_id == user.country_id or (
            row.releasability == Releasability.COALITION and row.coalition_id in _member_coalition_ids(user)
            and on_visible_pledge
        )
    return sees_all_offered(user) and on_visible_pledge


def coalitions_visible_to(user: Reader) -> QuerySet[Coalition]:
    """Ministry staff see the coalitions their country belongs to (and what is in them); analysts, the
    secretariat and administrators see every coalition."""
    if is_ministry(user):
        return Coalition.objects.filter(pk__in=_member_coalition_ids(user))
    if sees_all_offered(user):
        return Coalition.objects.all()
    return Coalition.objects.none()


def requirements_visible_to(user: Reader) -> QuerySet[Requirement]:
    """A coalition's statement of requirements is seen by whoever sees the coalition."""
    if is_ministry(user):
        requirements = Requirement.objects.filter(coalition_id__in=_member_coalition_ids(user))
    elif sees_all_offered(user):
        requirements = Requirement.objects.all()
    else:
        requirements = Requirement.objects.none()
    return requirements.select_related("coalition", "category", "unit")


def deliveries_visible_to(user: Reader) -> QuerySet[Delivery]:
    return Delivery.objects.filter(delivery_visibility_q(user)).select_related(
        "pledge", "pledge__country", "pledge__unit")


def deliveries_editable_by(user: Reader) -> QuerySet[Delivery]:
    """Tranches are recorded by their pledge's own ministry staff."""
    if not is_ministry(user):
        return Delivery.objects.none()
    return Delivery.objects.filter(pledge__country_id=user.country_id)


def conditions_visible_to(user: Reader | None) -> QuerySet[Condition]:
    """A coalition's named conditions are seen by whoever sees the coalition: every member's staff."""
    if is_ministry(user):
        return Condition.objects.filter(coalition_id__in=_member_coalition_ids(user))
    if sees_all_offered(user):
        return Condition.objects.all()
    return Condition.objects.none()


def pledges_visible_to(user: Reader | None):  # -> QuerySet[Pledge]
    return Pledge.objects.filter(pledge_visibility_q(user)).select_related("country", "coalition", "category", "unit")


def caveats_visible_to(user: Reader):  # -> QuerySet[Caveat]
    return Caveat.objects.filter(caveat_visibility_q(user)).select_related("country", "coalition", "pledge")


def pledges_editable_by(user: Reader | Actor | None):  # -> QuerySet[Pledge]
    if not is_ministry(user):
        return Pledge.objects.none()
    return Pledge.objects.filter(country_id=user.country_id).select_related("country", "coalition", "category", "unit")


def caveats_editable_by(user: Reader):  # -> QuerySet[Caveat]
    if not is_ministry(user):
        return Caveat.objects.none()
    return Caveat.objects.filter(country_id=user.country_id).select_related("country", "coalition", "pledge")


def countries_user_may_pledge_for(user: Reader):  # -> QuerySet[Country]
    if not is_ministry(user):
        return Country.objects.none()
    return Country.objects.filter(pk=user.country_id)


def ensure_may_change_country(user: Reader | Actor, country_id: int | None) -> None:
    """Raise PermissionDenied unless `user` is ministry staff of this country."""
    if not is_ministry(user) or user.country_id != country_id:
        raise PermissionDenied(_("Only the country's own ministry staff may change its pledges and caveats."))


def ensure_secretariat(user: Reader | Actor) -> None:
    if not is_secretariat(user):
        raise PermissionDenied(_("Only the secretariat may do this."))
