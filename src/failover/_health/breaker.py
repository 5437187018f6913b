"""Per-target health: a pybreaker circuit breaker plus a rate-limit cool-down.

pybreaker keeps the counts, the state machine, listeners and (optionally) shared
storage. It falls short in three ways (FACTS.md), which this module covers, and only
these:

* its call API holds a threading lock for the whole call and never awaits
  coroutines, so we never run the request inside it: we *admit* a call, run it
  ourselves (sync or async), then *report* the outcome through ``calling()`` with a
  no-op body, which takes the lock only for an instant;
* in half-open state it lets every concurrent caller through; we let exactly one
  probe through and treat the others as still open;
* its open-state error does not say when to come back; ``Admission.retry_at`` does;
* it only counts consecutive failures: a :class:`~failover._health.window.FailureWindow`
  opens it on a failure rate too, through pybreaker's own ``open()``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import pybreaker

from . import transitions as _transitions
from .window import FailureWindow

__all__ = ["ADMITTED", "Admission", "Snapshot", "TargetHealth"]


class _Counted(Exception):
    """Stands in for a real failure when reporting it to pybreaker."""


@dataclass(frozen=True, slots=True)
class Admission:
    """Whether a call may go to the target now.

    ``allowed`` False means skip it; ``retry_at`` (``time.time()`` seconds) says when
    it may be tried again and ``reason`` is ``breaker_open`` or ``cooling_down``.
    ``probe`` is True for the single half-open trial call; ``token`` names the fleet-wide
    probe lease when health is shared through Redis (``_health/redis.py``).
    """

    allowed: bool
    probe: bool = False
    reason: str = ""
    retry_at: float = 0.0
    token: str = ""


ADMITTED = Admission(allowed=True)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A target's health as the health view shows it; reading it sends nothing.

    ``state`` is ``closed``, ``open``, ``half-open`` or ``cooling-down``; ``failures``
    the consecutive failures this process counted; ``retry_at`` when the target may be
    tried again (``time.time()`` seconds, None if now); ``shared`` whether the state is
    the fleet's (Redis) rather than this process's.
    """

    state: str
    failures: int = 0
    retry_at: float | None = None
    shared: bool = False


class TargetHealth:
    """Breaker and cool-down state of one target; safe from threads and event loops."""

    def __init__(
        self,
        name: str,
        *,
        fail_max: int,
        reset_timeout: float,
        speaks: Callable[[], bool] = lambda: True,
        window: FailureWindow | None = None,
    ) -> None:
        """``speaks()`` says whether this health's transitions are the ones to log; shared
        health keeps an in-process one that only speaks while Redis is away. ``window``
        adds the failure-rate rule."""
        self.breaker = pybreaker.CircuitBreaker(
            fail_max=fail_max,
            reset_timeout=reset_timeout,
            name=name,
            throw_new_error_on_trip=False,
            listeners=[_Said(self)],
        )
        self._lock = threading.Lock()
        self._probing = False
        self._cool_until = 0.0
        # Closed with no failure counted: the healthy path's answer without asking
        # pybreaker (four property look-ups in another module per call). Set again
        # wherever this class changes pybreaker's state.
        self._clean = True
        self.speaks = speaks
        self.window = window or FailureWindow(1.0, 1, 0.0)  # ratio 0: the rule is off

    @property
    def state(self) -> str:
        """``closed``, ``open`` or ``half-open``, as pybreaker reports it."""
        return str(self.breaker.current_state)

    def _opened_until(self) -> float:
        opened_at: datetime | None = self.breaker._state_storage.opened_at
        opened = opened_at.timestamp() if opened_at else 0.0
        return opened + float(self.breaker.reset_timeout)

    def admit(self) -> Admission:
        """Decide whether one call may be sent now; a probe must be reported or released."""
        now = time.time()
        with self._lock:
            if now < self._cool_until:
                return Admission(False, reason="cooling_down", retry_at=self._cool_until)
            if self._clean:
                return ADMITTED
            state = self.breaker.current_state
            if state == pybreaker.STATE_CLOSED:
                return ADMITTED
            if state == pybreaker.STATE_OPEN and now < self._opened_until():
                return Admission(False, reason="breaker_open", retry_at=self._opened_until())
            # Open with its reset time passed, or half-open: exactly one probe at a time.
            if self._probing:
                return Admission(False, reason="breaker_open", retry_at=now + 1.0)
            if state == pybreaker.STATE_OPEN:
                self.breaker.half_open()
                self._clean = False
            self._probing = True
            return Admission(True, probe=True)

    async def admit_async(self) -> Admission:
        """:meth:`admit`, for the async driver (nothing here waits)."""
        return self.admit()

    def release(self, admission: Admission) -> None:
        """Forget an admission whose call ended without a verdict (e.g. cancelled)."""
        if admission.probe:
            with self._lock:
                self._probing = False

    def record_success(self, admission: Admission) -> None:
        """Report a success (resets the count; closes a half-open breaker)."""
        if self.window.ratio:
            with self._lock:
                self.window.success()
        if self._clean and not admission.probe:
            return  # nothing to reset; skipping pybreaker keeps the healthy path cheap
        self._report(admission, failed=False)

    def record_failure(self, admission: Admission) -> None:
        """Report a failure that counts (5xx, timeouts, connection errors)."""
        self._report(admission, failed=True)

    def cool_down(self, seconds: float) -> None:
        """Skip this target for ``seconds`` without counting a breaker failure (429)."""
        now = time.time()
        with self._lock:
            started = self._cool_until <= now
            self._cool_until = max(self._cool_until, now + seconds)
            until = self._cool_until
        if started and self.speaks():
            _transitions.note(self.breaker.name or "", self.state, "cooling-down", until=until)

    def _report(self, admission: Admission, *, failed: bool) -> None:
        with self._lock:
            if admission.probe:
                self._probing = False
            # A call admitted while closed may finish after another call opened the
            # breaker; pybreaker would reject the report. That outcome is moot anyway.
            if self.breaker.current_state == pybreaker.STATE_OPEN:
                return
            try:
                with self.breaker.calling():
                    if failed:
                        raise _Counted
            except (_Counted, pybreaker.CircuitBreakerError):
                pass
            # The failure-rate rule: a provider failing half its calls, never fail_max
            # of them in a row, opens too (a probe's verdict is pybreaker's alone).
            tripped = failed and not admission.probe and self.window.failure()
            if tripped and self.breaker.current_state == pybreaker.STATE_CLOSED:
                self.breaker.open()
            state, failures = self.breaker.current_state, self.breaker.fail_counter
            self._clean = failures == 0 and state == pybreaker.STATE_CLOSED

    def snapshot(self) -> Snapshot:
        now = time.time()
        with self._lock:
            cool, state = self._cool_until, self.breaker.current_state
            failures = self.breaker.fail_counter
        if now < cool:
            return Snapshot("cooling-down", failures, cool)
        if state == pybreaker.STATE_OPEN:
            until = self._opened_until()
            return (
                Snapshot("open", failures, until)
                if now < until
                else Snapshot("half-open", failures)
            )
        return Snapshot(str(state), failures)

    def peek(self) -> Admission:
        """Like :meth:`admit` but without taking the probe slot (for dashboards)."""
        now = time.time()
        with self._lock:
            if now < self._cool_until:
                return Admission(False, reason="cooling_down", retry_at=self._cool_until)
            if self.breaker.current_state == pybreaker.STATE_OPEN and now < self._opened_until():
                return Admission(False, reason="breaker_open", retry_at=self._opened_until())
            return ADMITTED


class _Said(pybreaker.CircuitBreakerListener):
    """pybreaker's transitions, to the log and to telemetry (``_health/transitions.py``)."""

    def __init__(self, health: TargetHealth) -> None:
        self._health = health

    def state_change(
        self,
        cb: pybreaker.CircuitBreaker,
        old_state: pybreaker.CircuitBreakerState | None,
        new_state: pybreaker.CircuitBreakerState,
    ) -> None:
        self._health.window.reset()  # calls from before a transition say nothing after it
        if old_state is None or not self._health.speaks():
            return
        new = str(new_state.name)
        until = self._health._opened_until() if new == "open" else 0.0
        _transitions.note(cb.name or "", str(old_state.name), new, until=until)
