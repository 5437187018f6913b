"""What the vendor wire modules share: the request view, SSE events, error answers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from ._faults import Fault
from ._reply import Reply

__all__ = [
    "Call",
    "ErrorAnswer",
    "Event",
    "EventRole",
    "SseWire",
    "Wire",
    "count_words",
    "dumps",
    "finish_reason",
    "parse_body",
]

EventRole = Literal["frame", "content", "tail", "error"]


@dataclass(frozen=True)
class Call:
    """The parts of a request the answer depends on."""

    seq: int
    model: str
    stream: bool
    include_usage: bool
    prompt_tokens: int
    body: Mapping[str, Any]
    route: Mapping[str, str] = field(default_factory=dict)  # what the path names (model...)

    @classmethod
    def from_body(cls, seq: int, body: Any) -> Call:
        """Read a parsed JSON body leniently: anything missing gets a harmless default."""
        data: Mapping[str, Any] = body if isinstance(body, Mapping) else {}
        options = data.get("stream_options")
        include_usage = isinstance(options, Mapping) and bool(options.get("include_usage"))
        model = data.get("model")
        return cls(
            seq=seq,
            model=model if isinstance(model, str) else "fake-model",
            stream=data.get("stream") is True,
            include_usage=include_usage,
            prompt_tokens=count_words(data.get("system")) + count_words(data.get("messages")),
            body=data,
        )


@dataclass(frozen=True)
class Event:
    """One server-sent event.

    ``role`` lets fault injection cut streams generically: ``frame`` events carry
    structure, ``content`` events carry text or tool-argument fragments (they are
    the "chunks" faults count), ``tail`` events finish the stream and an ``error``
    event is an in-band error. :meth:`encode` is the SSE form; a wire whose streams
    are not SSE (Bedrock) encodes events itself (:meth:`Wire.encode`).
    """

    data: str
    name: str | None = None
    role: EventRole = "frame"

    def encode(self) -> bytes:
        head = f"event: {self.name}\n" if self.name else ""
        return f"{head}data: {self.data}\n\n".encode()


@dataclass(frozen=True)
class ErrorAnswer:
    """An HTTP error response: status, JSON body and any headers that belong to it."""

    status: int
    body: Any  # a JSON object, or a list (Vertex AI wraps some errors in one)
    headers: tuple[tuple[str, str], ...] = ()


class Wire(Protocol):
    """How one vendor's API looks on the wire."""

    api: str
    path: str
    request_id_header: str
    inband_status: int
    keepalive: bytes  # one keep-alive beat, as this vendor's streams send it (b"": none)
    stream_content_type: str

    def route(
        self, method: str, path: str, query: str, headers: Mapping[str, str]
    ) -> ErrorAnswer | None:
        """The vendor's answer to a request that does not reach the chat endpoint (wrong
        route, missing API version or key), else None."""

    def call(self, seq: int, path: str, body: Any) -> Call:
        """The routed request's :class:`Call` (Bedrock and Vertex AI: model from the path)."""

    def encode(self, event: Event) -> bytes:
        """One stream event as sent on the wire."""

    def error_event(self, error: ErrorAnswer, call: Call, sent: int) -> Event:
        """An error sent inside a 200 stream (role ``error``) after ``sent`` events."""

    def validate(self, call: Call) -> ErrorAnswer | None:
        """The 400 a real server gives a request missing required fields, else None."""

    def error(self, fault: Fault, call: Call) -> ErrorAnswer | Reply:
        """An error-kind fault as this vendor sends it (or the Reply it sends instead)."""

    def not_found(self, method: str, path: str) -> ErrorAnswer:
        """The vendor's 404 for an unknown route."""

    def bad_json(self) -> ErrorAnswer:
        """The vendor's 400 for a body that is not JSON."""

    def message(self, call: Call, reply: Reply, *, finished: bool = True) -> dict[str, Any]:
        """The non-streaming answer; ``finished=False`` leaves the finish reason null."""

    def empty_message(self, call: Call) -> dict[str, Any]:
        """A non-streaming answer with no choices/content."""

    def events(self, call: Call, reply: Reply) -> list[Event]:
        """The streaming answer, terminator included."""

    def empty_events(self, call: Call) -> list[Event]:
        """A stream with no choices/content."""


class SseWire:
    """The Wire parts that SSE vendors share: the model in the body, SSE events, and an
    in-band error as an event named ``error_event_name`` (None: a bare ``data:`` line)."""

    error_event_name: str | None = None
    stream_content_type = "text/event-stream; charset=utf-8"

    def call(self, seq: int, path: str, body: Any) -> Call:
        return Call.from_body(seq, body)

    def encode(self, event: Event) -> bytes:
        return event.encode()

    def error_event(self, error: ErrorAnswer, call: Call, sent: int) -> Event:
        return Event(dumps(error.body), name=self.error_event_name, role="error")


def count_words(value: Any) -> int:
    """Rough token count: whitespace-separated words in every string of a JSON value."""
    if isinstance(value, str):
        return len(value.split())
    if isinstance(value, Mapping):
        return sum(count_words(v) for k, v in value.items() if k in ("content", "text"))
    if isinstance(value, list):
        return sum(count_words(v) for v in value)
    return 0


def dumps(value: Any) -> str:
    """Compact JSON, as the vendors send it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


FINISH_ALIASES: dict[str, str] = {
    "end_turn": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
"""Anthropic stop reason -> OpenAI finish reason (reverse it for the other way)."""


def finish_reason(reply: Reply, *, api: str) -> str:
    """The reply's finish reason in the vendor's own vocabulary."""
    reason = reply.finish_reason
    if reason is None:
        reason = "tool_calls" if reply.tool_calls else "stop"
    if api == "openai":
        return FINISH_ALIASES.get(reason, reason)
    reverse = {v: k for k, v in FINISH_ALIASES.items()}
    return reverse.get(reason, reason)


def parse_body(raw: bytes) -> tuple[Any, bool]:
    """``(value, ok)``: the JSON value, or the raw text (None if empty) and False."""
    if not raw:
        return None, False
    try:
        return json.loads(raw), True
    except ValueError:
        return raw.decode("utf-8", "replace"), False
