"""The language switch in every page's header: the choice is kept on the user (and in a cookie before
signing in), so it follows them to the API, the emails and the briefs they ask for."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST


@require_POST
def choose_language(request: HttpRequest) -> HttpResponse:
    language = request.POST.get("language", "")
    following = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(following, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        following = "/"
    response = HttpResponseRedirect(following)
    if language not in dict(settings.LANGUAGES):
        return response
    user = request.user
    if user.is_authenticated and getattr(user, "preferred_language", None) != language:
        get_user_model().objects.filter(pk=user.pk).update(preferred_language=language)
    translation.activate(language)
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600, samesite="Lax",
                        secure=settings.SESSION_COOKIE_SECURE, httponly=True)
    return response
