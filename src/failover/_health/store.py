"""Where provider health lives: one small interface, two implementations.

The router asks a :class:`HealthStore` once per target, at construction, for a
:class:`Health`, and from then on only calls that; it never asks which store it has.
:class:`LocalHealth` keeps each target's breaker and cool-down in this process (the
default). ``failover.RedisHealth`` shares them with every process that uses the same
Redis and prefix (``FAILOVER_REDIS_URL``), and falls back to the in-process state
whenever Redis is away.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from .._config.policy import Policy, Target
from .._core.decisions import ErrorKind
from .breaker import Admission, Snapshot, TargetHealth
from .window import FailureWindow

__all__ = [
    "Health",
    "HealthStore",
    "LocalHealth",
    "TargetStatus",
    "failure_window",
]


class Health(Protocol):
    """One target's health, as calls use it (``TargetHealth`` is the in-process one)."""

    @property
    def state(self) -> str:
        """``closed``, ``open`` or ``half-open``."""
        ...

    def admit(self) -> Admission:
        """May a call go now? A probe admission must be reported or released."""
        ...

    async def admit_async(self) -> Admission:
        """:meth:`admit` on an event loop, which any Redis round trip must not block."""
        ...

    def peek(self) -> Admission:
        """Like :meth:`admit`, without taking the probe."""
        ...

    def release(self, admission: Admission) -> None:
        """The call ended without a verdict (cancelled, abandoned)."""
        ...

    def record_success(self, admission: Admission) -> None: ...

    def record_failure(self, admission: Admission) -> None: ...

    def cool_down(self, seconds: float) -> None:
        """Skip the target for ``seconds`` without counting a failure (429, quota)."""
        ...

    def snapshot(self) -> Snapshot:
        """The state for the health view (``client.health()``); sends nothing."""
        ...


class HealthStore(Protocol):
    """Makes each target's :class:`Health`; chosen once, when a client is built."""

    def for_target(self, target: Target, policy: Policy) -> Health: ...

    async def settle(self) -> None:
        """Wait until this event loop's writes (if it queues any) have been made."""
        ...

    def close(self) -> None: ...


def failure_window(policy: Policy) -> FailureWindow:
    """The failure-rate rule ``policy`` asks for (``breaker_failure_ratio`` 0: off)."""
    ratio = policy.breaker_failure_ratio
    return FailureWindow(policy.breaker_window, policy.breaker_min_calls, ratio)


class LocalHealth:
    """Breakers and cool-downs in this process only: each process learns alone."""

    def for_target(self, target: Target, policy: Policy) -> Health:
        return TargetHealth(
            target.label,
            fail_max=policy.breaker_fail_max,
            reset_timeout=policy.breaker_reset,
            window=failure_window(policy),
        )

    async def settle(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return "LocalHealth()"


@dataclass(frozen=True, slots=True)
class TargetStatus:
    """One target in ``client.health()``: what failover knows, without sending anything.

    ``state`` is ``closed``, ``open``, ``half-open`` or ``cooling-down``. ``failures``
    counts this process's consecutive failures; ``retry_at`` is when the target may be
    tried again (``time.time()`` seconds; None: now); ``last_error`` and
    ``last_error_at`` the latest failure this client saw. ``shared`` is True when the
    state is the fleet's (Redis), False when it is this process's own. ``place`` is the
    target's place in the chain (1 first; the targets of a group share one), ``weight``
    its share of its group's calls, and ``in_flight`` the requests this process has in
    flight on it (None for a target alone in its place, whose load is not tracked).
    ``headroom`` is what its latest rate-limit headers said is left (``requests``,
    ``tokens``, ``input tokens``, ``output tokens``) until their reset (None, likewise,
    for a target alone in its place).
    """

    target: str
    state: str
    failures: int = 0
    retry_at: float | None = None
    last_error: ErrorKind | None = None
    last_error_at: float | None = None
    shared: bool = False
    place: int = 1
    weight: float = 1.0
    in_flight: int | None = None
    headroom: Mapping[str, int] | None = None
