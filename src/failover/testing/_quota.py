"""A fake's request quota: so many requests per window, announced in the vendor's
rate-limit headers, and a 429 once they are spent.

The window is fixed (it starts with the first request and resets ``per`` seconds
later), so "remaining 0, resets in 2.5 s" is exactly true: a client that waits out the
reset is never refused.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from ._faults import Fault

__all__ = ["Quota"]

Headers = tuple[tuple[str, str], ...]


class Quota:
    """``requests`` per ``per`` seconds; ``take(now)`` spends one or refuses."""

    def __init__(self, requests: int, per: float = 60.0) -> None:
        if requests < 1 or per <= 0:
            raise ValueError("a quota needs requests >= 1 and per > 0 seconds")
        self.requests, self.per = requests, per
        self._lock = threading.Lock()
        self._started = 0.0
        self._used = 0

    def take(self, now: float, api: str) -> tuple[Fault | None, Headers]:
        """A 429 once the window's requests are spent, else None; and the headers."""
        with self._lock:
            if now >= self._started + self.per:
                self._started, self._used = now, 0
            reset = self._started + self.per - now
            if self._used >= self.requests:
                return Fault.rate_limit(retry_after=round(reset, 3)), _headers(api, self, 0, reset)
            self._used += 1
            return None, _headers(api, self, self.requests - self._used, reset)


def _headers(api: str, quota: Quota, remaining: int, reset: float) -> Headers:
    if api == "anthropic":  # the reset is an RFC 3339 time
        at = datetime.now(UTC) + timedelta(seconds=reset)
        return (
            ("anthropic-ratelimit-requests-limit", str(quota.requests)),
            ("anthropic-ratelimit-requests-remaining", str(remaining)),
            ("anthropic-ratelimit-requests-reset", at.isoformat(timespec="milliseconds")),
        )
    return (  # OpenAI and Azure: the reset is a duration such as 6m0s, 1.5s or 12ms
        ("x-ratelimit-limit-requests", str(quota.requests)),
        ("x-ratelimit-remaining-requests", str(remaining)),
        ("x-ratelimit-reset-requests", _duration(reset)),
    )


def _duration(seconds: float) -> str:
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}m{rest:.3g}s" if minutes else f"{rest:.3g}s"
