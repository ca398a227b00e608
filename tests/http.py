"""Reading answers in tests: a streamed answer (a CSV export) is read through once, inside the caller's context
(query counts included), as a client reads it, and remembered."""

from __future__ import annotations

from typing import Any


def content_of(response: Any) -> bytes:
    """The answer's bytes, streamed or not."""
    if not getattr(response, "streaming", False):
        return bytes(response.content)
    if not hasattr(response, "read_through"):
        response.read_through = b"".join(response.streaming_content)
    return bytes(response.read_through)
