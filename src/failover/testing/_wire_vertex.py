"""Claude on Google Vertex AI on the wire, as ``anthropic.AnthropicVertex`` calls it.

What differs from Anthropic's own API (FACTS.md, "Claude on Bedrock and Vertex AI"):

* ``POST /v1/projects/<project>/locations/<region>/publishers/anthropic/models/<model>``
  with ``:rawPredict`` (an Anthropic message as JSON) or ``:streamRawPredict`` (the
  same SSE stream as Anthropic's). The body has no ``model`` and needs
  ``anthropic_version``; the SDK keeps ``stream: true`` in it.
* Auth is ``Authorization: Bearer <token>``; without one, 401 ``UNAUTHENTICATED``.
* Google's own errors have Google's shape, ``{"error": {"code", "message", "status"}}``:
  rate limits and quotas are 429 ``RESOURCE_EXHAUSTED`` (no ``retry-after`` unless the
  fault gives one), a model the region does not serve is 404 ``NOT_FOUND``, and 400
  ``INVALID_ARGUMENT``, 401 ``UNAUTHENTICATED``, 403 ``PERMISSION_DENIED``, 500
  ``INTERNAL``, 503 ``UNAVAILABLE``, 504 ``DEADLINE_EXCEEDED``. A fault's ``error_type``
  replaces ``status``. Vertex sometimes wraps the body in a JSON list: a fault with
  ``error_code="list"`` gets ``[{"error": {...}}]``; any other ``error_code`` becomes the
  ``reason`` of a ``google.rpc.ErrorInfo`` in ``error.details``.
* What Claude itself says passes through in Anthropic's shape: ``overloaded`` (529
  ``overloaded_error``), any 529, ``context_length`` (400 ``invalid_request_error``), a
  refusal (``content_filter``: a 200 with ``stop_reason: "refusal"``), missing required
  fields, and mid-stream errors (an SSE ``error`` event).
* No rate-limit headroom headers.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from ._faults import Fault
from ._reply import Reply
from ._wire import Call, ErrorAnswer
from ._wire_anthropic import AnthropicWire

__all__ = ["LIST_BODY", "VertexWire"]

LIST_BODY = "list"
"""The ``error_code`` that wraps a Vertex error body in a JSON list."""

_ROUTE = re.compile(
    r"/v1/projects/(?P<project>[^/]+)/locations/(?P<region>[^/]+)"
    r"/publishers/anthropic/models/(?P<model>[^/]+):(?P<verb>rawPredict|streamRawPredict)"
)
_MODEL = "projects/{project}/locations/{region}/publishers/anthropic/models/{model}"
_QUOTA = (
    "Quota exceeded for aiplatform.googleapis.com/{metric} with base model: {model}. "
    "Please submit a quota increase request. "
    "https://cloud.google.com/vertex-ai/docs/generative-ai/quotas-genai."
)
_UNAUTHENTICATED = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential. "
    "See https://developers.google.com/identity/sign-in/web/devconsole-project."
)

# status -> (status name, message)
_STATUS: dict[int, tuple[str, str]] = {
    400: ("INVALID_ARGUMENT", "Request contains an invalid argument."),
    401: ("UNAUTHENTICATED", _UNAUTHENTICATED),
    403: (
        "PERMISSION_DENIED",
        f"Permission 'aiplatform.endpoints.predict' denied on resource "
        f"'//aiplatform.googleapis.com/{_MODEL}' (or it may not exist).",
    ),
    404: ("NOT_FOUND", f"Publisher Model `{_MODEL}` not found."),
    409: ("ABORTED", "The operation was aborted."),
    429: (
        "RESOURCE_EXHAUSTED",
        _QUOTA.replace("{metric}", "online_prediction_requests_per_base_model"),
    ),
    499: ("CANCELLED", "The operation was cancelled."),
    500: ("INTERNAL", "Internal error encountered."),
    501: ("UNIMPLEMENTED", "Operation is not implemented, or supported, or enabled."),
    503: ("UNAVAILABLE", "The service is currently unavailable."),
    504: ("DEADLINE_EXCEEDED", "Deadline expired before operation could complete."),
}
_KINDS: dict[str, tuple[int, str, str]] = {
    "rate_limit": (429, *_STATUS[429]),
    "quota": (
        429,
        "RESOURCE_EXHAUSTED",
        _QUOTA.replace("{metric}", "online_prediction_tokens_per_minute_per_base_model"),
    ),
}
_ANTHROPIC_KINDS = frozenset({"overloaded", "context_length", "content_filter"})


class VertexWire(AnthropicWire):
    """Renders replies and faults as Claude on Vertex AI does."""

    api = "vertex"
    path = (
        "/v1/projects/<project>/locations/<region>/publishers/anthropic/models/<model>:rawPredict"
    )
    required = ("anthropic_version", "messages", "max_tokens")

    def route(
        self, method: str, path: str, query: str, headers: Mapping[str, str]
    ) -> ErrorAnswer | None:
        if method != "POST" or _ROUTE.fullmatch(path) is None:
            return self.not_found(method, path)
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme != "Bearer" or not token.strip():
            return _error(401, *_STATUS[401])
        return None

    def call(self, seq: int, path: str, body: Any) -> Call:
        base = Call.from_body(seq, body)
        found = _ROUTE.fullmatch(path)
        if found is None:
            return base
        route = {name: found[name] for name in ("project", "region", "model")}
        stream = found["verb"] == "streamRawPredict"
        return dataclasses.replace(base, model=found["model"], stream=stream, route=route)

    def error(self, fault: Fault, call: Call) -> ErrorAnswer | Reply:
        if fault.kind in _ANTHROPIC_KINDS or fault.status_code == 529:
            return super().error(fault, call)  # Claude's own answer, passed through
        if fault.kind in _KINDS:
            status, name, message = _KINDS[fault.kind]
        else:
            status = fault.status_code or 500
            name, message = _STATUS.get(status) or _STATUS[500 if status >= 500 else 400]
        text = fault.message or message
        for key, value in {"model": call.model, **call.route}.items():
            text = text.replace(f"{{{key}}}", value)
        return _error(status, fault.error_type or name, text, fault.error_code)

    def not_found(self, method: str, path: str) -> ErrorAnswer:
        return _error(404, "NOT_FOUND", f"The requested URL {path} was not found on this server.")

    def bad_json(self) -> ErrorAnswer:
        return _error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")


def _error(status: int, name: str, message: str, error_code: str | None = None) -> ErrorAnswer:
    error: dict[str, Any] = {"code": status, "message": message, "status": name}
    if error_code is not None and error_code != LIST_BODY:
        reason = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": error_code}
        error["details"] = [{**reason, "domain": "aiplatform.googleapis.com"}]
    body = {"error": error}
    return ErrorAnswer(status, [body] if error_code == LIST_BODY else body)
