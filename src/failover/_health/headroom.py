"""Headroom: what a deployment's rate-limit headers say it has left, so that a group
can pass it over before it answers 429.

OpenAI and Azure send ``x-ratelimit-remaining-{requests,tokens}`` with
``x-ratelimit-reset-{requests,tokens}`` as durations (``6m0s``, ``1.5s``, ``12ms``);
Anthropic sends ``anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-
{remaining,reset}``, the reset an RFC 3339 time. A deployment that says nothing is left
is out until that reset. A value that cannot be read, a negative count, and a count
without a usable reset are ignored: Azure has sent ``-1``, and ``0`` with no reset.
Every answer's headers replace what the one before said.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from datetime import datetime

__all__ = ["Headroom", "reset_seconds"]

_WORDS = ("requests", "tokens", "input-tokens", "output-tokens")
_PAIRS = (
    ("x-ratelimit-remaining-requests", "x-ratelimit-reset-requests"),
    ("x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens"),
    *((f"anthropic-ratelimit-{w}-remaining", f"anthropic-ratelimit-{w}-reset") for w in _WORDS),
)
_LONGEST = 3600.0  # a reset further out than an hour is read as an hour, as Retry-After is
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|h|m|s))+")
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


class Headroom:
    """One deployment's headroom: ``out_until`` is when it has requests and tokens again
    (``time.time()`` seconds; 0 while it has some)."""

    __slots__ = ("out_until",)

    def __init__(self) -> None:
        self.out_until = 0.0

    def seen(self, headers: Mapping[str, str]) -> None:
        """Read one answer's headers (a 429's too)."""
        now = time.time()
        until = 0.0
        for remaining_name, reset_name in _PAIRS:
            remaining = headers.get(remaining_name)
            if remaining is None or remaining.strip() != "0":
                continue  # some left, or nothing said, or nonsense such as -1
            reset = reset_seconds(headers.get(reset_name), now)
            if reset is not None and reset > 0:
                until = max(until, now + min(reset, _LONGEST))
        self.out_until = until

    def out(self, now: float) -> bool:
        return self.out_until > now


def reset_seconds(value: str | None, now: float) -> float | None:
    """Seconds until a reset given as a duration (``6m0s``) or an RFC 3339 time; None
    when it cannot be read."""
    if not value:
        return None
    value = value.strip()
    if _DURATION.fullmatch(value):
        return sum(float(n) * _UNIT[unit] for n, unit in _PART.findall(value))
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    return at.timestamp() - now if at.tzinfo is not None else None
