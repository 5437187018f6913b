"""A native Responses stream seen as chat chunks, so that the chat streams' machinery
(first-token deadline, idle limit, hedging, the verdict on the target) drives it too
(``OpenAIAdapter.respond_stream``).

Each Responses event becomes an :class:`EventChunk`, which reads like a
``ChatCompletionChunk`` to that machinery (a delta with the event's text, refusal or
tool call, the finish and usage) and carries the event itself, to be handed to the
caller as it came. An ``error`` event or a ``response.failed`` is the vendor's failure,
raised as a fault, so that before the first content the call fails over.

The chunks are plain slotted objects, not pydantic models: a stream has about twice
as many events as chat chunks, most of them mean nothing to the machinery, and three
validated models per event cost more than the rest of failover's work on it.
"""

from __future__ import annotations

from typing import Any, Literal

from openai.types.completion_usage import CompletionUsage

from .._core.decisions import ErrorKind, Failure
from ._errors import ProviderFault

__all__ = ["EventChunk", "EventReader"]

Finish = Literal["stop", "length", "tool_calls", "content_filter"]

_KINDS = {
    "rate_limit_exceeded": ErrorKind.RATE_LIMIT,
    "insufficient_quota": ErrorKind.QUOTA,
    "context_length_exceeded": ErrorKind.CONTEXT_LENGTH,
    "content_filter": ErrorKind.CONTENT_FILTER,
    "invalid_prompt": ErrorKind.BAD_REQUEST,
}


class _Function:
    __slots__ = ("arguments", "name")

    def __init__(self, name: str | None, arguments: str | None) -> None:
        self.name, self.arguments = name, arguments


class _ToolCall:
    __slots__ = ("function", "id", "index", "type")

    def __init__(self, index: int, call_id: str | None, function: _Function) -> None:
        self.index, self.id, self.function, self.type = index, call_id, function, "function"


class _Delta:
    __slots__ = ("content", "refusal", "role", "tool_calls")

    def __init__(
        self,
        content: str | None = None,
        refusal: str | None = None,
        tool_calls: list[_ToolCall] | None = None,
    ) -> None:
        self.content, self.refusal, self.tool_calls, self.role = content, refusal, tool_calls, None


class _Choice:
    __slots__ = ("delta", "finish_reason", "index")

    def __init__(self, delta: _Delta, finish_reason: Finish | None) -> None:
        self.index, self.delta, self.finish_reason = 0, delta, finish_reason


class EventChunk:
    """A chat chunk's reading of one native Responses event (``event``)."""

    __slots__ = ("choices", "created", "event", "id", "model", "usage")

    def __init__(
        self,
        reader: EventReader,
        event: Any,
        choices: list[_Choice],
        usage: CompletionUsage | None = None,
    ) -> None:
        self.id, self.model, self.created = reader.id, reader.model, reader.created
        self.choices, self.usage, self.event = choices, usage, event

    def model_copy(self, *, update: dict[str, Any] | None = None) -> EventChunk:
        """A copy with ``update`` applied, as the stream's tally asks of a chunk whose
        id differs from the stream's (a stream that did not open with its response)."""
        copied = object.__new__(EventChunk)
        for name in self.__slots__:
            setattr(copied, name, (update or {}).get(name, getattr(self, name)))
        return copied


_NONE: list[_Choice] = []  # shared by the events that carry no delta (never mutated)


class EventReader:
    """Reads one stream's events into chunks; keeps what later events need (the
    stream's id and model, whether it called tools)."""

    def __init__(self) -> None:
        self.id, self.model, self.created = "resp", "", 0
        self.calls = False

    def chunk(self, event: Any) -> EventChunk:
        kind = event.type
        if kind == "response.output_text.delta":
            return EventChunk(self, event, [_Choice(_Delta(content=event.delta), None)])
        if kind == "response.function_call_arguments.delta":
            call = _ToolCall(event.output_index, None, _Function(None, event.delta))
            return EventChunk(self, event, [_Choice(_Delta(tool_calls=[call]), None)])
        if kind == "response.refusal.delta":
            return EventChunk(self, event, [_Choice(_Delta(refusal=event.delta), None)])
        if kind == "response.output_item.added" and event.item.type == "function_call":
            self.calls = True
            item = event.item
            call = _ToolCall(event.output_index, item.call_id, _Function(item.name, None))
            return EventChunk(self, event, [_Choice(_Delta(tool_calls=[call]), None)])
        if kind in ("response.created", "response.in_progress"):
            response = event.response
            self.id, self.model, self.created = response.id, response.model, response.created_at
        elif kind in ("response.completed", "response.incomplete"):
            response = event.response
            finish = _finish(response, self.calls)
            return EventChunk(self, event, [_Choice(_Delta(), finish)], _usage(response.usage))
        elif kind in ("error", "response.failed"):
            raise ProviderFault(_failure(event))
        return EventChunk(self, event, _NONE)


def _finish(response: Any, calls: bool) -> Finish:
    details = response.incomplete_details
    if response.status == "incomplete":
        reason = details.reason if details is not None else None
        return "content_filter" if reason == "content_filter" else "length"
    return "tool_calls" if calls else "stop"


def _usage(usage: Any) -> CompletionUsage | None:
    if usage is None:
        return None
    return CompletionUsage(
        prompt_tokens=usage.input_tokens,
        completion_tokens=usage.output_tokens,
        total_tokens=usage.total_tokens,
    )


def _failure(event: Any) -> Failure:
    """The failure an ``error`` event (flat, or Open Responses' nested ``error``) or a
    ``response.failed`` reports."""
    found = getattr(event, "response", None)
    detail: Any = found.error if found is not None else getattr(event, "error", None) or event
    if isinstance(detail, dict):
        code, message = detail.get("code"), detail.get("message")
    else:
        code, message = getattr(detail, "code", None), getattr(detail, "message", None)
    kind = _KINDS.get(str(code), ErrorKind.SERVER_ERROR)
    said = f"{event.type} in the stream: {code or 'no code'}: {message or 'no message'}"
    return Failure(kind=kind, message=said[:200], code=str(code) if code else None)
