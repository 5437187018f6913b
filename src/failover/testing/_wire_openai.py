"""OpenAI Chat Completions on the wire: ``POST /v1/chat/completions``, JSON or SSE.

Streams follow the real API: a role-only first chunk, content deltas, tool-call deltas
(``index``/``id``/``function.name`` first, then ``function.arguments`` fragments), a
final chunk with an empty delta and the finish_reason, an optional usage chunk with
``choices: []`` (``stream_options.include_usage``), and ``data: [DONE]``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from ._faults import Fault
from ._reply import Reply, ToolCall
from ._wire import Call, ErrorAnswer, Event, EventRole, SseWire, dumps, finish_reason

__all__ = ["OpenAIWire", "tool_call_id"]

_SERVER_ERROR = "The server had an error while processing your request. Sorry about that!"

# status -> (error.type, error.code, message); anything unlisted falls back by class.
_STATUS_DEFAULTS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: (
        "invalid_request_error",
        "invalid_api_key",
        "Incorrect API key provided. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
    ),
    403: ("invalid_request_error", None, "You are not allowed to perform this request."),
    404: ("invalid_request_error", "model_not_found", "The model `{model}` does not exist."),
    409: ("invalid_request_error", None, "The request conflicted with another request."),
    422: ("invalid_request_error", None, "The request could not be processed."),
    429: (
        "requests",
        "rate_limit_exceeded",
        "Rate limit reached for {model} on requests per min (RPM). Please try again in 1s.",
    ),
    503: ("server_error", None, "The server is overloaded or not ready yet."),
}

# Error-kind faults other than "status": (status, type, code, param, message).
_KIND_DEFAULTS: dict[str, tuple[int, str, str | None, str | None, str]] = {
    "rate_limit": (429, "requests", "rate_limit_exceeded", None, _STATUS_DEFAULTS[429][2]),
    "quota": (
        429,
        "insufficient_quota",
        "insufficient_quota",
        None,
        "You exceeded your current quota, please check your plan and billing details.",
    ),
    "context_length": (
        400,
        "invalid_request_error",
        "context_length_exceeded",
        "messages",
        "This model's maximum context length is 128000 tokens. However, your messages "
        "resulted in 210000 tokens. Please reduce the length of the messages.",
    ),
    "content_filter": (
        400,
        "invalid_request_error",
        "content_filter",
        "prompt",
        "The response was filtered due to the prompt triggering the content management "
        "policy. Please modify your prompt and retry.",
    ),
    "overloaded": (
        503,
        "server_error",
        None,
        None,
        "The engine is currently overloaded, please try again later.",
    ),
}


class OpenAIWire(SseWire):
    """Renders replies and faults as the OpenAI API does."""

    api = "openai"
    path = "/v1/chat/completions"
    request_id_header = "x-request-id"
    inband_status = 500
    keepalive = b": keep-alive\n\n"

    # -- errors ----------------------------------------------------------------------

    required = ("model", "messages")  # a 400 names the first one missing

    def validate(self, call: Call) -> ErrorAnswer | None:
        for name in self.required:
            if name not in call.body:
                message = f"Missing required parameter: '{name}'."
                return _error(
                    400, "invalid_request_error", "missing_required_parameter", name, message
                )
        return None

    def error(self, fault: Fault, call: Call) -> ErrorAnswer:
        if fault.kind == "status" and fault.status_code is not None:
            status = fault.status_code
            kind, code, message = _status_defaults(status)
            param = None
        else:
            status, kind, code, param, message = _KIND_DEFAULTS[fault.kind]
        return _error(
            status,
            fault.error_type or kind,
            fault.error_code or code,
            param,
            (fault.message or message).replace("{model}", call.model),
        )

    def route(
        self, method: str, path: str, query: str, headers: Mapping[str, str]
    ) -> ErrorAnswer | None:
        return None if method == "POST" and path == self.path else self.not_found(method, path)

    def not_found(self, method: str, path: str) -> ErrorAnswer:
        message = f"Invalid URL ({method} {path})"
        return _error(404, "invalid_request_error", None, None, message)

    def bad_json(self) -> ErrorAnswer:
        message = "We could not parse the JSON body of your request."
        return _error(400, "invalid_request_error", None, None, message)

    # -- non-streaming -------------------------------------------------------------

    def message(self, call: Call, reply: Reply, *, finished: bool = True) -> dict[str, Any]:
        message: dict[str, Any] = {
            "role": "assistant",
            "content": reply.text or None,
            "refusal": None,
        }
        if reply.tool_calls:
            message["tool_calls"] = [
                _tool_call(call, i, tc) for i, tc in enumerate(reply.tool_calls)
            ]
        choice = {
            "index": 0,
            "message": message,
            "logprobs": None,
            "finish_reason": finish_reason(reply, api="openai") if finished else None,
        }
        return {
            **_envelope(call, "chat.completion"),
            "choices": [choice],
            "usage": _usage(call, reply.chunk_count()),
        }

    def empty_message(self, call: Call) -> dict[str, Any]:
        return {**_envelope(call, "chat.completion"), "choices": [], "usage": _usage(call, 0)}

    # -- streaming -------------------------------------------------------------------

    def events(self, call: Call, reply: Reply) -> list[Event]:
        events = [_chunk(call, {"role": "assistant", "content": "", "refusal": None})]
        events += [_chunk(call, {"content": piece}, "content") for piece in reply.text_chunks()]
        for index, tool_call in enumerate(reply.tool_calls):
            events += _tool_call_events(call, reply, index, tool_call)
        events.append(_chunk(call, {}, "tail", finish_reason(reply, api="openai")))
        if call.include_usage:
            usage = _usage(call, reply.chunk_count())
            events.append(_raw(call, {"choices": [], "usage": usage}, "tail"))
        events.append(Event("[DONE]", role="tail"))
        return events

    def empty_events(self, call: Call) -> list[Event]:
        return [_raw(call, {"choices": []}, "frame"), Event("[DONE]", role="tail")]


def _status_defaults(status: int) -> tuple[str, str | None, str]:
    if status in _STATUS_DEFAULTS:
        return _STATUS_DEFAULTS[status]
    if status >= 500:
        return "server_error", None, _SERVER_ERROR
    return "invalid_request_error", None, f"Request failed with status {status}."


def _error(
    status: int, kind: str, code: str | None, param: str | None, message: str
) -> ErrorAnswer:
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return ErrorAnswer(status, body)


def _envelope(call: Call, obj: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-fake{call.seq:06d}",
        "object": obj,
        "created": int(time.time()),
        "model": call.model,
        "system_fingerprint": "fp_fake",
    }


def _usage(call: Call, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": call.prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": call.prompt_tokens + completion_tokens,
    }


def tool_call_id(call: Call, index: int, tool_call: ToolCall) -> str:
    """The call id the model gives: the scripted one, else one fixed by request and index
    (shared with the Responses wire, so both APIs name a reply's calls alike)."""
    return tool_call.id or f"call_fake{call.seq:06d}_{index}"


def _tool_call(call: Call, index: int, tool_call: ToolCall) -> dict[str, Any]:
    return {
        "id": tool_call_id(call, index, tool_call),
        "type": "function",
        "function": {"name": tool_call.name, "arguments": tool_call.arguments_json()},
    }


def _tool_call_events(call: Call, reply: Reply, index: int, tool_call: ToolCall) -> list[Event]:
    opening = {
        "index": index,
        "id": tool_call_id(call, index, tool_call),
        "type": "function",
        "function": {"name": tool_call.name, "arguments": ""},
    }
    events = [_chunk(call, {"tool_calls": [opening]})]
    for fragment in reply.argument_chunks(tool_call):
        delta = {"tool_calls": [{"index": index, "function": {"arguments": fragment}}]}
        events.append(_chunk(call, delta, "content"))
    return events


def _chunk(
    call: Call, delta: dict[str, Any], role: EventRole = "frame", finish: str | None = None
) -> Event:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    return _raw(call, {"choices": [choice]}, role)


def _raw(call: Call, fields: dict[str, Any], role: EventRole) -> Event:
    chunk = {**_envelope(call, "chat.completion.chunk"), **fields}
    if call.include_usage:
        chunk.setdefault("usage", None)
    return Event(dumps(chunk), role=role)
