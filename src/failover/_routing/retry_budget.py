"""The retry budget: retries may add only a share of a target's load (Finagle, gRPC).

Retries multiply the load on a provider exactly when it is weakest: at 50% errors and
two retries each, a primary gets 1.75 calls per request. Here retries to a target may
add at most ``ratio`` of its first attempts over the last ``seconds``, plus a floor of
``per_second`` so that low traffic still retries (Finagle's RetryBudget; gRPC's retry
throttling, FACTS.md). When the budget is spent the call fails over at once instead of
retrying in place, and the attempt log says so.

It is kept per process: each process holding its own retries under the share holds the
fleet's under it too, with no Redis write per call.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import tenacity

from .._health.window import Counts

__all__ = ["BudgetSpent", "RetryBudget"]


class RetryBudget:
    """Retries allowed over the last ``seconds``: ``ratio`` x first attempts + a floor."""

    __slots__ = ("_counts", "_floor", "_lock", "ratio")

    def __init__(self, ratio: float, *, per_second: float = 1.0, seconds: float = 10.0) -> None:
        self.ratio = ratio
        self._floor = per_second * seconds
        self._counts = Counts(seconds)
        self._lock = threading.Lock()

    def request(self, now: float | None = None) -> None:
        """A first attempt at the target (it earns ``ratio`` of a retry)."""
        at = time.monotonic() if now is None else now
        with self._lock:
            self._counts.add(1, 0, at)

    def retry(self, now: float | None = None) -> bool:
        """Spend one retry if the budget allows it; False: fail over instead."""
        at = time.monotonic() if now is None else now
        with self._lock:
            requests, retries = self._counts.totals(at)
            if retries + 1 > self.ratio * requests + self._floor:
                return False
            self._counts.add(0, 1, at)
            return True


class BudgetSpent(tenacity.stop.stop_base):
    """A tenacity stop condition: stop when the target's retry budget is spent.

    Composed last with ``|``, it is asked only once the other conditions would let the
    retry happen, so a retry is paid for only when it is made.
    """

    def __init__(self, budget: RetryBudget, spent: Callable[[], None]) -> None:
        self._budget, self._spent = budget, spent

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        if self._budget.retry():
            return False
        self._spent()
        return True
