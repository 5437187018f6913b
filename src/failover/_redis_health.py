"""Provider health shared by a fleet of processes through Redis: ``RedisHealth``.

What is shared, per target: the breaker (fleet-wide consecutive failures, and open
until when), the half-open probe as a lease that exactly one process holds, and
cool-downs (429 Retry-After, quota or key errors).

How it stays off the healthy path: each process keeps a *view* of every target's
shared state, loaded at start and kept current by the changes other processes publish
(``_redis_link.py``). Admitting a call reads only the view, so a healthy call costs no
Redis round trip. Redis is written only when something happens: a failure (whose reply
tells this process at once whether it tripped the breaker), a probe, a cool-down, and
the first success after this process's own failures. On an event loop these writes go
through ``redis.asyncio`` and are not awaited; only a probe is (``_redis_async.py``).

When Redis is away, every target falls back to its in-process ``TargetHealth``, which
is fed all along, so it starts warm.
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from . import _redis_scripts as lua
from . import _transitions
from ._breaker import ADMITTED, Admission, Snapshot, TargetHealth
from ._config import Policy, Target
from ._exceptions import ConfigError
from ._health import Health, failure_window
from ._redis_link import RedisLink, check_redis_url, describe_redis_url

__all__ = ["RedisHealth"]

_PLAIN = ADMITTED  # how a shared probe's outcome is reported to the local fallback


@dataclass(frozen=True, slots=True)
class _View:
    """A target's shared state as this process last learned it (``time.time()`` seconds)."""

    open_until: float = 0.0
    cool_until: float = 0.0
    probe_until: float = 0.0
    version: int = -1


class RedisHealth:
    """Breakers, probes and cool-downs shared by every process using ``url`` and ``prefix``.

    >>> Failover(chain, health=RedisHealth("redis://localhost:6379/0", prefix="myapp"))

    ``FAILOVER_REDIS_URL`` and ``FAILOVER_REDIS_PREFIX`` do the same from the environment
    (the client then owns the store and closes it). A store passed in may serve several
    clients of the process; ``close()`` it when they are done.
    Commands time out after ``timeout`` seconds and are never retried: if Redis is away,
    each process uses its own in-process health and tries Redis again every second.
    """

    def __init__(self, url: str, *, prefix: str = "failover", timeout: float = 0.05) -> None:
        check_redis_url(url)
        try:
            import redis as _redis_py  # noqa: F401 - only to give a clear error if missing
        except ImportError:
            raise ConfigError(
                'shared health needs redis-py: pip install "failover[redis]"',
                variable="FAILOVER_REDIS_URL",
            ) from None
        if not prefix or any(c in prefix for c in "{} "):
            raise ConfigError(
                f"FAILOVER_REDIS_PREFIX must be non-empty, without braces or spaces: {prefix!r}",
                variable="FAILOVER_REDIS_PREFIX",
            )
        self.prefix = prefix
        self._where = describe_redis_url(url)
        # Each client gets its own health per target (its own policy: fail_max, reset),
        # held weakly here so that clients made and dropped do not pile up.
        self._targets: dict[str, weakref.WeakSet[_SharedHealth]] = {}
        self._lock = threading.Lock()
        self._link = RedisLink(
            url,
            f"{prefix}:health",
            timeout=timeout,
            on_message=self._message,
            on_reconnect=self._reload,
            on_tick=self._tick,
        )
        self._scripts = {
            name: self._link.redis.register_script(getattr(lua, name))
            for name in (
                "FAIL",
                "SUCCESSES",
                "RESET",
                "PROBE",
                "VERDICT",
                "RELEASE",
                "COOL",
                "READ",
            )
        }
        self._link.start()

    @property
    def connected(self) -> bool:
        """False while Redis is away and each process uses its own health."""
        return self._link.up

    def for_target(self, target: Target, policy: Policy) -> Health:
        tid = hashlib.sha256(repr(target.key).encode()).hexdigest()[:20]
        health = _SharedHealth(self, tid, target, policy)
        with self._lock:
            self._targets.setdefault(tid, weakref.WeakSet()).add(health)
        health.load()
        return health

    def _healths(self, tid: str | None = None) -> list[_SharedHealth]:
        with self._lock:
            groups = [self._targets.get(tid, ())] if tid else list(self._targets.values())
            return [health for group in groups for health in group]

    def _call(self, name: str, health: _SharedHealth, args: tuple[str | int, ...]) -> Any:
        argv = [health.tid, f"{self.prefix}:health", health.keep_ms, _ms(time.time()), *args]
        return lambda _: self._scripts[name](health.keys, argv)

    def script(self, name: str, health: _SharedHealth, *args: str | int) -> list[int] | None:
        """Run one of ``_redis_scripts``' scripts for ``health``; None if Redis is away."""
        reply: Any = self._link.run(self._call(name, health, args))
        return None if reply is None else [int(x) for x in reply]

    def send(self, health: _SharedHealth, name: str, *args: str | int) -> bool:
        """On an event loop: queue a script whose reply goes to ``health``, and return
        True. Elsewhere return False (the caller runs it with :meth:`script`)."""
        writer = self._link.writer()
        if writer is None:
            return False
        writer.send(self._async_call(name, health, args), health.take)
        return True

    async def ask(
        self,
        health: _SharedHealth,
        name: str,
        *args: str | int,
        orphan: Callable[[Any], None],
    ) -> list[int] | None:
        """Run a script from an event loop and await its reply; None if Redis is away.
        A reply nobody waits for any more goes to ``orphan``."""
        writer = self._link.writer()
        if writer is None or not self._link.up:
            return None
        reply = await writer.ask(self._async_call(name, health, args), orphan)
        return None if reply is None else [int(x) for x in reply]

    def _async_call(
        self, name: str, health: _SharedHealth, args: tuple[str | int, ...]
    ) -> Callable[[Any], Awaitable[Any]]:
        argv = [health.tid, f"{self.prefix}:health", health.keep_ms, _ms(time.time()), *args]
        source: str = getattr(lua, name)
        return lambda client: client.register_script(source)(health.keys, argv)

    async def settle(self) -> None:
        """Wait (briefly) until this event loop's queued writes have reached Redis."""
        writer = self._link.writer()
        if writer is not None:
            await writer.settle(max(1.0, 4 * self._link.timeout))

    def later(self, health: _SharedHealth, name: str, *args: str | int) -> None:
        """Run a script soon on the listener thread (see ``RedisLink.later``)."""
        self._link.later(self._call(name, health, args))

    def _message(self, data: str) -> None:
        parts = data.split()
        if len(parts) != 5 or not all(x.isdigit() for x in parts[1:]):
            return  # not a message of ours
        for health in self._healths(parts[0]):  # none: another application's target
            health.apply([0, *(int(x) for x in parts[1:])])

    def _tick(self) -> None:
        for health in self._healths():
            health.flush()

    def _reload(self) -> None:
        for health in self._healths():
            health.load(replace=True)

    def close(self) -> None:
        self._link.close()

    def __repr__(self) -> str:
        return f"RedisHealth({self._where!r}, prefix={self.prefix!r})"


def _ms(seconds: float) -> int:
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


class _SharedHealth:
    """One target's health: the fleet's state when Redis is up, this process's when not."""

    def __init__(self, store: RedisHealth, tid: str, target: Target, policy: Policy) -> None:
        self.tid = tid
        tag = f"{store.prefix}:{{{tid}}}"  # the braces: one Cluster slot per target
        self.keys = [tag, f"{tag}:probe", f"{tag}:window"]
        self.keep_ms = _ms(min(max(2 * policy.breaker_reset, 60.0), 86400.0))
        self._store = store
        self._fail_max = policy.breaker_fail_max
        self._reset_ms = _ms(min(policy.breaker_reset, 86400.0 * 365))
        # A probe may take a whole attempt; its lease outlives that a little. (A probe
        # stream read for longer loses its lease: its late verdict is then ignored.)
        self._lease_ms = _ms(min(policy.attempt_timeout, 3600.0) + 1.0)
        self.label = target.label
        self._local = TargetHealth(
            target.label,
            fail_max=policy.breaker_fail_max,
            reset_timeout=policy.breaker_reset,
            speaks=lambda: not self._shared(),  # its transitions matter only while alone
            window=failure_window(policy),
        )
        self._view = _View()
        self._lock = threading.RLock()  # for apply(): the listener thread writes too
        self._owes_reset = False  # this process failed since its last success
        # The failure-rate rule, fleet-wide: successes are counted here and sent in
        # batches (with the next failure, or every half second), never one write each.
        self._rate = (
            _ms(policy.breaker_window),
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

    def _shared(self) -> bool:
        return self._store.connected

    # -- Health -----------------------------------------------------------------------
    @property
    def state(self) -> str:
        if not self._shared():
            return self._local.state
        view, now = self._view, time.time()
        if not view.open_until:
            return "closed"
        return "open" if now < view.open_until else "half-open"

    def snapshot(self) -> Snapshot:
        local = self._local.snapshot()
        if not self._shared():
            return local
        view, now = self._view, time.time()
        if now < view.cool_until:
            return Snapshot("cooling-down", local.failures, view.cool_until, shared=True)
        if now < view.open_until:
            return Snapshot("open", local.failures, view.open_until, shared=True)
        state = "half-open" if view.open_until else "closed"
        return Snapshot(state, local.failures, shared=True)

    def peek(self) -> Admission:
        if not self._shared():
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
        if not self._shared():
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
        if self._successes and self._shared():
            self._run("SUCCESSES", self._take_successes(), self._rate[0])

    def cool_down(self, seconds: float) -> None:
        self._local.cool_down(seconds)
        self._write("COOL", _ms(time.time() + seconds))

    def _verdict(self, admission: Admission, ok: int) -> None:
        self._write("VERDICT", admission.token, ok, self._reset_ms)
