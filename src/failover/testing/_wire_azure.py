"""Azure OpenAI on the wire: OpenAI's Chat Completions behind Azure's routes and errors.

What differs from OpenAI, as Azure serves it (FACTS.md; the error bodies as users report them):

* The route names a deployment, not a model, and needs the API version:
  ``POST /openai/deployments/<deployment>/chat/completions?api-version=2024-10-21``.
  Without ``api-version`` Azure answers 404 "Resource not found"; an unknown deployment
  is 404 ``DeploymentNotFound``.
* The key comes in an ``api-key`` header (or an Entra ID bearer token); without one,
  401 "Access denied due to invalid subscription key...".
* Error bodies carry a string ``code`` and a ``message``, no OpenAI ``type``.
* Answers carry content-filter results, and a stream opens with a chunk whose
  ``choices`` are empty and that holds only ``prompt_filter_results``.

The Responses API (:class:`AzureResponsesWire`) keeps Azure's key check and error bodies
but not the deployment route: Azure serves it at ``/openai/v1/responses``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from ._faults import Fault
from ._reply import Reply
from ._wire import Call, ErrorAnswer, Event, dumps
from ._wire_openai import OpenAIWire
from ._wire_responses import Flavour, ResponsesWire

__all__ = ["AzureResponsesWire", "AzureWire"]

_ROUTE = re.compile(r"/openai/deployments/(?P<deployment>[^/]+)/chat/completions")
_FILTERED_OK = {
    severity: {"filtered": False, "severity": "safe"}
    for severity in ("hate", "self_harm", "sexual", "violence")
}
_SERVER_ERROR = "The server had an error processing your request. Sorry about that!"

# status -> (code, message); Azure's bodies for the statuses it commonly sends.
_STATUS: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "Invalid request."),
    401: (
        "401",
        "Access denied due to invalid subscription key or wrong API endpoint. Make sure to "
        "provide a valid key for an active subscription and use a correct regional API "
        "endpoint for your resource.",
    ),
    403: ("403", "Access denied: the resource does not allow this request."),
    404: (
        "DeploymentNotFound",
        "The API deployment for this resource does not exist. If you created the "
        "deployment within the last 5 minutes, please wait a moment and try again.",
    ),
    429: (
        "429",
        "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version "
        "2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. "
        "Please retry after 1 second.",
    ),
    500: ("InternalServerError", _SERVER_ERROR),
    503: ("ServiceUnavailable", "The service is temporarily unable to process your request."),
}
_KINDS: dict[str, tuple[int, str, str]] = {
    "rate_limit": (429, *_STATUS[429]),
    "quota": (
        403,
        "InsufficientQuota",
        "This operation would exceed the quota of this subscription; request more quota.",
    ),
    "context_length": (
        400,
        "context_length_exceeded",
        "This model's maximum context length is 128000 tokens. However, your messages "
        "resulted in 210000 tokens. Please reduce the length of the messages.",
    ),
    "content_filter": (
        400,
        "content_filter",
        "The response was filtered due to the prompt triggering Azure OpenAI's content "
        "management policy. Please modify your prompt and retry.",
    ),
    "overloaded": (503, *_STATUS[503]),
}


class AzureWire(OpenAIWire):
    """Renders replies and faults as Azure OpenAI does; ``deployment`` None takes any."""

    path = "/openai/deployments/<deployment>/chat/completions"

    def __init__(self, deployment: str | None = None) -> None:
        self.deployment = deployment

    def route(
        self, method: str, path: str, query: str, headers: Mapping[str, str]
    ) -> ErrorAnswer | None:
        found = _ROUTE.fullmatch(path)
        if method != "POST" or found is None or "api-version" not in parse_qs(query):
            return self.not_found(method, path)
        refused = _keyless(headers)
        if refused is not None:
            return refused
        if self.deployment is not None and found["deployment"] != self.deployment:
            return _error(404, *_STATUS[404])
        return None

    def error(self, fault: Fault, call: Call) -> ErrorAnswer:
        if fault.kind == "status" and fault.status_code is not None:
            status = fault.status_code
            code, message = _STATUS.get(status, (str(status), _SERVER_ERROR))
        else:
            status, code, message = _KINDS[fault.kind]
        error: dict[str, Any] = {
            "code": fault.error_code or code,
            "message": fault.message or message,
        }
        if code == "content_filter":
            error["innererror"] = {
                "code": "ResponsibleAIPolicyViolation",
                "content_filter_result": {**_FILTERED_OK, "violence": _FLAGGED},
            }
        return ErrorAnswer(status, {"error": error})

    def not_found(self, method: str, path: str) -> ErrorAnswer:
        return _error(404, "404", "Resource not found")

    def message(self, call: Call, reply: Reply, *, finished: bool = True) -> dict[str, Any]:
        body = super().message(call, reply, finished=finished)
        for choice in body["choices"]:
            choice["content_filter_results"] = _FILTERED_OK
        return {"prompt_filter_results": _prompt_filter_results(), **body}

    def events(self, call: Call, reply: Reply) -> list[Event]:
        opening = {
            "choices": [],
            "created": 0,
            "id": "",
            "model": "",
            "object": "",
            "prompt_filter_results": _prompt_filter_results(),
        }
        return [Event(dumps(opening)), *super().events(call, reply)]


class AzureResponsesWire(ResponsesWire, AzureWire):
    """The Responses API as Azure serves it, with Azure's key check and error bodies.

    Two routes: the v1 one, ``/openai/v1/responses`` (the plain ``openai.OpenAI`` client with
    ``base_url=<endpoint>/openai/v1``: no ``api-version``, the body's model names the
    deployment), and the older ``/openai/responses?api-version=...`` that
    ``openai.AzureOpenAI`` calls. With ``deployment`` set, another model gets Azure's 404.
    """

    path = "/openai/v1/responses"
    paths = (path, "/openai/responses")

    def __init__(self, flavour: Flavour = "openai", deployment: str | None = None) -> None:
        ResponsesWire.__init__(self, flavour)
        self.deployment = deployment

    def route(
        self, method: str, path: str, query: str, headers: Mapping[str, str]
    ) -> ErrorAnswer | None:
        versioned = path == self.path or "api-version" in parse_qs(query)
        if method != "POST" or path not in self.paths or not versioned:
            return self.not_found(method, path)
        return _keyless(headers)

    def validate(self, call: Call) -> ErrorAnswer | None:
        invalid = super().validate(call)
        if invalid is None and self.deployment not in (None, call.model):
            return _error(404, *_STATUS[404])
        return invalid


def _keyless(headers: Mapping[str, str]) -> ErrorAnswer | None:
    """Azure's 401 for a request with neither an ``api-key`` nor a bearer token."""
    if not headers.get("api-key") and not headers.get("authorization"):
        return _error(401, *_STATUS[401])
    return None


_FLAGGED = {"filtered": True, "severity": "high"}


def _prompt_filter_results() -> list[dict[str, Any]]:
    return [{"prompt_index": 0, "content_filter_results": _FILTERED_OK}]


def _error(status: int, code: str, message: str) -> ErrorAnswer:
    return ErrorAnswer(status, {"error": {"code": code, "message": message}})
