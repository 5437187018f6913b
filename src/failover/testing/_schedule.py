"""Time-based outage schedules: "healthy 5 s, then 100% 503 for 20 s, then 30% errors".

Randomness is seeded per phase visit (seed, loop cycle, phase index), so the k-th request
inside a phase gets the same verdict on every run, however many requests earlier
phases saw.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from ._faults import Fault

__all__ = ["Phase", "Schedule", "ScheduleClock"]


@dataclass(frozen=True)
class Phase:
    """``duration`` seconds during which requests get ``fault`` with probability ``rate``.

    ``fault=None`` is a healthy phase. ``duration`` may be ``math.inf``.
    """

    duration: float
    fault: Fault | None = None
    rate: float = 1.0

    def __post_init__(self) -> None:
        if not self.duration >= 0:
            raise ValueError(f"phase duration must be >= 0, got {self.duration}")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"phase rate must be within 0..1, got {self.rate}")

    def __str__(self) -> str:
        fault = "ok" if self.fault is None else str(self.fault)
        rate = "" if self.rate == 1.0 else f"@{self.rate:g}"
        return f"{self.duration:g}:{fault}{rate}"


@dataclass(frozen=True)
class Schedule:
    """Phases run back to back from the moment the schedule is set.

    After the last phase the schedule is over (the provider falls back to its standing
    mode, healthy by default) unless ``loop`` is true.
    """

    phases: Sequence[Phase]
    seed: int = 0
    loop: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "phases", tuple(self.phases))
        if self.loop and not 0 < self.total < math.inf:
            raise ValueError("a looping schedule needs a finite, non-zero total duration")

    @property
    def total(self) -> float:
        """Seconds of one pass over all phases."""
        return sum(phase.duration for phase in self.phases)

    def locate(self, t: float) -> tuple[int, int] | None:
        """``(cycle, phase index)`` active ``t`` seconds after the start, None when over."""
        if t < 0 or not self.phases:
            return None
        cycle = 0
        if self.loop:
            cycles, t = divmod(t, self.total)
            cycle = int(cycles)
        for index, phase in enumerate(self.phases):
            if t < phase.duration:
                return cycle, index
            t -= phase.duration
        return None

    def phase_at(self, t: float) -> Phase | None:
        """The phase active ``t`` seconds after the start, None when the schedule is over."""
        where = self.locate(t)
        return None if where is None else self.phases[where[1]]

    @classmethod
    def parse(cls, spec: str, *, seed: int = 0, loop: bool = False) -> Schedule:
        """Read ``"5:ok,20:status=503,10:status=503@0.3"``: ``SECONDS:FAULT[@RATE]`` phases.

        ``FAULT`` is ``ok`` for a healthy phase or a :meth:`Fault.parse` spec.
        """
        return cls([_parse_phase(part) for part in spec.split(",") if part.strip()], seed, loop)

    def __str__(self) -> str:
        return ",".join(str(phase) for phase in self.phases)


def _parse_phase(text: str) -> Phase:
    seconds, colon, rest = text.strip().partition(":")
    if not colon:
        raise ValueError(f"schedule phase {text!r} must look like SECONDS:FAULT[@RATE]")
    fault_spec, rate = _split_rate(rest)
    fault = None if fault_spec.strip().lower() in ("ok", "healthy") else Fault.parse(fault_spec)
    try:
        return Phase(float(seconds), fault, rate)
    except ValueError as exc:
        raise ValueError(f"bad schedule phase {text!r}: {exc}") from None


def _split_rate(text: str) -> tuple[str, float]:
    """``status=503@0.3`` -> ``("status=503", 0.3)``; an ``@`` not followed by a number stays."""
    head, at, tail = text.rpartition("@")
    if at:
        try:
            return head, float(tail)
        except ValueError:
            pass
    return text, 1.0


class ScheduleClock:
    """A schedule set at ``started_at``: decides the fault for each arriving request.

    Not thread-safe on its own; the provider calls it under its lock.
    """

    def __init__(self, schedule: Schedule, started_at: float) -> None:
        self.schedule = schedule
        self.started_at = started_at
        self._rngs: dict[tuple[int, int], random.Random] = {}

    def decide(self, now: float) -> tuple[bool, Fault | None]:
        """``(active, fault)``: ``active`` is False once a non-looping schedule is over."""
        where = self.schedule.locate(now - self.started_at)
        if where is None:
            return False, None
        phase = self.schedule.phases[where[1]]
        if phase.fault is None or phase.rate >= 1.0:
            return True, phase.fault
        hit = self._rng(where).random() < phase.rate
        return True, phase.fault if hit else None

    def _rng(self, where: tuple[int, int]) -> random.Random:
        if where not in self._rngs:
            cycle, index = where
            self._rngs[where] = random.Random(f"{self.schedule.seed}:{cycle}:{index}")
        return self._rngs[where]
