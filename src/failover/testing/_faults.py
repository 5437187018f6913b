"""Faults: the ways a provider misbehaves, vendor-neutral, with a compact spec syntax.

A :class:`Fault` says *what* goes wrong; the wire modules decide how that looks on
each vendor's wire (status code, error body, SSE events). Build faults with the
classmethods; ``str(fault)`` gives its spec and :meth:`Fault.parse` reads one back.

Spec syntax: ``KIND[=VALUE][;KEY=VALUE...]``, for example ``status=503``,
``rate_limit;retry_after=2``, ``hang=1.5``, ``cut=3``,
``status=429;error_code=foo;header=x-trace:abc``. ``VALUE`` is the status code of
``status``/``html``, the seconds of ``hang``/``slow_first_byte``/``drip``/``keepalive``,
the seconds between bytes of ``trickle`` and the chunk
count of ``cut``/``no_terminator``/``inband_error``/``malformed_json``. Options may be
given to any kind: ``error_code``, ``error_type``, ``message``, ``retry_after``
(seconds or an HTTP date), ``retry_after_ms``, ``should_retry`` (true/false) and
``header`` (``name:value``, repeatable). Values cannot contain ``;``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

__all__ = ["Fault", "FaultKind"]

FaultKind = Literal[
    "status",
    "rate_limit",
    "quota",
    "context_length",
    "content_filter",
    "overloaded",
    "html",
    "hang",
    "slow_first_byte",
    "drip",
    "keepalive",
    "trickle",
    "cut",
    "no_terminator",
    "inband_error",
    "malformed_json",
    "empty_choices",
    "reset",
]
_KINDS: frozenset[str] = frozenset(get_args(FaultKind))

# Kinds whose spec VALUE fills a field, and how the text is converted.
_PRIMARY: dict[str, tuple[str, Callable[[str], Any]]] = {
    "status": ("status_code", int),
    "html": ("status_code", int),
    "hang": ("seconds", float),
    "slow_first_byte": ("seconds", float),
    "drip": ("seconds", float),
    "keepalive": ("seconds", float),
    "trickle": ("seconds", float),
    "cut": ("after_chunks", int),
    "no_terminator": ("after_chunks", int),
    "inband_error": ("after_chunks", int),
    "malformed_json": ("after_chunks", int),
}


@dataclass(frozen=True)
class Fault:
    """One misbehaviour of a provider, served for one request (or many, as a mode).

    Build it with a classmethod (``Fault.status(503)``), not with the constructor.
    Fields left None take the vendor's defaults; ``headers`` are sent with any
    response the fault produces.
    """

    kind: FaultKind
    status_code: int | None = None
    error_code: str | None = None
    error_type: str | None = None
    message: str | None = None
    retry_after: float | str | None = None
    retry_after_ms: int | None = None
    should_retry: bool | None = None
    headers: tuple[tuple[str, str], ...] = ()
    seconds: float | None = None
    after_chunks: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {sorted(_KINDS)}")
        if self.status_code is not None and not 100 <= self.status_code <= 599:
            raise ValueError(f"status code must be 100-599, got {self.status_code}")
        if self.seconds is not None and self.seconds < 0:
            raise ValueError(f"seconds must be >= 0, got {self.seconds}")
        if self.after_chunks is not None and self.after_chunks < 0:
            raise ValueError(f"after_chunks must be >= 0, got {self.after_chunks}")

    # -- HTTP errors -------------------------------------------------------------

    @classmethod
    def status(
        cls,
        code: int,
        *,
        error_code: str | None = None,
        error_type: str | None = None,
        message: str | None = None,
        retry_after: float | str | None = None,
        retry_after_ms: int | None = None,
        should_retry: bool | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Fault:
        """Any status code with the vendor's JSON error body.

        ``error_type``/``message`` default per status (Anthropic: 400
        ``invalid_request_error``, 401 ``authentication_error``, 429
        ``rate_limit_error``, 529 ``overloaded_error``...). ``error_code`` is OpenAI's
        ``error.code`` and Anthropic's ``error.details.error_code``. ``retry_after``
        (seconds or an HTTP date), ``retry_after_ms`` and ``should_retry`` become the
        ``retry-after``, ``retry-after-ms`` and ``x-should-retry`` headers the SDKs obey.
        """
        return cls(
            "status",
            status_code=code,
            error_code=error_code,
            error_type=error_type,
            message=message,
            retry_after=retry_after,
            retry_after_ms=retry_after_ms,
            should_retry=should_retry,
            headers=tuple((headers or {}).items()),
        )

    @classmethod
    def rate_limit(
        cls, retry_after: float | str | None = None, retry_after_ms: int | None = None
    ) -> Fault:
        """A passing 429 rate limit.

        OpenAI: code ``rate_limit_exceeded``; Anthropic: type ``rate_limit_error``.
        """
        return cls("rate_limit", retry_after=retry_after, retry_after_ms=retry_after_ms)

    @classmethod
    def quota(cls) -> Fault:
        """A 429 that waiting will not fix: the account is out of money.

        OpenAI: code and type ``insufficient_quota``. Anthropic: ``rate_limit_error``
        with ``error.details.error_code == "enforced_spend_limit_reached"`` (where the
        Anthropic SDK reads it: ``e.error_code``, class ``EnforcedSpendLimitReachedError``).
        """
        return cls("quota")

    @classmethod
    def context_length(cls) -> Fault:
        """The prompt is too long for the model (a 400 that no retry can fix).

        OpenAI: code ``context_length_exceeded``. Anthropic: ``invalid_request_error``
        with the message ``prompt is too long: 210000 tokens > 200000 maximum``.
        """
        return cls("context_length")

    @classmethod
    def content_filter(cls) -> Fault:
        """The provider refuses the content.

        OpenAI: a 400 with code ``content_filter``. Anthropic: a normal 200 answer with
        no content and ``stop_reason: "refusal"`` (Anthropic does not refuse with an error).
        """
        return cls("content_filter")

    @classmethod
    def overloaded(cls) -> Fault:
        """The provider is overloaded.

        Anthropic: 529 ``overloaded_error``; OpenAI: 503 with type ``server_error``.
        """
        return cls("overloaded")

    @classmethod
    def html(cls, status: int = 502) -> Fault:
        """An HTML error page from a proxy or load balancer in front of the API."""
        return cls("html", status_code=status)

    # -- Timing -------------------------------------------------------------------

    @classmethod
    def hang(cls, seconds: float | None = None) -> Fault:
        """Accept the request and never send headers.

        Lasts until the client gives up, the server stops, or ``seconds`` pass; then the
        connection is closed without any response.
        """
        return cls("hang", seconds=seconds)

    @classmethod
    def slow_first_byte(cls, delay: float) -> Fault:
        """Wait ``delay`` seconds before the headers, then answer normally."""
        return cls("slow_first_byte", seconds=delay)

    @classmethod
    def drip(cls, delay: float) -> Fault:
        """Slow generation: a stream that stalls between chunks once it has started.

        Streams: everything up to the first content chunk at once, then ``delay`` seconds
        before each later event (a stall *after* content, unlike :meth:`slow_first_byte`).
        Non-streams: the headers, ``delay`` seconds, then the body.
        """
        return cls("drip", seconds=delay)

    @classmethod
    def keepalive(cls, delay: float) -> Fault:
        """A model that takes ``delay`` seconds to start while the stream stays alive.

        Streams: the headers at once, then keep-alive beats every 0.1 s (SSE comments for
        OpenAI-compatible servers, as OpenRouter sends; ``ping`` events for Anthropic)
        and only then the answer. The beats reset an HTTP read timeout without giving
        the SDK a chunk. Non-streams: like :meth:`slow_first_byte`.
        """
        return cls("keepalive", seconds=delay)

    @classmethod
    def trickle(cls, interval: float = 0.5) -> Fault:
        """A degraded proxy: the headers at once, then the body one byte every ``interval``.

        Every byte resets an HTTP read timeout, so only a wall-clock bound ends it.
        Non-streams: the JSON body a byte at a time. Streams: every SSE line a byte at
        a time, from the first one (so no chunk completes for a long while).
        """
        return cls("trickle", seconds=interval)

    # -- Broken streams and bodies --------------------------------------------------

    @classmethod
    def cut(cls, after_chunks: int = 2) -> Fault:
        """Drop the connection mid-answer, without the chunked terminator.

        Streams: after ``after_chunks`` content chunks. Non-streams: after the headers
        and half of the body.
        """
        return cls("cut", after_chunks=after_chunks)

    @classmethod
    def no_terminator(cls, after_chunks: int = 2) -> Fault:
        """End cleanly after ``after_chunks`` content chunks, with no finish at all.

        Streams: no finish_reason/``[DONE]`` (OpenAI), no message_delta/message_stop
        (Anthropic). Non-streams: a 200 body with the truncated text and a null
        finish_reason/stop_reason.
        """
        return cls("no_terminator", after_chunks=after_chunks)

    @classmethod
    def inband_error(cls, after_chunks: int = 2) -> Fault:
        """An error event inside a 200 stream after ``after_chunks`` content chunks.

        OpenAI: ``data: {"error": {... "type": "server_error"}}``. Anthropic:
        ``event: error`` with ``overloaded_error``. Non-streams get the same error body
        with a status (OpenAI 500, Anthropic 529).
        """
        return cls("inband_error", after_chunks=after_chunks)

    @classmethod
    def malformed_json(cls, after_chunks: int = 1) -> Fault:
        """Broken JSON with a 200: half a body, or a half data line after N content chunks."""
        return cls("malformed_json", after_chunks=after_chunks)

    @classmethod
    def empty_choices(cls) -> Fault:
        """A 200 answer with nothing in it.

        OpenAI: ``choices: []`` (every chunk, when streaming); Anthropic: ``content: []``.
        """
        return cls("empty_choices")

    @classmethod
    def reset(cls) -> Fault:
        """Reset the TCP connection (RST) before sending a single byte."""
        return cls("reset")

    # -- Spec strings ----------------------------------------------------------------

    @classmethod
    def parse(cls, spec: str) -> Fault:
        """Read a spec such as ``status=429;retry_after=2`` (see the module docstring)."""
        head, *options = [part.strip() for part in spec.strip().split(";")]
        kind, has_value, value = (s.strip() for s in head.partition("="))
        if kind not in _KINDS:
            raise ValueError(f"unknown fault kind {kind!r} in {spec!r}; known: {sorted(_KINDS)}")
        fields: dict[str, Any] = {}
        if has_value:
            if kind not in _PRIMARY:
                raise ValueError(f"fault {kind!r} takes no value (in {spec!r})")
            name, convert = _PRIMARY[kind]
            fields[name] = _convert(convert, value, spec)
        elif kind == "status":
            raise ValueError(f"fault 'status' needs a code, e.g. 'status=503' (in {spec!r})")
        fields.update(_parse_options([o for o in options if o], spec))
        base: Fault = getattr(cls, kind)(**_base_args(kind, fields))
        return dataclasses.replace(base, **fields)

    def __str__(self) -> str:
        """The spec of this fault; ``Fault.parse(str(f)) == f``."""
        parts: list[str] = [self.kind]
        primary = _PRIMARY.get(self.kind)
        value = getattr(self, primary[0]) if primary else None
        if value is not None:
            parts[0] += f"={_format(value)}"
        for name in ("error_code", "error_type", "message", "retry_after"):
            if getattr(self, name) is not None:
                parts.append(f"{name}={_format(getattr(self, name))}")
        if self.retry_after_ms is not None:
            parts.append(f"retry_after_ms={self.retry_after_ms}")
        if self.should_retry is not None:
            parts.append(f"should_retry={str(self.should_retry).lower()}")
        parts.extend(f"header={k}:{v}" for k, v in self.headers)
        return ";".join(parts)

    def header_items(self) -> list[tuple[str, str]]:
        """The extra response headers this fault sends (retry hints first)."""
        items: list[tuple[str, str]] = []
        if self.retry_after is not None:
            items.append(("retry-after", _format(self.retry_after)))
        if self.retry_after_ms is not None:
            items.append(("retry-after-ms", str(self.retry_after_ms)))
        if self.should_retry is not None:
            items.append(("x-should-retry", str(self.should_retry).lower()))
        items.extend((k.lower(), v) for k, v in self.headers)
        return items


def _base_args(kind: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The positional value a kind's classmethod requires, taken from parsed fields."""
    if kind == "status":
        return {"code": fields["status_code"]}
    if kind in ("slow_first_byte", "drip", "keepalive"):
        if "seconds" not in fields:
            raise ValueError(f"fault {kind!r} needs seconds, e.g. '{kind}=0.5'")
        return {"delay": fields["seconds"]}
    return {}


def _parse_options(options: list[str], spec: str) -> dict[str, Any]:
    """``key=value`` options into Fault fields (``header`` may repeat)."""
    fields: dict[str, Any] = {}
    headers: list[tuple[str, str]] = []
    for option in options:
        key, sep, value = (s.strip() for s in option.partition("="))
        if not sep:
            raise ValueError(f"option {option!r} is not key=value (in {spec!r})")
        if key == "header":
            name, colon, text = value.partition(":")
            if not colon or not name.strip():
                raise ValueError(f"header option must be 'header=name:value' (in {spec!r})")
            headers.append((name.strip(), text.strip()))
        elif key in _OPTION_TYPES:
            fields[key] = _convert(_OPTION_TYPES[key], value, spec)
        else:
            known = sorted(_OPTION_TYPES)
            raise ValueError(f"unknown option {key!r} (in {spec!r}); known: {known}")
    if headers:
        fields["headers"] = tuple(headers)
    return fields


def _seconds_or_date(text: str) -> float | str:
    """``retry_after`` is a number of seconds or, failing that, an HTTP date kept as text."""
    try:
        return float(text)
    except ValueError:
        return text


def _boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered not in ("true", "false"):
        raise ValueError(f"expected true or false, got {text!r}")
    return lowered == "true"


_OPTION_TYPES: dict[str, Callable[[str], Any]] = {
    "error_code": str,
    "error_type": str,
    "message": str,
    "retry_after": _seconds_or_date,
    "retry_after_ms": int,
    "should_retry": _boolean,
}


def _convert(convert: Callable[[str], Any], value: str, spec: str) -> Any:
    try:
        return convert(value)
    except ValueError as exc:
        raise ValueError(f"bad value {value!r} in fault spec {spec!r}: {exc}") from None


def _format(value: float | int | str) -> str:
    """Numbers without a needless ``.0``: ``2.0`` -> ``2``, ``0.25`` -> ``0.25``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
