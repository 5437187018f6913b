"""Counting what the drill's load saw: per call, per target, per phase."""

from __future__ import annotations

import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from .._core.attempts import Attempt, Outcome

__all__ = ["Stats", "percentile"]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


@dataclass
class _TargetStats:
    attempts: int = 0
    served: int = 0
    skipped: int = 0
    dead_calls: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    recent: deque[float] = field(default_factory=deque)  # attempt times, for req/s


@dataclass
class Stats:
    """Mutable tallies, fed by the load workers and the attempt hook."""

    phase: str = ""
    storm: bool = False  # the phase is a rate-limit storm: calls go to the storm's client
    dead: frozenset[str] = frozenset()
    latencies_ms: list[float] = field(default_factory=list)
    failed: int = 0
    failures: list[str] = field(default_factory=list)
    targets: defaultdict[str, _TargetStats] = field(
        default_factory=lambda: defaultdict(_TargetStats)
    )
    by_phase: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failed_by_phase: Counter[str] = field(default_factory=Counter)

    def on_attempt(self, attempt: Attempt) -> None:
        target = self.targets[attempt.target]
        if attempt.outcome is Outcome.SKIPPED:
            target.skipped += 1
            return
        if attempt.outcome is Outcome.RESUMED:
            return
        target.attempts += 1
        target.recent.append(time.monotonic())
        if attempt.target in self.dead:
            target.dead_calls += 1
        if attempt.error is not None:
            target.errors[attempt.error.value] += 1

    def answered(self, target: str, seconds: float, phase: str) -> None:
        self.targets[target].served += 1
        self.latencies_ms.append(seconds * 1000)
        self.by_phase[phase].append(seconds * 1000)

    def failure(self, error: BaseException, phase: str) -> None:
        self.failed += 1
        self.failed_by_phase[phase] += 1
        if len(self.failures) < 10:
            self.failures.append(f"{type(error).__name__}: {str(error).splitlines()[0]}")

    def rate(self, label: str, window: float = 2.0) -> float:
        recent = self.targets[label].recent
        cutoff = time.monotonic() - window
        while recent and recent[0] < cutoff:
            recent.popleft()
        return len(recent) / window

    @property
    def requests(self) -> int:
        return len(self.latencies_ms) + self.failed

    def summary(self, seconds: float, phases: list[str]) -> dict[str, Any]:
        """The JSON written by ``--json``."""
        ok = len(self.latencies_ms)
        return {
            "seconds": seconds,
            "requests": self.requests,
            "succeeded": ok,
            "failed": self.failed,
            "success_pct": round(100 * ok / self.requests, 3) if self.requests else 0.0,
            "p50_ms": round(percentile(self.latencies_ms, 50), 1),
            "p99_ms": round(percentile(self.latencies_ms, 99), 1),
            "targets": {
                label: {
                    "calls": t.attempts,
                    "served": t.served,
                    "skipped": t.skipped,
                    "dead_calls": t.dead_calls,
                    "errors": dict(t.errors),
                }
                for label, t in self.targets.items()
            },
            "phases": [
                {
                    "name": name,
                    "succeeded": len(self.by_phase[name]),
                    "failed": self.failed_by_phase[name],
                    "p50_ms": round(percentile(self.by_phase[name], 50), 1),
                    "p99_ms": round(percentile(self.by_phase[name], 99), 1),
                }
                for name in phases
            ],
            "failures": self.failures,
        }
