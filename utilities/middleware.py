"""Request-level guards that answer before any view runs."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation


class BodySizeLimitMiddleware:
    """A request announcing a body larger than settings.API_MAX_BODY_BYTES gets 413 at once: JSON under /api/,
    plain text elsewhere (Django would read and refuse it later with a 400 page). A body sent without its
    length is bounded where it is read (utilities.api_parsers.JSONParser; Django's own limit for forms)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.API_MAX_BODY_BYTES
        if request.path in settings.UPLOAD_PATHS:  # a spreadsheet of the largest size imports, with its form
            limit = max(limit, settings.IMPORT_MAX_BYTES + 64 * 1024)
        if length > limit:
            # Before LocaleMiddleware (nothing may read the body first): the language the request asks for.
            with translation.override(translation.get_language_from_request(request)):
                message = translation.gettext("The request body is larger than %(limit)s bytes.") % {
                    "limit": f"{limit:,}"}
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message}, status=413)
            return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, unless settings.TRUSTED_PROXIES says how many proxies in front of us
    append to X-Forwarded-For (then the address the nearest trusted one saw). A client's own X-Forwarded-For is
    never believed, so it cannot dodge the login throttle or lockout. DRF's throttles read the same setting
    (NUM_PROXIES); django-axes calls this."""
    remote = str(request.META.get("REMOTE_ADDR", ""))
    proxies = settings.TRUSTED_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if not proxies or not forwarded:
        return remote
    addresses = [part.strip() for part in str(forwarded).split(",") if part.strip()]
    return addresses[-min(proxies, len(addresses))] if addresses else remote
