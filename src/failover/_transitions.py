"""Health transitions, said once each: a log line, and a count for telemetry.

The health implementations (``_breaker.py`` in process, ``_redis_health.py`` for the
fleet) call :func:`note` when a target's state changes: a breaker opening, half-opening
or closing, a cool-down starting. Trouble is a WARNING, recovery INFO, on the
``failover`` logger, never once per call. With shared health each process notes the
fleet's transitions as it learns of them.
"""

from __future__ import annotations

import logging
import time

from . import _telemetry as telemetry

__all__ = ["note"]

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
