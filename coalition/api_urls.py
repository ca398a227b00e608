"""Routes under /api/v1/: auth, the schema and its docs, and each app's resources."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from coalition.api_auth import TokenLoginView, TokenLogoutView

urlpatterns: list[URLPattern | URLResolver] = [
    path("auth/token/", TokenLoginView.as_view(), name="api-token"),
    path("auth/logout/", TokenLogoutView.as_view(), name="api-logout"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("pledges.api.urls")),
    path("", include("meetings.api.urls")),
]
