"""Routes under /api/v1/: auth, the schema and its docs, and each app's resources.

The docs are SpectacularSwaggerSplitView: its init script is served from `docs/?script=`, so the page runs under
the CSP's `script-src 'self'` (no inline script). Anything else under /api/v1/ answers a JSON 404.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponsePermanentRedirect
from django.http.response import HttpResponseBase
from django.urls import Resolver404, URLPattern, URLResolver, include, path, re_path, resolve
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.exceptions import APIException, NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from utilities.api import WritesInOneTransaction
from utilities.api_auth import TokenLoginView, TokenLogoutView


@extend_schema(exclude=True)
class NotFoundView(WritesInOneTransaction, APIView):
    """Any path under /api/v1/ that names no resource: a JSON 404, whatever the method.

    As Django's APPEND_SLASH would (this catch-all resolves every path, so CommonMiddleware no longer does), a
    GET of a known path without its trailing slash is redirected to it.
    """

    permission_classes = [AllowAny]

    def perform_authentication(self, request: Request) -> None:
        """Whoever asks, when they can be told (a token user's own language); a failed sign-in is no reason to
        answer anything but this 404."""
        try:
            super().perform_authentication(request)
        except APIException:
            pass

    def _not_found(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method in ("GET", "HEAD") and not request.path.endswith("/"):
            try:
                match = resolve(request.path + "/")
            except Resolver404:
                match = None
            if match is not None and match.url_name != "api-not-found":
                query = request.META.get("QUERY_STRING", "")
                return HttpResponsePermanentRedirect(request.path + "/" + (f"?{query}" if query else ""))
        raise NotFound()

    get = post = put = patch = delete = head = options = http_method_not_allowed = _not_found  # type: ignore[assignment]


urlpatterns: list[URLPattern | URLResolver] = [
    path("auth/token/", TokenLoginView.as_view(), name="api-token"),
    path("auth/logout/", TokenLogoutView.as_view(), name="api-logout"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("pledges.api.urls")),
    path("", include("meetings.api.urls")),
    path("", include("imports.api.urls")),
    path("", include("outcomes.api.urls")),
    re_path(r"^.*$", NotFoundView.as_view(), name="api-not-found"),
]
