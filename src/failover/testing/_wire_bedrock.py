"""Claude on AWS Bedrock on the wire, as ``anthropic.AnthropicBedrock`` calls it.

What differs from Anthropic's own API (FACTS.md, "Claude on Bedrock and Vertex AI"):

* ``POST /model/<model-id>/invoke`` answers an Anthropic message as JSON and
  ``POST /model/<model-id>/invoke-with-response-stream`` streams. The model id is
  URL-quoted in the path (``us.anthropic.claude-...-v1:0``, or an ARN with ``%2F``); the
  body has no ``model`` and no ``stream`` (400 if it has them) and needs
  ``anthropic_version``, ``messages`` and ``max_tokens``.
* Auth is an ``Authorization`` header, SigV4 (``AWS4-HMAC-SHA256 ...``) or ``Bearer``;
  signatures are not checked. Anything else is 403 ``UnrecognizedClientException``.
* Streams are AWS event-stream frames (``_eventstream.py``): each Anthropic stream event
  goes base64-encoded in a ``chunk`` frame's ``{"bytes": ...}``, and
  ``amazon-bedrock-invocationMetrics`` rides on ``message_stop``. A mid-stream error is
  an ``exception`` frame whose ``:exception-type`` is the error name in lower camel case
  (``internalServerException``; a fault's ``error_type`` picks another). botocore knows
  only the stream's own exceptions (``internalServerException``, ``throttlingException``,
  ``validationException``, ``modelStreamErrorException``, ``modelTimeoutException``,
  ``serviceUnavailableException``) and reads any other as an empty code and message.
  The anthropic SDK raises a bare ``APIStatusError`` (status 200, ``type`` the exception).
  Bedrock sends no keep-alive, so ``Fault.keepalive`` sends the headers and then nothing
  until the answer.
* Errors are ``{"message": ...}`` with the name in ``x-amzn-ErrorType``
  (``ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/``) and an
  ``x-amzn-RequestId``; a fault's ``error_type`` replaces the name. Note the quota
  error is a 400. Bedrock sends no rate-limit headroom headers.
"""

from __future__ import annotations

import base64
import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from ._eventstream import chunk_frame, exception_frame
from ._faults import Fault
from ._reply import Reply
from ._wire import Call, ErrorAnswer, Event, dumps
from ._wire_anthropic import AnthropicWire

__all__ = ["BedrockWire"]

_ROUTE = re.compile(r"/model/(?P<model>.+)/(?P<op>invoke|invoke-with-response-stream)")
_CORAL = "http://internal.amazon.com/coral/com.amazon.bedrock/"
_RETRY = "Try your request again."
_MALFORMED = "Malformed input request: {}, please reformat your input and try again."

# status -> (exception name, message)
_STATUS: dict[int, tuple[str, str]] = {
    400: ("ValidationException", _MALFORMED.format("#: invalid request")),
    401: ("UnrecognizedClientException", "The security token included in the request is invalid."),
    403: (
        "AccessDeniedException",
        "You don't have access to the model with the specified model ID.",
    ),
    404: (
        "ResourceNotFoundException",
        "Could not resolve the foundation model from the provided model identifier.",
    ),
    408: ("ModelTimeoutException", f"Model has timed out in processing the request. {_RETRY}"),
    424: ("ModelErrorException", f"The model returned an error while processing. {_RETRY}"),
    429: ("ThrottlingException", "Too many requests, please wait before trying again."),
    500: (
        "InternalServerException",
        f"The system encountered an unexpected error during processing. {_RETRY}",
    ),
    503: ("ServiceUnavailableException", "Bedrock is unable to process your request."),
}
_KINDS: dict[str, tuple[int, str, str]] = {
    "rate_limit": (429, *_STATUS[429]),
    "quota": (
        400,
        "ServiceQuotaExceededException",
        "Your request exceeds the service quota for your account. You can view your quotas "
        "at https://console.aws.amazon.com/servicequotas/.",
    ),
    "context_length": (
        400,
        "ValidationException",
        "prompt is too long: 210000 tokens > 200000 maximum",
    ),
    "overloaded": (503, *_STATUS[503]),
}

# exception name -> message, for a fault that names the exception (``error_type``)
_MESSAGES: dict[str, str] = {
    **dict(_STATUS.values()),
    "ServiceQuotaExceededException": _KINDS["quota"][2],
    "ModelNotReadyException": f"Model is not ready for inference. Wait and {_RETRY.lower()}",
    "ModelStreamErrorException": f"The model stream was interrupted. {_RETRY}",
}


class BedrockWire(AnthropicWire):
    """Renders replies and faults as Claude on Bedrock does."""

    api = "bedrock"
    path = "/model/<model-id>/invoke"
    request_id_header = "x-amzn-RequestId"
    inband_status = 500
    keepalive = b""
    stream_content_type = "application/vnd.amazon.eventstream"

    def route(
        self, method: str, path: str, query: str, headers: Mapping[str, str]
    ) -> ErrorAnswer | None:
        if method != "POST" or _ROUTE.fullmatch(path) is None:
            return self.not_found(method, path)
        scheme = headers.get("authorization", "").partition(" ")[0]
        if scheme not in ("AWS4-HMAC-SHA256", "Bearer"):
            return _error(403, *_STATUS[401])  # Bedrock's answer to a missing signature
        return None

    def call(self, seq: int, path: str, body: Any) -> Call:
        base = Call.from_body(seq, body)
        found = _ROUTE.fullmatch(path)
        if found is None:
            return base
        stream = found["op"] == "invoke-with-response-stream"
        return dataclasses.replace(
            base, model=found["model"], stream=stream, route={"model": found["model"]}
        )

    def validate(self, call: Call) -> ErrorAnswer | None:
        for name in ("anthropic_version", "messages", "max_tokens"):
            if name not in call.body:
                problem = f"#: required key [{name}] not found"
                return _error(400, "ValidationException", _MALFORMED.format(problem))
        for name in ("model", "stream"):
            if name in call.body:
                problem = f"#: extraneous key [{name}] is not permitted"
                return _error(400, "ValidationException", _MALFORMED.format(problem))
        return None

    def error(self, fault: Fault, call: Call) -> ErrorAnswer | Reply:
        if fault.kind == "content_filter":
            return Reply(text="", finish_reason="refusal")
        if fault.kind in _KINDS:
            status, name, message = _KINDS[fault.kind]
        else:
            status = fault.status_code or 500
            name, message = _STATUS.get(status) or _STATUS[500 if status >= 500 else 400]
        if fault.error_type:  # the message that belongs to the name the fault gives
            name, message = fault.error_type, _MESSAGES.get(fault.error_type, message)
        return _error(status, name, (fault.message or message).replace("{model}", call.model))

    def not_found(self, method: str, path: str) -> ErrorAnswer:
        return _error(404, "UnknownOperationException", f"Unknown operation: {method} {path}")

    def bad_json(self) -> ErrorAnswer:
        return _error(400, "ValidationException", _MALFORMED.format("#: expected a JSON object"))

    # -- streams ------------------------------------------------------------------------

    def events(self, call: Call, reply: Reply) -> list[Event]:
        return _with_metrics(super().events(call, reply), call, reply.chunk_count())

    def empty_events(self, call: Call) -> list[Event]:
        return _with_metrics(super().empty_events(call), call, 0)

    def error_event(self, error: ErrorAnswer, call: Call, sent: int) -> Event:
        name = dict(error.headers).get("x-amzn-ErrorType", "InternalServerException")
        name = name.partition(":")[0]
        return Event(dumps(error.body), name=name[:1].lower() + name[1:], role="error")

    def encode(self, event: Event) -> bytes:
        if event.role == "error":
            return exception_frame(event.name or "internalServerException", event.data.encode())
        encoded = base64.b64encode(event.data.encode()).decode("ascii")
        return chunk_frame(dumps({"bytes": encoded}).encode())


def _with_metrics(events: list[Event], call: Call, output_tokens: int) -> list[Event]:
    """``message_stop`` as Bedrock sends it: with the invocation's metrics."""
    metrics = {
        "inputTokenCount": call.prompt_tokens,
        "outputTokenCount": output_tokens,
        "invocationLatency": 0,
        "firstByteLatency": 0,
    }
    data = dumps({"type": "message_stop", "amazon-bedrock-invocationMetrics": metrics})
    return [dataclasses.replace(e, data=data) if e.name == "message_stop" else e for e in events]


def _error(status: int, name: str, message: str) -> ErrorAnswer:
    return ErrorAnswer(status, {"message": message}, (("x-amzn-ErrorType", f"{name}:{_CORAL}"),))
