"""The API's request bodies: DRF's parsers, refusing what they must in JSON and in the reader's language.

- `JSONParser` (REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]): a body larger than settings.API_MAX_BODY_BYTES is a
  413 (whether or not the client said its length), one nested deeper than MAX_JSON_DEPTH a 400, never a 500.
- `MultiPartParser`: DRF's, for the views that take a file.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers

from utilities.api import RequestTooLarge

MAX_JSON_DEPTH = 32  # no write here takes more than a few levels; Python's own parser fails near 1,000


def _depth(value: Any) -> int:
    """How deep arrays and objects nest, counted without recursion."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        pending.extend((child, level + 1) for child in children)
    return deepest


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, answering in JSON for bodies it must refuse: larger than settings.API_MAX_BODY_BYTES
    (413, whether or not the client said its length) or nested deeper than MAX_JSON_DEPTH (400)."""

    def parse(self, stream: Any, media_type: str | None = None,
              parser_context: Mapping[str, Any] | None = None) -> Any:
        limit = settings.API_MAX_BODY_BYTES
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise RequestTooLarge(_("The request body is larger than %(limit)s bytes.") % {"limit": f"{limit:,}"})
        too_deep = _("JSON nested deeper than %(levels)s levels.") % {"levels": MAX_JSON_DEPTH}
        try:
            data = super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(too_deep) from None
        except exceptions.ParseError as error:
            # DRF's text carries Python's English reason; say where instead, in the reader's language.
            problem = error.__context__
            if isinstance(problem, json.JSONDecodeError):
                raise exceptions.ParseError(_("The body is not valid JSON (line %(line)s, column %(column)s).") % {
                    "line": problem.lineno, "column": problem.colno}) from None
            raise exceptions.ParseError(_("The body is not valid JSON.")) from None
        if _depth(data) > MAX_JSON_DEPTH:
            raise exceptions.ParseError(too_deep)
        return data


class MultiPartParser(parsers.MultiPartParser):
    """DRF's multipart parser, refusing a broken form in the reader's language (DRF's text carries Django's
    English reason)."""

    def parse(self, stream: Any, media_type: str | None = None,
              parser_context: Mapping[str, Any] | None = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except exceptions.ParseError:
            raise exceptions.ParseError(_("The body is not a valid multipart form.")) from None
