"""Map the vendor SDKs' exceptions onto :class:`failover._core.decisions.Failure`, in one place.

openai and anthropic share one exception design (``APIStatusError`` with
``status_code``/``body``/``response``, ``APITimeoutError`` < ``APIConnectionError``),
so one function serves both, given the SDK module. Transport errors that escape the
SDKs unwrapped (anthropic mid-stream: raw ``httpx2.RemoteProtocolError`` and
``httpx2.ReadTimeout``, see FACTS.md) are mapped here too.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Iterator, Mapping
from email.utils import parsedate_to_datetime
from types import ModuleType
from typing import Any

import httpx2

from .._core.decisions import ErrorKind, Failure
from .._core.redact import redact

__all__ = ["ProviderFault", "failure_from", "parse_retry_after"]


class ProviderFault(Exception):
    """Raised by failover itself for a fault the SDK does not notice (empty choices,
    a stream that ends without content, a first-token timeout)."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


# A longer Retry-After is still honoured by failing over, but a target is not put
# out of service for longer than this on one header's word.
MAX_RETRY_AFTER = 3600.0


def _seconds(raw: str, scale: float = 1.0) -> float | None:
    try:
        value = float(raw) / scale
    except ValueError:
        return None
    return min(max(value, 0.0), MAX_RETRY_AFTER) if math.isfinite(value) else None


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds the provider asked us to wait: ``retry-after-ms``, then ``retry-after``
    as seconds or an HTTP date. None when absent or unreadable (``nan``, ``inf``);
    never negative, at most :data:`MAX_RETRY_AFTER`."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms and (value := _seconds(raw_ms, 1000.0)) is not None:
        return value
    raw = headers.get("retry-after")
    if not raw:
        return None
    if (value := _seconds(raw)) is not None:
        return value
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return min(max(when.timestamp() - (time.time() if now is None else now), 0.0), MAX_RETRY_AFTER)


def _scrub(exc: BaseException, key: str | None) -> None:
    """Mask keys inside the vendor exception itself: it is chained as ``__cause__``, so a
    logged traceback would otherwise show a key that a provider echoed back."""
    exc.args = tuple(redact(a, key) if isinstance(a, str) else a for a in exc.args)
    for name in ("message", "body"):
        value = getattr(exc, name, None)
        if isinstance(value, str):
            setattr(exc, name, redact(value, key))
        elif isinstance(value, dict | list):
            text = redact(json.dumps(value), key)
            try:
                setattr(exc, name, json.loads(text))
            except ValueError:
                setattr(exc, name, text)


def _should_retry(headers: Mapping[str, str]) -> bool | None:
    value = headers.get("x-should-retry", "").strip().lower()
    return {"true": True, "false": False}.get(value)


def _error_code(body: object) -> str | None:
    """The most specific code in an error body: details.error_code, code, then type."""
    if isinstance(body, list) and body:  # Gemini's compat endpoint sends a list
        body = body[0]
    if not isinstance(body, dict):
        return None
    inner: Any = body.get("error", body)
    if not isinstance(inner, dict):
        return None
    details = inner.get("details")
    if isinstance(details, dict) and isinstance(details.get("error_code"), str):
        return str(details["error_code"])
    for key in ("code", "type"):
        value = inner.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def failure_from(exc: BaseException, sdk: ModuleType, key: str | None = None) -> Failure | None:
    """Describe ``exc`` as a :class:`Failure`, or None if it is not a provider failure
    (a bug or a cancellation, which must propagate unchanged)."""
    if isinstance(exc, ProviderFault):
        return exc.failure
    _scrub(exc, key)
    message = str(exc)[:300]
    if isinstance(exc, TimeoutError | httpx2.TimeoutException | sdk.APITimeoutError):
        return Failure(transport="timeout", message=message)
    if isinstance(exc, httpx2.TransportError | sdk.APIConnectionError):
        return Failure(transport="connection", message=message)
    if isinstance(
        exc, sdk.APIResponseValidationError | json.JSONDecodeError | httpx2.DecodingError
    ):
        return Failure(transport="malformed", message=message)
    if isinstance(exc, sdk.APIStatusError):
        status: int | None = exc.status_code
        if status == 200:  # anthropic's in-band `event: error` mid-stream
            status = None
        return Failure(
            status=status,
            code=_error_code(exc.body),
            message=message,
            retry_after=parse_retry_after(exc.response.headers),
            should_retry=_should_retry(exc.response.headers),
        )
    if isinstance(exc, sdk.APIError):  # openai's in-band `data: {"error": ...}`
        return Failure(code=_error_code(exc.body) or "server_error", message=message)
    return None


def malformed_answer(what: str) -> ProviderFault:
    """A 200 that carries no usable answer: retried and failed over like a malformed body."""
    return ProviderFault(Failure(kind=ErrorKind.MALFORMED, message=what))


@contextlib.contextmanager
def reading_answer() -> Iterator[None]:
    """Errors raised while reading a provider's answer mean the answer was malformed.

    The request was sent, so this is the provider's fault (an HTML page served with 200,
    an error body where a message should be), never the caller's.
    """
    try:
        yield
    except (TypeError, AttributeError, KeyError, IndexError, ValueError) as exc:
        raise malformed_answer(f"unreadable answer: {type(exc).__name__}: {exc}"[:200]) from exc
