"""Anthropic Messages on the wire: ``POST /v1/messages``, JSON or named SSE events.

Streams follow the real API: ``message_start``, a ``ping``, then per content block
``content_block_start`` / ``content_block_delta`` (``text_delta`` or
``input_json_delta``) / ``content_block_stop``, then ``message_delta`` (stop_reason and
usage) and ``message_stop``. Errors are ``{"type": "error", "error": {"type", "message"}}``
with the error type that belongs to the status.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from ._faults import Fault
from ._reply import Reply, ToolCall
from ._wire import Call, ErrorAnswer, Event, EventRole, SseWire, dumps, finish_reason

__all__ = ["AnthropicWire"]

# status -> (error.type, message)
_STATUS_DEFAULTS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "Invalid request."),
    401: ("authentication_error", "invalid x-api-key"),
    402: ("billing_error", "Your credit balance is too low to access the Anthropic API."),
    403: ("permission_error", "Your API key does not have permission to use this resource."),
    404: ("not_found_error", "model: {model}"),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit."),
    500: ("api_error", "Internal server error"),
    504: ("timeout_error", "Request timed out"),
    529: ("overloaded_error", "Overloaded"),
}


class AnthropicWire(SseWire):
    """Renders replies and faults as the Anthropic API does."""

    api = "anthropic"
    path = "/v1/messages"
    request_id_header = "request-id"
    error_event_name: str | None = "error"
    inband_status = 529
    keepalive = b'event: ping\ndata: {"type": "ping"}\n\n'

    # -- errors ----------------------------------------------------------------------

    required = ("model", "messages", "max_tokens")  # a 400 names the first one missing

    def validate(self, call: Call) -> ErrorAnswer | None:
        for name in self.required:
            if name not in call.body:
                return _error(400, "invalid_request_error", f"{name}: Field required", call)
        return None

    def error(self, fault: Fault, call: Call) -> ErrorAnswer | Reply:
        if fault.kind == "content_filter":
            return Reply(text="", finish_reason="refusal")
        status, kind, message, code = _kind_defaults(fault)
        return _error(
            status,
            fault.error_type or kind,
            (fault.message or message).replace("{model}", call.model),
            call,
            fault.error_code or code,
        )

    def route(
        self, method: str, path: str, query: str, headers: Mapping[str, str]
    ) -> ErrorAnswer | None:
        return None if method == "POST" and path == self.path else self.not_found(method, path)

    def not_found(self, method: str, path: str) -> ErrorAnswer:
        return _error(404, "not_found_error", f"Not Found: {method} {path}", None)

    def bad_json(self) -> ErrorAnswer:
        return _error(400, "invalid_request_error", "The request body is not valid JSON.", None)

    # -- non-streaming -------------------------------------------------------------

    def message(self, call: Call, reply: Reply, *, finished: bool = True) -> dict[str, Any]:
        content: list[dict[str, Any]] = [{"type": "text", "text": reply.text}] if reply.text else []
        content += [_tool_use(call, i, tc, tc.arguments) for i, tc in enumerate(reply.tool_calls)]
        stop = finish_reason(reply, api="anthropic") if finished else None
        return _message(call, content, stop, reply.chunk_count())

    def empty_message(self, call: Call) -> dict[str, Any]:
        return _message(call, [], "end_turn", 0)

    # -- streaming -------------------------------------------------------------------

    def events(self, call: Call, reply: Reply) -> list[Event]:
        events = _opening(call)
        blocks = 0
        if reply.text:
            events += _text_block(blocks, reply)
            blocks += 1
        for i, tool_call in enumerate(reply.tool_calls):
            events += _tool_block(blocks + i, i, call, reply, tool_call)
        return events + _closing(finish_reason(reply, api="anthropic"), reply.chunk_count())

    def empty_events(self, call: Call) -> list[Event]:
        return _opening(call) + _closing("end_turn", 0)


def _kind_defaults(fault: Fault) -> tuple[int, str, str, str | None]:
    """(status, error type, message, details.error_code) for an error-kind fault."""
    if fault.kind == "quota":
        return 429, "rate_limit_error", _spend_limit_message(), "enforced_spend_limit_reached"
    if fault.kind == "context_length":
        message = "prompt is too long: 210000 tokens > 200000 maximum"
        return 400, "invalid_request_error", message, None
    status = {"rate_limit": 429, "overloaded": 529}.get(fault.kind, fault.status_code or 500)
    kind, message = _STATUS_DEFAULTS.get(status) or (
        ("api_error", "Internal server error")
        if status >= 500
        else ("invalid_request_error", f"Request failed with status {status}.")
    )
    return status, kind, message, None


def _spend_limit_message() -> str:
    """Anthropic's wording; access returns on the first of next month."""
    today = dt.datetime.now(dt.UTC).date()
    first = (today.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return (
        "You have reached your API usage limits: your organization has crossed its monthly "
        f"API usage threshold. You will regain access on {first.isoformat()} at 00:00 UTC."
    )


def _error(
    status: int, kind: str, message: str, call: Call | None, error_code: str | None = None
) -> ErrorAnswer:
    error: dict[str, Any] = {"type": kind, "message": message}
    if error_code is not None:
        error["details"] = {"error_code": error_code}
    request_id = f"req_fake{call.seq:06d}" if call else "req_fake"
    return ErrorAnswer(status, {"type": "error", "error": error, "request_id": request_id})


def _message(
    call: Call, content: list[dict[str, Any]], stop: str | None, output_tokens: int
) -> dict[str, Any]:
    return {
        "id": f"msg_fake{call.seq:06d}",
        "type": "message",
        "role": "assistant",
        "model": call.model,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {"input_tokens": call.prompt_tokens, "output_tokens": output_tokens},
    }


def _tool_use(call: Call, index: int, tool_call: ToolCall, arguments: Any) -> dict[str, Any]:
    tool_id = tool_call.id or f"toolu_fake{call.seq:06d}_{index}"
    return {"type": "tool_use", "id": tool_id, "name": tool_call.name, "input": dict(arguments)}


def _event(name: str, role: EventRole = "frame", **fields: Any) -> Event:
    return Event(dumps({"type": name, **fields}), name=name, role=role)


def _opening(call: Call) -> list[Event]:
    message = _message(call, [], None, 1)
    return [_event("message_start", message=message), _event("ping")]


def _closing(stop: str, output_tokens: int) -> list[Event]:
    delta = {"stop_reason": stop, "stop_sequence": None}
    return [
        _event("message_delta", "tail", delta=delta, usage={"output_tokens": output_tokens}),
        _event("message_stop", "tail"),
    ]


def _text_block(index: int, reply: Reply) -> list[Event]:
    start = _event("content_block_start", index=index, content_block={"type": "text", "text": ""})
    deltas = [
        _event(
            "content_block_delta",
            "content",
            index=index,
            delta={"type": "text_delta", "text": piece},
        )
        for piece in reply.text_chunks()
    ]
    return [start, *deltas, _event("content_block_stop", index=index)]


def _tool_block(
    index: int, tool_index: int, call: Call, reply: Reply, tool_call: ToolCall
) -> list[Event]:
    block = _tool_use(call, tool_index, tool_call, {})
    start = _event("content_block_start", index=index, content_block=block)
    deltas = [
        _event(
            "content_block_delta",
            "content",
            index=index,
            delta={"type": "input_json_delta", "partial_json": fragment},
        )
        for fragment in reply.argument_chunks(tool_call)
    ]
    return [start, *deltas, _event("content_block_stop", index=index)]
