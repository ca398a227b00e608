"""The answer when something fails outside an API view's own handling (a middleware, the admin).

A database that is unreachable or shutting down is a 503 with Retry-After, not a 500: the request changed
nothing and may be sent again. Under /api/ every such answer is JSON, as the API's own errors are.
"""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults

RETRY_AFTER_SECONDS = 5


def server_error(request: HttpRequest) -> HttpResponse:
    error = sys.exc_info()[1]  # Django calls this handler while handling the exception
    unavailable = isinstance(error, OperationalError | InterfaceError)
    api = request.path.startswith("/api/")
    if unavailable:
        message = _("The database is not answering (restarting?). Nothing was changed; retry in a few seconds.")
        response: HttpResponse = (JsonResponse({"detail": message}, status=503) if api
                                  else HttpResponse(message, status=503, content_type="text/plain; charset=utf-8"))
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if api:
        return JsonResponse({"detail": _("The server failed to answer this request; it has been logged.")}, status=500)
    return defaults.server_error(request)
