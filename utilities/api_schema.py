"""The OpenAPI document's error answers: `document_error_responses`, a drf-spectacular postprocessing hook
(SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]) adding to every operation the 400, 401, 403, 404, 412, 422, 429 and
503 answers it can give, as utilities.api's exception handler and views give them, and the `Idempotency-Key` header
of every authenticated write (utilities.api.WritesInOneTransaction). A write that documents
utilities.api.IF_MATCH_PARAMETER gets its 412.
"""

from __future__ import annotations

from typing import Any

IDEMPOTENCY_KEY_HELP = (
    "Any unique string (a UUID): the same key and body from you within 24 hours returns the first answer again and "
    "writes nothing; the same key with another body is a 422."
)

_ERROR_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
_VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": "Field name (or non_field_errors) -> messages.",
    "additionalProperties": {"oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]},
}
_STALE_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}, "current_version": {"type": "integer"}},
    "required": ["detail"],
}


def _response(description: str, component: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}},
    }


def document_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the error answers every operation can give."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", _ERROR_SCHEMA)
    schemas.setdefault("ValidationError", _VALIDATION_ERROR_SCHEMA)
    schemas.setdefault("PreconditionFailed", _STALE_SCHEMA)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            parameters = operation.setdefault("parameters", [])
            needs_auth = bool(operation.get("security")) and {} not in operation["security"]
            extra: dict[str, dict[str, Any]] = {}
            if "requestBody" in operation or any(p.get("in") == "query" for p in parameters):
                extra["400"] = _response("Bad input: field-level messages.", "ValidationError")
            if needs_auth:
                extra["401"] = _response("Not authenticated (send `Authorization: Token <key>`).", "Error")
                extra["403"] = _response("Authenticated, but not allowed to do this.", "Error")
            if "{" in path:
                extra["404"] = _response("No such object, or not visible to you.", "Error")
            if any(p.get("in") == "header" and p.get("name") == "If-Match" for p in parameters):
                extra["412"] = _response("If-Match names an older version; nothing was changed.", "PreconditionFailed")
            if method in ("post", "put", "patch", "delete") and needs_auth:
                parameters.append({
                    "in": "header", "name": "Idempotency-Key", "required": False, "schema": {"type": "string"},
                    "description": IDEMPOTENCY_KEY_HELP,
                })
                extra["422"] = _response("The Idempotency-Key was used for a different request.", "Error")
            extra["429"] = _response("Too many requests; retry later.", "Error")
            extra["503"] = _response("The database is not answering; nothing was changed. Retry after the "
                                     "`Retry-After` seconds (with the same Idempotency-Key).", "Error")
            for code, body in extra.items():
                responses.setdefault(code, body)
            if not parameters:
                del operation["parameters"]
    return result
