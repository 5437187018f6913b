"""Turn (fault, reply) into a plan: the exact HTTP-level steps the server performs.

Keeping this pure (no sockets, no event loop) keeps every fault's wire behaviour in one
readable table, and leaves the server with a small interpreter of a few step types.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ._faults import Fault
from ._reply import Reply
from ._wire import Call, ErrorAnswer, Event, Wire, dumps

__all__ = [
    "Action",
    "Body",
    "Drop",
    "Finish",
    "Hang",
    "Head",
    "Pause",
    "Reset",
    "build_plan",
    "error_plan",
]

Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Head:
    """Send the status line and headers."""

    status: int
    headers: Headers


@dataclass(frozen=True)
class Body:
    """Send a piece of the body (one SSE event, or a whole JSON document)."""

    data: bytes


@dataclass(frozen=True)
class Pause:
    """Wait; cut short when the client leaves or the server stops."""

    seconds: float


@dataclass(frozen=True)
class Finish:
    """Complete the response properly (chunked terminator or full content-length)."""


@dataclass(frozen=True)
class Drop:
    """Close the TCP connection now, after flushing what was sent (FIN, no terminator)."""


@dataclass(frozen=True)
class Reset:
    """Abort the TCP connection with a RST."""


@dataclass(frozen=True)
class Hang:
    """Send nothing until the client leaves, the server stops or ``seconds`` pass; then drop."""

    seconds: float | None


Action = Head | Body | Pause | Finish | Drop | Reset | Hang
Plan = list[Action]

_HTML_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
_REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}


def build_plan(
    wire: Wire, call: Call, fault: Fault | None, reply: Reply, extra: Headers = ()
) -> Plan:
    """What to send for ``call`` when it is served ``fault`` (None: the healthy ``reply``);
    ``extra`` headers go with either (a quota's rate-limit headers)."""
    if fault is None:
        invalid = wire.validate(call)
        if invalid:
            return error_plan(wire, call, invalid, ())
        return _answer(wire, call, reply, extra)
    builder = _BUILDERS.get(fault.kind, _error_kind)
    return builder(wire, call, fault, reply, tuple(fault.header_items()) + extra)


def error_plan(wire: Wire, call: Call | None, answer: ErrorAnswer, extra: Headers) -> Plan:
    """A JSON error response (also for streaming requests, as the real APIs do)."""
    return _json(wire, call, answer.status, dumps(answer.body).encode(), answer.headers + extra)


# -- healthy answers ---------------------------------------------------------------------


def _answer(wire: Wire, call: Call, reply: Reply, extra: Headers) -> Plan:
    if call.stream:
        return [_sse_head(wire, call, extra), *_bodies(wire, wire.events(call, reply)), Finish()]
    return _json(wire, call, 200, dumps(wire.message(call, reply)).encode(), extra)


def _json(wire: Wire, call: Call | None, status: int, body: bytes, extra: Headers) -> Plan:
    return [_json_head(wire, call, status, len(body), extra), Body(body), Finish()]


def _json_head(wire: Wire, call: Call | None, status: int, length: int, extra: Headers) -> Head:
    headers = (("content-type", "application/json"), ("content-length", str(length)))
    return Head(status, headers + _request_id(wire, call) + extra)


def _sse_head(wire: Wire, call: Call, extra: Headers) -> Head:
    headers = (("content-type", wire.stream_content_type), ("cache-control", "no-cache"))
    return Head(200, headers + _request_id(wire, call) + extra)


def _request_id(wire: Wire, call: Call | None) -> Headers:
    seq = call.seq if call else 0
    return ((wire.request_id_header, f"req_fake{seq:06d}"),)


def _bodies(wire: Wire, events: Sequence[Event]) -> list[Action]:
    return [Body(wire.encode(event)) for event in events]


def _take(events: Sequence[Event], n: int) -> tuple[list[Event], list[Event]]:
    """Split a stream after its ``n``-th content event, and before any tail event."""
    sent: list[Event] = []
    count = 0
    for i, event in enumerate(events):
        if event.role == "tail" or (event.role == "content" and count >= n):
            return sent, list(events[i:])
        sent.append(event)
        if event.role == "content":
            count += 1
    return sent, []


# -- one builder per fault kind -------------------------------------------------------------

Builder = Callable[[Wire, Call, Fault, Reply, Headers], Plan]


def _error_kind(wire: Wire, call: Call, fault: Fault, reply: Reply, extra: Headers) -> Plan:
    outcome = wire.error(fault, call)
    if isinstance(outcome, Reply):
        return _answer(wire, call, outcome, extra)
    return error_plan(wire, call, outcome, extra)


def _html(wire: Wire, call: Call, fault: Fault, reply: Reply, extra: Headers) -> Plan:
    status = fault.status_code or 502
    page = _HTML_PAGE.format(status=status, reason=_REASONS.get(status, "Error")).encode()
    headers = (
        ("content-type", "text/html; charset=utf-8"),
        ("content-length", str(len(page))),
        ("server", "nginx"),
    )
    return [Head(status, headers + extra), Body(page), Finish()]


def _hang(wire: Wire, call: Call, fault: Fault, reply: Reply, extra: Headers) -> Plan:
    return [Hang(fault.seconds)]


def _reset(wire: Wire, call: Call, fault: Fault, reply: Reply, extra: Headers) -> Plan:
    return [Reset()]


def _slow_first_byte(wire: Wire, call: Call, fault: Fault, reply: Reply, extra: Headers) -> Plan:
    return [Pause(fault.seconds or 0.0), *_answer(wire, call, reply, extra)]


def _drip(wire: Wire, call: Call, fault: Fault, reply: Reply, extra: Headers) -> Plan:
    pause = Pause(fault.seconds or 0.0)
    if not call.stream:
        head, *rest = _answer(wire, call, reply, extra)
        return [head, pause, *rest]
    events = wire.events(call, reply)
    first = next((i for i, e in enumerate(events) if e.role == "content"), 0)
    dripped: Plan = [_sse_head(wire, call, extra), *_bodies(wire, events[: first + 1])]
    for event in events[first + 1 :]:  # the stream has started: now every event waits
        dripped += [pause, Body(wire.encode(event))]
    return [*dripped, Finish()]


_BEAT = 0.1  # seconds between keep-alive beats


def _keepalive(wire: Wire, call: Call, fault: Fault, reply: Reply, extra: Headers) -> Plan:
    if not call.stream:
        return _slow_first_byte(wire, call, fault, reply, extra)
    plan: Plan = [_sse_head(wire, call, extra)]
    beat: Plan = [Body(wire.keepalive)] if wire.keepalive else []  # Bedrock has no beat
    for _ in range(max(1, round((fault.seconds or 0.0) / _BEAT))):
        plan += [Pause(_BEAT), *beat]
    return [*plan, *_bodies(wire, wire.events(call, reply)), Finish()]


def _trickle(wire: Wire, call: Call, fault: Fault, reply: Reply, extra: Headers) -> Plan:
    pause = Pause(fault.seconds if fault.seconds is not None else 0.5)
    head, *rest = _answer(wire, call, reply, extra)
    plan: Plan = [head]
    for step in rest:
        if isinstance(step, Body):
            for byte in step.data:
                plan += [Body(bytes([byte])), pause]
        else:
            plan.append(step)
    return plan


def _cut(wire: Wire, call: Call, fault: Fault, reply: Reply, extra: Headers) -> Plan:
    if call.stream:
        sent, _ = _take(wire.events(call, reply), fault.after_chunks or 0)
        return [_sse_head(wire, call, extra), *_bodies(wire, sent), Drop()]
    body = dumps(wire.message(call, reply)).encode()
    return [_json_head(wire, call, 200, len(body), extra), Body(body[: len(body) // 2]), Drop()]


def _no_terminator(wire: Wire, call: Call, fault: Fault, reply: Reply, extra: Headers) -> Plan:
    n = fault.after_chunks or 0
    if call.stream:
        sent, _ = _take(wire.events(call, reply), n)
        return [_sse_head(wire, call, extra), *_bodies(wire, sent), Finish()]
    partial = Reply(text="".join(reply.text_chunks()[:n]), chunk_size=reply.chunk_size)
    body = wire.message(call, partial, finished=False)
    return _json(wire, call, 200, dumps(body).encode(), extra)


def _inband_error(wire: Wire, call: Call, fault: Fault, reply: Reply, extra: Headers) -> Plan:
    as_status = Fault.status(
        wire.inband_status,
        error_code=fault.error_code,
        error_type=fault.error_type,
        message=fault.message,
    )
    error = wire.error(as_status, call)
    assert isinstance(error, ErrorAnswer)
    if not call.stream:
        return error_plan(wire, call, error, extra)
    sent, _ = _take(wire.events(call, reply), fault.after_chunks or 0)
    event = wire.encode(wire.error_event(error, call, len(sent)))
    return [_sse_head(wire, call, extra), *_bodies(wire, sent), Body(event), Finish()]


def _malformed_json(wire: Wire, call: Call, fault: Fault, reply: Reply, extra: Headers) -> Plan:
    if not call.stream:
        body = dumps(wire.message(call, reply)).encode()
        return _json(wire, call, 200, body[: len(body) // 2], extra)
    sent, rest = _take(wire.events(call, reply), fault.after_chunks or 0)
    model = next((e for e in rest if e.role == "content"), rest[0] if rest else sent[-1])
    broken = Event(model.data[: len(model.data) // 2], name=model.name)
    return [_sse_head(wire, call, extra), *_bodies(wire, sent), Body(wire.encode(broken)), Finish()]


def _empty_choices(wire: Wire, call: Call, fault: Fault, reply: Reply, extra: Headers) -> Plan:
    if call.stream:
        return [_sse_head(wire, call, extra), *_bodies(wire, wire.empty_events(call)), Finish()]
    return _json(wire, call, 200, dumps(wire.empty_message(call)).encode(), extra)


_BUILDERS: dict[str, Builder] = {
    "html": _html,
    "hang": _hang,
    "reset": _reset,
    "slow_first_byte": _slow_first_byte,
    "drip": _drip,
    "keepalive": _keepalive,
    "trickle": _trickle,
    "cut": _cut,
    "no_terminator": _no_terminator,
    "inband_error": _inband_error,
    "malformed_json": _malformed_json,
    "empty_choices": _empty_choices,
}
