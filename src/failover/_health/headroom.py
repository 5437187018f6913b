"""Headroom: what a deployment's rate-limit headers say it has left, so that a group
passes it over before it answers 429.

OpenAI and Azure send ``x-ratelimit-remaining-{requests,tokens}`` with
``x-ratelimit-reset-{requests,tokens}`` as durations (``6m0s``, ``1.5s``, ``12ms``);
Anthropic sends ``anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-
{remaining,reset}``, the reset an RFC 3339 time. A deployment that says nothing is left
cools down until that reset (when it is a second or more away), as after a 429 but
before one: calls skip it (the attempt log says until when), the health view shows it,
and with shared health the whole fleet skips it. One with fewer tokens left than a
request is likely to use is passed over for that request (:meth:`Headroom.short_of`):
all tokens against the whole estimate, input tokens against the prompt's, output
tokens against the answer's. One whose requests left are all spoken for by the calls
already on their way to it (:meth:`Headroom.spent`) is passed over too: the count was
read before those calls arrived, and under a burst they would otherwise all be sent
and the last ones refused. Within one window the fewest said left stands: answers to
concurrent calls can be read in another order than the provider counted them, and an
older, larger count read last would send a call into a 429. A value that cannot be
read, a negative count, and a count without a usable reset are ignored: Azure has sent
``-1``, and ``0`` with no reset.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from datetime import datetime

from .store import Health

__all__ = ["Headroom", "reset_seconds", "said"]

_WORDS = ("requests", "tokens", "input-tokens", "output-tokens")
_PAIRS = (
    ("x-ratelimit-remaining-requests", "x-ratelimit-reset-requests"),
    ("x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens"),
    *((f"anthropic-ratelimit-{w}-remaining", f"anthropic-ratelimit-{w}-reset") for w in _WORDS),
)
_LONGEST = 3600.0  # a reset further out than an hour is read as an hour, as Retry-After is
_SHORTEST = 1.0  # seconds: a nearer reset makes no cool-down
_SAME_WINDOW = 1.0  # seconds: resets this close are one window read at different times
# The token counts, by what a request spends of them.
_KIND = {
    "x-ratelimit-remaining-tokens": "all",
    "anthropic-ratelimit-tokens-remaining": "all",
    "anthropic-ratelimit-input-tokens-remaining": "input",
    "anthropic-ratelimit-output-tokens-remaining": "output",
}
_REQUESTS = ("x-ratelimit-remaining-requests", "anthropic-ratelimit-requests-remaining")
# What each count is called in the health view.
_SAID = {remaining: remaining.removeprefix("x-ratelimit-remaining-") for remaining, _ in _PAIRS}
_SAID |= {f"anthropic-ratelimit-{w}-remaining": w.replace("-", " ") for w in _WORDS}
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|h|m|s))+")
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


class Headroom:
    """Reads one deployment's answers' headers: cools its health down when they say
    nothing is left, and keeps the tokens they say are left per kind (all tokens, input,
    output) until their reset, for :meth:`short_of`."""

    __slots__ = ("_health", "left", "requests", "tokens")

    def __init__(self, health: Health) -> None:
        self._health = health
        self.tokens: dict[str, tuple[int, float]] = {}  # kind -> (left, until)
        self.requests: tuple[int, float] | None = None  # requests (left, until)
        self.left: dict[str, tuple[int, float]] = {}  # every count said, for the view

    def seen(self, headers: Mapping[str, str]) -> None:
        """Read one answer's headers (a 429's too)."""
        now = time.time()
        longest = 0.0
        for remaining_name, reset_name in _PAIRS:
            remaining = headers.get(remaining_name)
            if remaining is None:
                continue
            try:
                left = int(remaining)
            except ValueError:
                continue
            reset = reset_seconds(headers.get(reset_name), now)
            if left < 0 or reset is None or reset <= 0:
                continue  # nonsense such as -1, or no reset to wait for
            reset = min(reset, _LONGEST)
            reading = (left, now + reset)
            kind = _KIND.get(remaining_name)
            if kind is not None:
                self.tokens[kind] = reading = _fewest(self.tokens.get(kind), reading, now)
            elif remaining_name in _REQUESTS:
                self.requests = reading = _fewest(self.requests, reading, now)
            self.left[_SAID[remaining_name]] = reading
            if left == 0:
                longest = max(longest, reset)
        # A reset within the second is not worth a skip (nor a log line, nor a write to
        # Redis): a request sent in it gets a 429 whose own cool-down covers it.
        if longest >= _SHORTEST:
            self._health.cool_down(longest)

    def spent(self, in_flight: int, now: float) -> bool:
        """Whether the calls on their way to this deployment (``in_flight``) use up the
        requests its latest answer said are left before their reset."""
        found = self.requests
        return found is not None and now < found[1] and found[0] <= in_flight

    def short_of(self, prompt: int, answer: int, now: float) -> bool:
        """Whether the latest answer said fewer tokens are left, before their reset, than
        a request with this estimate of ``prompt`` and ``answer`` tokens would use."""
        need = {"all": prompt + answer, "input": prompt, "output": answer}
        return any(now < until and left < need[kind] for kind, (left, until) in self.tokens.items())


def _fewest(old: tuple[int, float] | None, new: tuple[int, float], now: float) -> tuple[int, float]:
    """The reading that stands: the old one while its window lasts, if it said fewer are
    left and the new one's reset is not a later window's."""
    if old is not None and now < old[1] and old[0] < new[0] and new[1] < old[1] + _SAME_WINDOW:
        return old
    return new


def said(room: Headroom | None, now: float) -> dict[str, int] | None:
    """What a deployment's latest headers said it has left (``requests``, ``tokens``,
    ``input tokens``, ``output tokens``), each until its reset; None when untracked."""
    if room is None:
        return None
    return {kind: left for kind, (left, until) in room.left.items() if now < until}


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
