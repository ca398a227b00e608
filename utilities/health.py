"""GET /health/: whether this web process reaches its database and Redis, for supervisors and load balancers.

200 while the database answers (Redis down is shown, and the product keeps working without it); 503 when the
database does not. No authentication and nothing else is said.
"""

from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


def _database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DatabaseError:
        return False


def _redis() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


@never_cache
@require_safe
def health(request: HttpRequest) -> JsonResponse:
    database, cache = _database(), _redis()
    body = {"database": "ok" if database else "down", "redis": "ok" if cache else "down"}
    return JsonResponse(body, status=200 if database else 503)
