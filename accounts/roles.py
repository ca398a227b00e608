"""What each role may do, asked of a user: the predicates every app's rules are written with.

Who may see which rows is pledges.visibility's (it starts from these); who may change what is the services'.
A superuser counts as an administrator whatever their role.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TypeAlias, TypeGuard, cast

from accounts.models import Role
from utilities.versioning import SystemActor

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from accounts.models import User


class SignedIn(Protocol):
    """What the rules read of a signed-in reader: a User has it, and so does a stand-in that reads as one role
    (meetings.selectors.SecretariatViewer, whom a brief is compiled for). The predicates below tell the type
    checker this much when they answer True."""

    @property
    def pk(self) -> int | None: ...

    @property
    def username(self) -> str: ...

    @property
    def is_active(self) -> bool: ...

    @property
    def is_superuser(self) -> bool: ...

    @property
    def role(self) -> str: ...

    @property
    def country_id(self) -> int | None: ...


class MinistryStaff(SignedIn, Protocol):
    """A signed-in reader of a country's ministry: their country is set (accounts.models, user_country_iff_ministry)."""

    @property
    def country_id(self) -> int: ...


# Whoever asks: a signed-in user, or the anonymous one of a request (who may do nothing), or a stand-in reading as
# one role (SignedIn).
Reader: TypeAlias = "User | AnonymousUser | SignedIn"
# Whoever writes: a signed-in user, or a named system actor (the demo loader, the scheduler, a command). The
# services check a user's rights; a system write says so with `system=True`. A service's `actor` is
# `Reader | Actor`: it takes a request's user as it comes and refuses the anonymous one by its rights check, as it
# refuses a user without the role.
Actor: TypeAlias = "User | SystemActor"


def is_active_user(user: Reader | Actor | None) -> TypeGuard[SignedIn]:
    """Signed in and active. Whatever is asked (None too: a serializer without a request), by its attributes: an
    AnonymousUser is not authenticated, and a SystemActor (or None) has no such attribute."""
    return bool(getattr(user, "is_authenticated", False) and cast("SignedIn", user).is_active)


def is_ministry(user: Reader | Actor | None) -> TypeGuard[MinistryStaff]:
    """Ministry staff, bound to their country."""
    return is_active_user(user) and user.role == Role.MINISTRY and bool(user.country_id)


def sees_all_offered(user: Reader | Actor | None) -> TypeGuard[SignedIn]:
    """Analysts, the secretariat and administrators see every offered (non-draft) pledge."""
    return is_active_user(user) and bool(
        user.is_superuser or user.role in (Role.ANALYST, Role.SECRETARIAT, Role.ADMINISTRATOR))


def is_secretariat(user: Reader | Actor | None) -> TypeGuard[SignedIn]:
    """The secretariat (and administrators): requirements, conditions, meetings, briefs."""
    return is_active_user(user) and bool(user.is_superuser or user.role in (Role.SECRETARIAT, Role.ADMINISTRATOR))


def is_administrator(user: Reader | Actor | None) -> TypeGuard[SignedIn]:
    """Administrators manage users, countries, coalitions, categories and places."""
    return is_active_user(user) and bool(user.is_superuser or user.role == Role.ADMINISTRATOR)


def is_reader(user: Reader | Actor | None) -> TypeGuard[SignedIn]:
    """Anyone with a role that reads the coalition's data: ministry staff, analysts, secretariat, administrators."""
    return is_ministry(user) or sees_all_offered(user)
