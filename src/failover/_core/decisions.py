"""The one table that decides, for any failure, whether to retry, fail over or raise.

Vendor adapters turn their SDK's exceptions into a :class:`Failure` (see
``_adapters``); :func:`classify` names its :class:`ErrorKind`; :data:`RULES` says what
the router does about that kind. Everything here is pure: no I/O, no clocks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

__all__ = ["RULES", "ErrorKind", "Failure", "Rule", "classify", "rule_for"]


class ErrorKind(StrEnum):
    """What went wrong with one attempt, independent of vendor."""

    SERVER_ERROR = "server_error"  # 5xx, or an unrecognised status
    OVERLOADED = "overloaded"  # Anthropic 529 / overloaded_error, also in-band mid-stream
    REQUEST_TIMEOUT = "request_timeout"  # 408 from the provider
    CONNECTION = "connection"  # refused, reset, DNS, cut before content
    TIMEOUT = "timeout"  # no answer (or no first token) within the attempt's time
    MALFORMED = "malformed_response"  # unparseable body, HTML proxy page, empty choices
    RATE_LIMIT = "rate_limit"  # 429 that will pass
    QUOTA = "quota"  # 429 insufficient_quota / enforced_spend_limit_reached, 402
    AUTH = "auth"  # 401, 403
    NOT_FOUND = "not_found"  # 404: model or deployment missing on this target
    BAD_REQUEST = "bad_request"  # 400, 413, 422: the request itself is wrong
    CONTEXT_LENGTH = "context_length"  # prompt too long for this target's model
    CONTENT_FILTER = "content_filter"  # refused by a content filter
    STREAM_CUT = "stream_interrupted"  # stream failed after content reached the caller


@dataclass(frozen=True, slots=True)
class Rule:
    """What the router does about one kind of failure.

    ``retry``: try the same target again (after backoff). ``fail_over``: move on to
    the next target. ``breaker``: count it against the target's circuit breaker.
    ``cool_down``: the problem is local to the target and lasting (quota, keys, a
    missing model), so skip the target for the breaker's reset time without counting
    it as an outage. ``fail_over_first``: while another target remains, move on
    instead of retrying; retry only as the last resort. ``sibling_first``: the same,
    within the target's group (equivalent deployments of one model) only.
    """

    retry: bool
    fail_over: bool
    breaker: bool
    cool_down: bool = False
    fail_over_first: bool = False
    sibling_first: bool = False


_TRANSIENT = Rule(retry=True, fail_over=True, breaker=True)
_TARGET_LOCAL = Rule(retry=False, fail_over=True, breaker=False, cool_down=True)
_FATAL = Rule(retry=False, fail_over=False, breaker=False)

RULES: Mapping[ErrorKind, Rule] = MappingProxyType(
    {
        ErrorKind.SERVER_ERROR: _TRANSIENT,
        ErrorKind.OVERLOADED: _TRANSIENT,
        ErrorKind.REQUEST_TIMEOUT: _TRANSIENT,
        ErrorKind.CONNECTION: _TRANSIENT,
        # A hang already cost a whole attempt timeout, and the next try is likely to hang
        # too (Dec 26, 2024: prompts that were never processed): fail over first, and
        # retry the same target only when it is the last one left.
        ErrorKind.TIMEOUT: Rule(retry=True, fail_over=True, breaker=True, fail_over_first=True),
        ErrorKind.MALFORMED: _TRANSIENT,
        # A 429 is retried (Retry-After is a floor on the wait) and puts the target in
        # a cool-down, but is not an outage: it never trips the breaker. An equivalent
        # deployment of the same group takes the call at once instead of the wait.
        ErrorKind.RATE_LIMIT: Rule(retry=True, fail_over=True, breaker=False, sibling_first=True),
        ErrorKind.QUOTA: _TARGET_LOCAL,
        ErrorKind.AUTH: _TARGET_LOCAL,
        ErrorKind.NOT_FOUND: _TARGET_LOCAL,
        # The backup would only fail too, and must not receive a malformed request.
        ErrorKind.BAD_REQUEST: _FATAL,
        # A later target may have a larger context window; this one never will.
        ErrorKind.CONTEXT_LENGTH: Rule(retry=False, fail_over=True, breaker=False),
        ErrorKind.CONTENT_FILTER: _FATAL,
        # After content reached the caller the answer cannot be silently redone; the
        # stream layer raises (or resumes, when asked). It is an outage signal.
        ErrorKind.STREAM_CUT: Rule(retry=False, fail_over=False, breaker=True),
    }
)


def rule_for(kind: ErrorKind) -> Rule:
    """The rule for ``kind`` (every kind has one; the table is tested exhaustively)."""
    return RULES[kind]


@dataclass(frozen=True, slots=True)
class Failure:
    """A vendor-neutral description of one failed attempt, built by an adapter.

    ``status`` is the HTTP status (None for transport failures and in-band stream
    errors), ``code`` the vendor's error code or type (``insufficient_quota``,
    ``overloaded_error``), ``retry_after`` the provider's requested wait in seconds.
    ``transport`` is set for failures below HTTP: "connection", "timeout",
    "malformed". ``kind`` overrides classification when the adapter knows better.
    ``should_retry`` is the provider's ``x-should-retry`` header, if it sent one.
    """

    status: int | None = None
    code: str | None = None
    message: str = ""
    retry_after: float | None = None
    transport: str | None = None
    kind: ErrorKind | None = None
    should_retry: bool | None = None


_QUOTA_CODES = frozenset({"insufficient_quota", "enforced_spend_limit_reached", "billing_error"})
_CONTEXT_CODES = frozenset({"context_length_exceeded", "string_above_max_length"})
_FILTER_CODES = frozenset({"content_filter", "content_policy_violation"})
_OVERLOAD_CODES = frozenset({"overloaded_error", "capacity_exceeded"})
# Providers that send no code for a too-long prompt can only be recognised by message.
_CONTEXT_MESSAGE = re.compile(
    r"prompt is too long|context length|context window|maximum context|too many tokens",
    re.IGNORECASE,
)
_TRANSPORT = {
    "connection": ErrorKind.CONNECTION,
    "timeout": ErrorKind.TIMEOUT,
    "malformed": ErrorKind.MALFORMED,
}


def classify(failure: Failure) -> ErrorKind:
    """Name the kind of ``failure``: codes first, then status, then message.

    >>> classify(Failure(status=429, code="insufficient_quota"))
    <ErrorKind.QUOTA: 'quota'>
    >>> classify(Failure(status=400, message="prompt is too long: 210000 tokens"))
    <ErrorKind.CONTEXT_LENGTH: 'context_length'>
    """
    if failure.kind is not None:
        return failure.kind
    if failure.transport is not None:
        return _TRANSPORT[failure.transport]
    code = (failure.code or "").lower()
    in_message = failure.message.lower()
    if code in _QUOTA_CODES or any(c in in_message for c in _QUOTA_CODES):
        return ErrorKind.QUOTA
    if code in _CONTEXT_CODES:
        return ErrorKind.CONTEXT_LENGTH
    if code in _FILTER_CODES:
        return ErrorKind.CONTENT_FILTER
    if code in _OVERLOAD_CODES:
        return ErrorKind.OVERLOADED
    return _classify_status(failure.status, failure.message)


def _classify_status(status: int | None, message: str) -> ErrorKind:
    if status is None:
        # An in-band error with no status and no known code: the provider broke mid-answer.
        return ErrorKind.SERVER_ERROR
    if status in (400, 413, 422):
        if _CONTEXT_MESSAGE.search(message):
            return ErrorKind.CONTEXT_LENGTH
        return ErrorKind.BAD_REQUEST
    simple = {
        401: ErrorKind.AUTH,
        402: ErrorKind.QUOTA,
        403: ErrorKind.AUTH,
        404: ErrorKind.NOT_FOUND,
        408: ErrorKind.REQUEST_TIMEOUT,
        429: ErrorKind.RATE_LIMIT,
        529: ErrorKind.OVERLOADED,
    }
    if status in simple:
        return simple[status]
    # 5xx, and anything unrecognised (409 conflict, Groq's 498, a 200 carrying an error
    # event): the provider, not the request, is at fault, so trying again is sound.
    return ErrorKind.SERVER_ERROR
