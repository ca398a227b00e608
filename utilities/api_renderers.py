"""An answer whose JSON is already written (by PostgreSQL, pledges.api.page_sql) goes out as it is.

A view answers `Response(RenderedJSON(body))` and lists `PassThroughJSONRenderer` among its renderers: the body is
sent unchanged, any other data is rendered by DRF's JSONRenderer, and the answer is still a DRF Response (kept
answers, ETags and content negotiation work on it as on any other).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework.renderers import JSONRenderer


class RenderedJSON(bytes):
    """JSON text, written as DRF's compact JSONRenderer would write it."""


class PassThroughJSONRenderer(JSONRenderer):
    def render(self, data: Any, accepted_media_type: str | None = None,
               renderer_context: Mapping[str, Any] | None = None) -> bytes:
        if isinstance(data, RenderedJSON):
            return bytes(data)
        return super().render(data, accepted_media_type, renderer_context)  # type: ignore[arg-type]


def with_results(envelope: Mapping[str, Any], results: str) -> RenderedJSON:
    """`envelope` (a page's count and links) rendered, with `results`, a JSON array as text, as its last key."""
    head = JSONRenderer().render({**envelope, "results": None})
    assert head.endswith(b'"results":null}')
    return RenderedJSON(head[: -len(b"null}")] + results.encode() + b"}")
