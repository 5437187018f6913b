"""Map the vendor SDKs' exceptions onto :class:`failover._core.decisions.Failure`, in one place.

openai and anthropic share one exception design (``APIStatusError`` with
``status_code``/``body``/``response``, ``APITimeoutError`` < ``APIConnectionError``),
so one function serves both, given the SDK module. Transport errors that escape the
SDKs unwrapped (anthropic mid-stream: raw ``httpx2.RemoteProtocolError`` and
``httpx2.ReadTimeout``, see FACTS.md) are mapped here too.
"""

from __future__ import annotations

import contextlib
import dataclasses
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

__all__ = ["ProviderFault", "cloud_failure", "failure_from", "parse_retry_after"]


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


# Bedrock names its errors (the ``x-amzn-ErrorType`` header; an exception frame's type
# mid-stream) where a status alone misleads: a spent quota comes as a 400.
_BEDROCK_KINDS = {
    "throttlingexception": ErrorKind.RATE_LIMIT,
    "servicequotaexceededexception": ErrorKind.QUOTA,
    "modelnotreadyexception": ErrorKind.OVERLOADED,
    "serviceunavailableexception": ErrorKind.SERVER_ERROR,
    "internalserverexception": ErrorKind.SERVER_ERROR,
    "modelstreamerrorexception": ErrorKind.SERVER_ERROR,
    "modeltimeoutexception": ErrorKind.REQUEST_TIMEOUT,
    "modelerrorexception": ErrorKind.SERVER_ERROR,
    "accessdeniedexception": ErrorKind.AUTH,
    "unrecognizedclientexception": ErrorKind.AUTH,
    "resourcenotfoundexception": ErrorKind.NOT_FOUND,
}
# What the cloud SDKs raise when no credentials can be found (before any request):
# the anthropic SDK's own messages, and google-auth's and botocore's exceptions.
_NO_CREDENTIALS = (
    "Could not resolve AWS credentials",
    "Could not resolve API token",
    "Could not resolve project_id",
)


def cloud_failure(exc: BaseException, found: Failure | None) -> Failure | None:
    """``found`` (the generic reading of ``exc``) made precise for Claude on a cloud:
    Bedrock's named errors, and missing credentials as an auth failure of this target."""
    if found is None:
        module = type(exc).__module__
        if module.startswith(("google.auth", "botocore")) or (
            isinstance(exc, RuntimeError | ValueError) and str(exc).startswith(_NO_CREDENTIALS)
        ):
            return Failure(kind=ErrorKind.AUTH, message=f"credentials: {exc}"[:300])
        return None
    name = ""
    response = getattr(exc, "response", None)
    if response is not None:  # "ThrottlingException:http://internal.amazon.com/coral/..."
        name = response.headers.get("x-amzn-errortype", "").partition(":")[0]
    name = name or (found.code or "")
    kind = _BEDROCK_KINDS.get(name.lower())
    return found if kind is None else dataclasses.replace(found, kind=kind, code=name)


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
