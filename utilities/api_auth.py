"""API tokens: knox tokens, stored hashed, with an expiry (REST_KNOX in settings).

`POST /api/v1/auth/token/` with username and password answers `{"token", "expiry"}`
(throttled by the "login" rate), as JSON or form-encoded; `POST /api/v1/auth/logout/` revokes the token the
request was made with. knox's own LoginView needs an already authenticated
request, hence this thin view over DRF's AuthTokenSerializer.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.utils import timezone
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from drf_spectacular.utils import extend_schema
from knox.models import get_token_model
from knox.settings import knox_settings
from knox.views import LogoutView as KnoxLogoutView
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from utilities.api import WritesInOneTransaction
from utilities.api_parsers import JSONParser, MultiPartParser
from utilities.token_auth import TokenAuthentication


class TokenScheme(KnoxTokenScheme):
    """The OpenAPI security scheme of knox's tokens, for our TokenAuthentication (utilities.token_auth)."""

    target_class = "utilities.token_auth.TokenAuthentication"


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`. Shown once; stored hashed.")
    expiry = serializers.DateTimeField(allow_null=True)


class TokenLoginView(WritesInOneTransaction, APIView):
    """Exchange a username and password for an API token (knox; hashed at rest, with an expiry)."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser, FormParser, MultiPartParser]  # JSON, or a plain HTML form / curl -d
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"
    atomic_writes = False  # a failed attempt must stay recorded for the lockout

    @extend_schema(
        operation_id="auth_token_create", request=AuthTokenSerializer, responses={200: TokenSerializer}, auth=[],
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        get_token_model().objects.filter(user=user, expiry__lt=timezone.now()).delete()
        instance, token = get_token_model().objects.create(
            user=user, expiry=knox_settings.TOKEN_TTL, prefix=knox_settings.TOKEN_PREFIX
        )
        user_logged_in.send(sender=user.__class__, request=request, user=user)
        return Response(TokenSerializer({"token": token, "expiry": instance.expiry}).data)


class TokenLogoutView(WritesInOneTransaction, KnoxLogoutView):
    """Revoke the token this request was made with."""

    authentication_classes = [TokenAuthentication]

    @extend_schema(
        operation_id="auth_logout", request=None,
        responses={204: None}, tags=["auth"],
    )
    def post(self, request: Request, format: str | None = None) -> Response:
        return super().post(request, format)
