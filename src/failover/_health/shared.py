"""One target's health in a fleet: the fleet's state from Redis, or this process's own.

:class:`SharedHealth` keeps a *view* of the target's shared state (open until, cooling
until, probe lease until, version), which ``RedisHealth`` loads and keeps current from
the changes other processes publish, and runs the store's scripts when something
happens. While Redis is away it answers from its in-process ``TargetHealth``, which it
feeds all along. Each change of the view is a transition, said once (``transitions.py``).
"""

from __future__ import annotations

import functools
import os
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from .._config.policy import Policy, Target
from . import transitions as _transitions
from .breaker import ADMITTED, Admission, Snapshot, TargetHealth
from .store import failure_window

__all__ = ["SharedHealth", "Store", "ms"]

_PLAIN = ADMITTED  # how a shared probe's outcome is reported to the local fallback


class Store(Protocol):
    """What a target's health needs of ``RedisHealth``."""

    prefix: str

    @property
    def connected(self) -> bool: ...

    def script(self, name: str, health: SharedHealth, *args: str | int) -> list[int] | None: ...

    def send(self, health: SharedHealth, name: str, *args: str | int) -> bool: ...

    async def ask(
        self, health: SharedHealth, name: str, *args: str | int, orphan: Any
    ) -> list[int] | None: ...

    def later(self, health: SharedHealth, name: str, *args: str | int) -> None: ...


@dataclass(frozen=True, slots=True)
class _View:
    """A target's shared state as this process last learned it (``time.time()`` seconds)."""

    open_until: float = 0.0
    cool_until: float = 0.0
    probe_until: float = 0.0
    version: int = -1


def ms(seconds: float) -> int:
    return int(seconds * 1000)


def _changes(before: _View, after: _View, now: float) -> list[tuple[str, str, float]]:
    """The transitions a view change shows: ``(old, new, until)``."""
    found = []
    if after.open_until != before.open_until:
        if after.open_until > now:
            found.append(("half-open" if before.open_until else "closed", "open", after.open_until))
        elif not after.open_until:
            found.append(("open", "closed", 0.0))
    if after.open_until and after.probe_until > now >= before.probe_until:
        found.append(("open", "half-open", 0.0))
    if after.cool_until > now >= before.cool_until:
        found.append(("closed", "cooling-down", after.cool_until))
    return found


class SharedHealth:
    """One target's health: the fleet's state when Redis is up, this process's when not."""

    def __init__(self, store: Store, tid: str, target: Target, policy: Policy) -> None:
        self.tid = tid
        tag = f"{store.prefix}:{{{tid}}}"  # the braces: one Cluster slot per target
        self.keys = [tag, f"{tag}:probe", f"{tag}:window"]
        self.keep_ms = ms(min(max(2 * policy.breaker_reset, 60.0), 86400.0))
        self._store = store
        self._fail_max = policy.breaker_fail_max
        self._reset_ms = ms(min(policy.breaker_reset, 86400.0 * 365))
        # A probe may take a whole attempt; its lease outlives that a little. (A probe
        # stream read for longer loses its lease: its late verdict is then ignored.)
        self._lease_ms = ms(min(policy.attempt_timeout, 3600.0) + 1.0)
        self.label = target.label
        self._local = TargetHealth(
            target.label,
            fail_max=policy.breaker_fail_max,
            reset_timeout=policy.breaker_reset,
            speaks=lambda: not self._store.connected,  # its transitions matter only while alone
            window=failure_window(policy),
        )
        self._view = _View()
        self._lock = threading.RLock()  # for apply(): the listener thread writes too
        self._owes_reset = False  # this process failed since its last success
        # The failure-rate rule, fleet-wide: successes are counted here and sent in
        # batches (with the next failure, or every half second), never one write each.
        self._rate = (
            ms(policy.breaker_window),
            policy.breaker_min_calls,
            policy.breaker_failure_ratio,
        )
        self._successes = 0
        self._token = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"

    # -- the view -------------------------------------------------------------------
    def load(self, *, replace: bool = False) -> None:
        """Read the state; ``replace``: take it even if older (a reload after a
        reconnection: Redis may have lost its data meanwhile)."""
        reply = self._store.script("READ", self)
        if reply is not None:
            self.apply(reply, replace=replace)

    def apply(self, reply: list[int], *, replace: bool = False) -> None:
        """Take a script's reply or a published change, unless the view is newer."""
        _, opened, cooled, probing, version = reply
        with self._lock:
            before = self._view
            if not (replace or version >= before.version):
                return
            self._view = after = _View(opened / 1000, cooled / 1000, probing / 1000, version)
        for old, new, until in _changes(before, after, time.time()):
            _transitions.note(self.label, old, new, until=until, shared=True)

    def _run(self, script: str, *args: str | int) -> list[int] | None:
        """Run a script for this target and take its reply into the view."""
        reply = self._store.script(script, self, *args)
        if reply is not None:
            self.apply(reply)
        return reply

    def _write(self, script: str, *args: str | int) -> None:
        """A script whose reply only refreshes the view: not awaited on an event loop."""
        if not self._store.send(self, script, *args):
            self._run(script, *args)

    def take(self, reply: Any) -> None:
        """A reply that came back on an event loop's writer."""
        self.apply([int(x) for x in reply])

    def _orphan(self, token: str, reply: Any) -> None:
        """A probe reply that came after its caller stopped waiting: free the lease."""
        self.take(reply)
        if int(reply[0]) == 1:
            self._store.later(self, "RELEASE", token)

    # -- Health -----------------------------------------------------------------------
    @property
    def state(self) -> str:
        if not self._store.connected:
            return self._local.state
        view, now = self._view, time.time()
        if not view.open_until:
            return "closed"
        return "open" if now < view.open_until else "half-open"

    def snapshot(self) -> Snapshot:
        local = self._local.snapshot()
        if not self._store.connected:
            return local
        view, now = self._view, time.time()
        if now < view.cool_until:
            return Snapshot("cooling-down", local.failures, view.cool_until, shared=True)
        if now < view.open_until:
            return Snapshot("open", local.failures, view.open_until, shared=True)
        state = "half-open" if view.open_until else "closed"
        return Snapshot(state, local.failures, shared=True)

    def peek(self) -> Admission:
        if not self._store.connected:
            return self._local.peek()
        view, now = self._view, time.time()
        if now < view.cool_until:
            return Admission(False, reason="cooling_down", retry_at=view.cool_until)
        if now < view.open_until:
            return Admission(False, reason="breaker_open", retry_at=view.open_until)
        return ADMITTED

    def admit(self) -> Admission:
        wanted = self._wants_probe()
        if isinstance(wanted, Admission):
            return wanted
        return self._probed(wanted, self._run("PROBE", wanted, self._lease_ms))

    async def admit_async(self) -> Admission:
        """:meth:`admit` for an event loop: a probe's round trip is awaited."""
        wanted = self._wants_probe()
        if isinstance(wanted, Admission):
            return wanted
        orphan = functools.partial(self._orphan, wanted)
        reply = await self._store.ask(self, "PROBE", wanted, self._lease_ms, orphan=orphan)
        if reply is not None:
            self.apply(reply)
        return self._probed(wanted, reply)

    def _wants_probe(self) -> Admission | str:
        """The admission, or the token to ask the fleet's probe lease with."""
        if not self._store.connected:
            return self._local.admit()
        seen = self.peek()
        if not seen.allowed or not self._view.open_until:
            return seen
        # The reset time has passed: one process in the fleet gets the probe.
        if time.time() < self._view.probe_until:
            return Admission(False, reason="breaker_open", retry_at=self._view.probe_until)
        return f"{self._token}-{uuid.uuid4().hex[:8]}"

    def _probed(self, token: str, reply: list[int] | None) -> Admission:
        if reply is None:  # Redis went away just now
            return self._local.admit()
        if reply[0] == 2:  # closed, whatever this view remembered (Redis lost it?)
            self.apply(reply, replace=True)
            return ADMITTED
        if reply[0] == 1:
            return Admission(True, probe=True, token=token)
        return Admission(False, reason="breaker_open", retry_at=time.time() + 1.0)

    def release(self, admission: Admission) -> None:
        if admission.token:
            # This may run in a finalizer (an abandoned stream): no I/O here.
            self._store.later(self, "RELEASE", admission.token)
        else:
            self._local.release(admission)

    def record_success(self, admission: Admission) -> None:
        if admission.token:
            self._local.record_success(_PLAIN)
            self._verdict(admission, 1)
            return
        self._local.record_success(admission)
        if self._rate[2]:
            with self._lock:
                self._successes += 1
        if self._owes_reset:  # the fleet's count of consecutive failures starts over
            self._owes_reset = False
            self._write("RESET")

    def record_failure(self, admission: Admission) -> None:
        if admission.token:
            self._local.record_failure(_PLAIN)
            self._verdict(admission, 0)
            return
        self._local.record_failure(admission)
        self._owes_reset = True
        window_ms, min_calls, ratio = self._rate
        args = (self._take_successes(), window_ms, min_calls, str(ratio))
        self._write("FAIL", self._fail_max, self._reset_ms, *args)

    def _take_successes(self) -> int:
        with self._lock:
            taken, self._successes = self._successes, 0
        return taken

    def flush(self) -> None:
        """Send the successes counted since the last failure or flush (listener thread)."""
        if self._successes and self._store.connected:
            self._run("SUCCESSES", self._take_successes(), self._rate[0])

    def cool_down(self, seconds: float) -> None:
        self._local.cool_down(seconds)
        self._write("COOL", ms(time.time() + seconds))

    def _verdict(self, admission: Admission, ok: int) -> None:
        self._write("VERDICT", admission.token, ok, self._reset_ms)
