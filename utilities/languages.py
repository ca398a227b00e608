"""A signed-in user's own language wins over the browser's Accept-Language (LocaleMiddleware's choice)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse
from django.utils import translation

if TYPE_CHECKING:
    # A request's user, signed in or anonymous (accounts.roles.Reader; django-stubs resolves the alias to
    # AUTH_USER_MODEL's model or AnonymousUser): utilities stands below accounts and does not import it.
    from django.contrib.auth.models import _AnyUser as RequestUser


def activate_preferred_language(request: Any, user: RequestUser) -> None:
    """Use `user`'s preferred language for the rest of this request, when they chose one."""
    language = getattr(user, "preferred_language", "") if getattr(user, "is_authenticated", False) else ""
    if language:
        translation.activate(language)
        request.LANGUAGE_CODE = language


class PreferredLanguageMiddleware:
    """After AuthenticationMiddleware (session users); the API activates it again once DRF has authenticated a
    token (utilities.api.WritesInOneTransaction)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        activate_preferred_language(request, request.user)
        return self.get_response(request)
