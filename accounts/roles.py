"""What each role may do, asked of a user: the predicates every app's rules are written with.

Who may see which rows is pledges.visibility's (it starts from these); who may change what is the services'.
A superuser counts as an administrator whatever their role.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

from accounts.models import Role
from utilities.versioning import SystemActor

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from accounts.models import User

# Whoever asks: a signed-in user, or the anonymous one of a request (who may do nothing).
Reader: TypeAlias = "User | AnonymousUser"
# Whoever writes: a signed-in user, or a named system actor (the demo loader, the scheduler, a command). The
# services check a user's rights; a system write says so with `system=True`.
Actor: TypeAlias = "User | SystemActor"


def is_active_user(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def is_ministry(user: Any) -> bool:
    """Ministry staff, bound to their country."""
    return is_active_user(user) and user.role == Role.MINISTRY and bool(user.country_id)


def sees_all_offered(user: Any) -> bool:
    """Analysts, the secretariat and administrators see every offered (non-draft) pledge."""
    return is_active_user(user) and bool(
        user.is_superuser or user.role in (Role.ANALYST, Role.SECRETARIAT, Role.ADMINISTRATOR))


def is_secretariat(user: Any) -> bool:
    """The secretariat (and administrators): requirements, conditions, meetings, briefs."""
    return is_active_user(user) and bool(user.is_superuser or user.role in (Role.SECRETARIAT, Role.ADMINISTRATOR))


def is_administrator(user: Any) -> bool:
    """Administrators manage users, countries, coalitions, categories and places."""
    return is_active_user(user) and bool(user.is_superuser or user.role == Role.ADMINISTRATOR)


def is_reader(user: Any) -> bool:
    """Anyone with a role that reads the coalition's data: ministry staff, analysts, secretariat, administrators."""
    return is_ministry(user) or sees_all_offered(user)
