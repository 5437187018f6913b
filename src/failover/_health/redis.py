"""Provider health shared by a fleet of processes through Redis: ``RedisHealth``.

What is shared, per target: the breaker (fleet-wide consecutive failures, and open
until when), the half-open probe as a lease that exactly one process holds, and
cool-downs (429 Retry-After, quota or key errors).

How it stays off the healthy path: each process keeps a *view* of every target's
shared state, loaded at start and kept current by the changes other processes publish
(``_health/redis_link.py``). Admitting a call reads only the view, so a healthy call costs no
Redis round trip. Redis is written only when something happens: a failure (whose reply
tells this process at once whether it tripped the breaker), a probe, a cool-down, and
the first success after this process's own failures. On an event loop these writes go
through ``redis.asyncio`` and are not awaited; only a probe is (``_health/redis_async.py``).

When Redis is away, every target falls back to its in-process ``TargetHealth``, which
is fed all along, so it starts warm.
"""

from __future__ import annotations

import hashlib
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from .._config.policy import Policy, Target
from .._core.errors import ConfigError
from . import redis_scripts as lua
from .redis_link import RedisLink
from .redis_where import DEFAULT_TIMEOUT, RedisWhere, sentinels_of
from .shared import SharedHealth, ms
from .store import Health

__all__ = ["RedisHealth"]


class RedisHealth:
    """Breakers, probes and cool-downs shared by every process using one Redis and ``prefix``.

    >>> Failover(chain, health=RedisHealth("redis://localhost:6379/0", prefix="myapp"))

    ``url`` is one Redis (``redis://``, ``rediss://`` with TLS options as redis-py reads
    them, ``unix://``); with ``cluster=True`` a seed node of a Redis Cluster; with
    ``sentinels`` (``["host:port", ...]``) and ``sentinel_master``, the primary they
    watch (``url``, optional, then gives its password, database and TLS).
    ``FAILOVER_REDIS_URL``, ``FAILOVER_REDIS_CLUSTER``, ``FAILOVER_REDIS_SENTINELS``,
    ``FAILOVER_REDIS_SENTINEL_MASTER``, ``FAILOVER_REDIS_PREFIX`` and
    ``FAILOVER_REDIS_TIMEOUT`` do the same from the environment (the client then owns
    the store and closes it). A store passed in may serve several clients of the process;
    ``close()`` it when they are done. Commands time out after ``timeout`` seconds (the
    longest a frozen Redis holds a call) and are never retried: if Redis is away,
    each process uses its own in-process health and tries Redis again every second.
    """

    def __init__(
        self,
        url: str = "",
        *,
        prefix: str = "failover",
        timeout: float = DEFAULT_TIMEOUT,
        cluster: bool = False,
        sentinels: Sequence[str] = (),
        sentinel_master: str = "",
    ) -> None:
        where = RedisWhere(url, cluster, sentinels_of(sentinels), sentinel_master)
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
        self._where = where.describe()
        self._sharded = where.cluster
        # Each client gets its own health per target (its own policy: fail_max, reset),
        # held weakly here so that clients made and dropped do not pile up.
        self._targets: dict[str, weakref.WeakSet[SharedHealth]] = {}
        self._lock = threading.Lock()
        self._link = RedisLink(
            where,
            f"{prefix}:health",
            timeout=timeout,
            on_message=self._message,
            on_reconnect=self._reload,
            on_tick=self._tick,
            shard_channels=self._shard_channels if where.cluster else None,
        )
        # Registered on first use: a Cluster's client connects only then.
        self._scripts: dict[str, Any] = {}
        self._link.start()

    @classmethod
    def at(
        cls, where: RedisWhere, *, prefix: str = "failover", timeout: float = DEFAULT_TIMEOUT
    ) -> RedisHealth:
        """The store for a Redis already described (``FAILOVER_REDIS_*``)."""
        sentinels = [f"{host}:{port}" for host, port in where.sentinels]
        return cls(
            where.url,
            prefix=prefix,
            timeout=timeout,
            cluster=where.cluster,
            sentinels=sentinels,
            sentinel_master=where.master,
        )

    @property
    def connected(self) -> bool:
        """False while Redis is away and each process uses its own health."""
        return self._link.up

    def for_target(self, target: Target, policy: Policy) -> Health:
        tid = hashlib.sha256(repr(target.key).encode()).hexdigest()[:20]
        health = SharedHealth(self, tid, target, policy)
        with self._lock:
            self._targets.setdefault(tid, weakref.WeakSet()).add(health)
        health.load()
        return health

    def _channel(self, health: SharedHealth) -> str:
        """Where ``health``'s changes are published: its own shard channel on a Cluster."""
        return f"{health.keys[0]}:health" if self._sharded else f"{self.prefix}:health"

    def _shard_channels(self) -> list[str]:
        """Every target's shard channel, for the listener to subscribe to."""
        return [self._channel(health) for health in self._healths()]

    def _healths(self, tid: str | None = None) -> list[SharedHealth]:
        with self._lock:
            groups = [self._targets.get(tid, ())] if tid else list(self._targets.values())
            return [health for group in groups for health in group]

    def _call(self, name: str, health: SharedHealth, args: tuple[str | int, ...]) -> Any:
        argv = [health.tid, self._channel(health), health.keep_ms, ms(time.time()), *args]
        return lambda client: self._script(client, name)(health.keys, argv)

    def _script(self, client: Any, name: str) -> Any:
        found = self._scripts.get(name)
        if found is None:
            found = self._scripts[name] = client.register_script(getattr(lua, name))
        return found

    def script(self, name: str, health: SharedHealth, *args: str | int) -> list[int] | None:
        """Run one of ``redis_scripts``' scripts for ``health``; None if Redis is away."""
        reply: Any = self._link.run(self._call(name, health, args))
        return None if reply is None else [int(x) for x in reply]

    def send(self, health: SharedHealth, name: str, *args: str | int) -> bool:
        """On an event loop: queue a script whose reply goes to ``health``, and return
        True. Elsewhere return False (the caller runs it with :meth:`script`)."""
        writer = self._link.writer()
        if writer is None:
            return False
        writer.send(self._async_call(name, health, args), health.take)
        return True

    async def ask(
        self,
        health: SharedHealth,
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
        self, name: str, health: SharedHealth, args: tuple[str | int, ...]
    ) -> Callable[[Any], Awaitable[Any]]:
        argv = [health.tid, self._channel(health), health.keep_ms, ms(time.time()), *args]
        source: str = getattr(lua, name)
        return lambda client: client.register_script(source)(health.keys, argv)

    async def settle(self) -> None:
        """Wait (briefly) until this event loop's queued writes have reached Redis."""
        writer = self._link.writer()
        if writer is not None:
            await writer.settle(max(1.0, 4 * self._link.timeout))

    def later(self, health: SharedHealth, name: str, *args: str | int) -> None:
        """Run a script soon on the listener thread (see ``RedisLink.later``)."""
        self._link.later(self._call(name, health, args))

    # -- values kept fleet-wide (the Responses API's transcripts, ``_responses/state.py``)
    def _kept(self, key: str) -> str:
        return f"{self.prefix}:kept:{key}"

    def keep(self, key: str, value: str, seconds: float) -> None:
        """Keep ``value`` under ``key`` for ``seconds``, for every process; on an event
        loop the write is queued, not awaited. Lost, not raised, while Redis is away."""
        name, ms_ = self._kept(key), max(1, int(seconds * 1000))
        writer = self._link.writer()
        if writer is None:
            self._link.run(lambda client: client.set(name, value, px=ms_))
        else:
            writer.send(lambda client: client.set(name, value, px=ms_), lambda _: None)

    def recall(self, key: str) -> str | None:
        """What :meth:`keep` kept under ``key`` (None: nothing, or Redis is away)."""
        found: Any = self._link.run(lambda client: client.get(self._kept(key)))
        return None if found is None else str(found)

    async def arecall(self, key: str) -> str | None:
        """:meth:`recall` from an event loop, without blocking it."""
        writer = self._link.writer()
        if writer is None or not self._link.up:
            return None
        name = self._kept(key)
        found: Any = await writer.ask(lambda client: client.get(name), lambda _: None)
        return None if found is None else str(found)

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
