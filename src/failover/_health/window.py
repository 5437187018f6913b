"""Sliding windows of counts: the breaker's failure-rate rule, and the retry budget's.

Time is cut into ``buckets`` slices so that a window slides without keeping one entry
per call; a slice older than the window is forgotten as the window moves past it.
Not thread-safe on their own: ``TargetHealth`` and ``RetryBudget`` call them under locks.

* :class:`FailureWindow`: a breaker that counts consecutive failures never opens on a
  provider failing half its calls, since every success starts the count over. This
  opens it when, within the window, at least ``min_calls`` calls were made and the
  share that failed reached ``ratio`` (Polly's and resilience4j's rule, FACTS.md).
* :class:`Counts`: two counters over a window, which ``_routing/retry_budget.py`` uses for
  first attempts and retries.
"""

from __future__ import annotations

import math
import time

__all__ = ["Counts", "FailureWindow"]


class Counts:
    """Two counters over the last ``seconds``, in ``buckets`` slices."""

    __slots__ = ("_a", "_b", "_slot", "_slots", "_width")

    def __init__(self, seconds: float, buckets: int = 10) -> None:
        self._slots = buckets
        self._width = max(seconds, 1e-3) / buckets
        self._a = [0] * buckets
        self._b = [0] * buckets
        self._slot = -1  # the absolute slice number last written

    def add(self, a: int, b: int, now: float) -> None:
        slot = math.floor(now / self._width)
        # Once per call on the healthy path: the window moves only every tenth of it.
        index = self._advance(slot) if slot != self._slot else slot % self._slots
        self._a[index] += a
        self._b[index] += b

    def totals(self, now: float) -> tuple[int, int]:
        self._advance(math.floor(now / self._width))
        return sum(self._a), sum(self._b)

    def clear(self) -> None:
        self._a = [0] * self._slots
        self._b = [0] * self._slots

    def _advance(self, slot: int) -> int:
        """Move the window to the absolute slice ``slot``; its index in the lists."""
        if slot != self._slot:
            # Clear the slices the window moved past since the last write.
            for passed in range(max(self._slot + 1, slot - self._slots + 1), slot + 1):
                index = passed % self._slots
                self._a[index] = self._b[index] = 0
            self._slot = slot
        return slot % self._slots


class FailureWindow:
    """Calls and failures over the last ``seconds``; ``ratio`` 0 turns the rule off."""

    __slots__ = ("_counts", "min_calls", "ratio")

    def __init__(self, seconds: float, min_calls: int, ratio: float) -> None:
        self.min_calls, self.ratio = min_calls, ratio
        self._counts = Counts(seconds)

    def success(self, now: float | None = None) -> None:
        if self.ratio:
            self._counts.add(1, 0, time.monotonic() if now is None else now)

    def failure(self, now: float | None = None) -> bool:
        """Count a failure; True when the window now says the target should open."""
        if not self.ratio:
            return False
        at = time.monotonic() if now is None else now
        self._counts.add(1, 1, at)
        calls, failures = self._counts.totals(at)
        return calls >= self.min_calls and failures >= self.ratio * calls

    def reset(self) -> None:
        """Forget everything (the breaker opened or closed: old calls say nothing now)."""
        self._counts.clear()
