"""Transitions, said once each: a log line, and a count for telemetry.

The health implementations (``_health/breaker.py`` in process, ``_health/redis.py`` for the
fleet) call :func:`note` when a target's state changes: a breaker opening, half-opening
or closing, a cool-down starting. With shared health each process notes the fleet's
transitions as it learns of them. :class:`Answering` notes a client falling back to a
later target, and returning to the first. Trouble is a WARNING, recovery INFO, on the
``failover`` logger, never once per call.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Protocol

from .._config.policy import Target
from .._telemetry import otel as telemetry

__all__ = ["Answering", "note"]

logger = logging.getLogger("failover")

_WHAT = {
    "open": "breaker opened: calls skip it",
    "half-open": "breaker half-open: one probe call may go",
    "closed": "breaker closed: calls go to it again",
    "cooling-down": "cooling down: calls skip it",
}


def note(target: str, old: str, new: str, *, until: float = 0.0, shared: bool = False) -> None:
    """``target``'s state went from ``old`` to ``new``; ``until`` is when it may be tried
    again (``time.time()`` seconds, 0 if now)."""
    if old == new:
        return
    level = logging.INFO if new == "closed" else logging.WARNING
    if logger.isEnabledFor(level):
        when = f" for {max(until - time.time(), 0.0):.1f} s" if until else ""
        where = " (fleet-wide)" if shared else ""
        logger.log(level, "failover: %s %s%s%s", target, _WHAT.get(new, new), when, where)
    telemetry.transition(target, new, shared=shared)


class Answered(Protocol):
    """What :class:`Answering` asks of a call that was answered (``_routing.call.Call``)."""

    def fell_back(self, answered: Target) -> bool: ...


class Answering:
    """Which target answers a client's calls. Each change is logged, at most one line per
    ``quiet`` seconds: a provider failing some of its calls would otherwise flip it back
    and forth. Changes inside that time are counted, and a timer says where things stand
    when it ends, so the last word in the log is always the current one.

    "Falling back" is said only when an earlier target that could take the call failed
    or was skipped for its health: a chain whose first targets a call may not use
    (``FAILOVER_REQUIRE``) is answered by its first eligible target, which is no outage."""

    def __init__(self, chain: Sequence[Target], quiet: float = 10.0) -> None:
        self._now = self._said = chain[0]
        self._falling_back = self._said_falling_back = False
        self._quiet = quiet
        self._said_at = -quiet
        self._unsaid = 0
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def answered(self, target: Target, call: Answered) -> None:
        if target is self._now:  # the healthy path: one identity check
            return
        with self._lock:
            self._now, self._falling_back = target, call.fell_back(target)
            wait = self._said_at + self._quiet - time.monotonic()
            if wait > 0:
                self._unsaid += 1
                if self._timer is None:
                    self._timer = threading.Timer(wait, self._say)
                    self._timer.daemon = True
                    self._timer.start()
                return
        self._say()

    def _say(self) -> None:
        with self._lock:
            self._timer = None
            before, now, unsaid = self._said, self._now, self._unsaid
            falling_back, was = self._falling_back, self._said_falling_back
            if now is before:
                self._unsaid = 0
                return
            self._said, self._said_falling_back, self._unsaid = now, falling_back, 0
            if not (falling_back or was):  # from one eligible first choice to another
                return
            self._said_at = time.monotonic()
        more = f" ({unsaid} changes in the last {self._quiet:g} s)" if unsaid > 1 else ""
        if not falling_back:
            logger.info("failover: calls are answered by %s again%s", now.label, more)
        else:
            logger.warning(
                "failover: falling back: calls are answered by %s, not %s%s",
                now.label,
                before.label,
                more,
            )
