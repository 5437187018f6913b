"""A fake's quota: so many requests (and, optionally, tokens) per window, announced in
the vendor's rate-limit headers (Bedrock and Vertex AI send none), and a 429 once they
are spent. A request's tokens are
its prompt's (as the fake counts them: words) and its answer's.

The window is fixed (it starts with the first request and resets ``per`` seconds
later), so "remaining 0, resets in 2.5 s" is exactly true: a client that waits out the
reset is never refused.
"""

from __future__ import annotations

import math
import threading
from datetime import UTC, datetime, timedelta

from ._faults import Fault

__all__ = ["Quota"]

Headers = tuple[tuple[str, str], ...]


class Quota:
    """``requests`` (and ``tokens``, if given) per ``per`` seconds; ``take`` spends them
    or refuses."""

    def __init__(self, requests: int, per: float = 60.0, tokens: int | None = None) -> None:
        if requests < 1 or per <= 0 or (tokens is not None and tokens < 1):
            raise ValueError("a quota needs requests >= 1, tokens >= 1 and per > 0 seconds")
        self.requests, self.per, self.tokens = requests, per, tokens
        self._lock = threading.Lock()
        self._started = 0.0
        self._used = self._spent = 0

    def take(self, now: float, api: str, tokens: int) -> tuple[Fault | None, Headers]:
        """A 429 once the window's requests or tokens are spent, else None; and the headers."""
        with self._lock:
            if now >= self._started + self.per:
                self._started, self._used, self._spent = now, 0, 0
            reset = self._started + self.per - now
            over = self.tokens is not None and self._spent + tokens > self.tokens
            if self._used >= self.requests or over:
                return Fault.rate_limit(retry_after=round(reset, 3)), self._headers(api, reset)
            self._used += 1
            self._spent += tokens
            return None, self._headers(api, reset)

    def _headers(self, api: str, reset: float) -> Headers:
        if api in ("bedrock", "vertex"):  # Claude on the clouds says nothing of its headroom
            return ()
        said = [("requests", self.requests, self.requests - self._used)]
        if self.tokens is not None:
            said.append(("tokens", self.tokens, self.tokens - self._spent))
        if api == "anthropic":  # the reset is an RFC 3339 time
            later = timedelta(milliseconds=math.ceil(reset * 1000) + 1)  # never early
            at = (datetime.now(UTC) + later).isoformat(timespec="milliseconds")
            return tuple(
                (f"anthropic-ratelimit-{what}-{name}", value)
                for what, limit, left in said
                for name, value in (("limit", str(limit)), ("remaining", str(left)), ("reset", at))
            )
        return tuple(  # OpenAI and Azure: the reset is a duration such as 6m0s, 1.5s or 12ms
            (f"x-ratelimit-{name}-{what}", value)
            for what, limit, left in said
            for name, value in (
                ("limit", str(limit)),
                ("remaining", str(left)),
                ("reset", _duration(reset)),
            )
        )


def _duration(seconds: float) -> str:
    """OpenAI's form (``6m0s``, ``1.5s``, ``12ms``), rounded up to the millisecond so that
    the reset it says is never early."""
    ms = math.ceil(seconds * 1000)
    if ms < 1000:
        return f"{ms}ms"
    minutes, rest = divmod(ms, 60_000)
    said = f"{rest / 1000:.3f}".rstrip("0").rstrip(".") + "s"
    return f"{minutes}m{said}" if minutes else said
