"""The product's languages: a signed-in user's own wins over the browser's Accept-Language (LocaleMiddleware's
choice); the languages a brief is written in are the pages' own (settings.LANGUAGES)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext_lazy

# A brief (its headings, dates and numbers) is written in a language of the pages, by its two-letter code ("en" is
# written as en-gb): the choices of Brief.language and Coalition.default_language, and the dashboard's.
BRIEF_LANGUAGES: list[tuple[str, str]] = [(code.partition("-")[0], name) for code, name in settings.LANGUAGES]
BRIEF_LANGUAGE_CODES: list[str] = [code for code, _name in BRIEF_LANGUAGES]
BRIEF_LANGUAGE_REFUSED = gettext_lazy("A brief is written in English (en) or French (fr).")


def brief_language_for(language: str | None) -> str:
    """The brief language of a page language (en-gb: en): its own when briefs are written in it, else English."""
    code = (language or "").partition("-")[0]
    return code if code in BRIEF_LANGUAGE_CODES else settings.LANGUAGE_CODE.partition("-")[0]

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
