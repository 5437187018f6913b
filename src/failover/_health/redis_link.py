"""failover's connection to Redis, built so that Redis trouble never fails or stalls a call.

* Every command has a short socket timeout and **no retries**: redis-py 8 retries a
  failed command 10 times with exponential backoff by default, which would turn a dead
  Redis into seconds per call. Options in the URL cannot lengthen these timeouts.
* A breaker around Redis itself: after any error, calls stop using Redis at once (their
  callers use in-process state), and only the listener thread tries it again, every
  ``retry_every`` seconds, with a write (a Redis that answers PING but refuses writes,
  out of memory, is still away). So a dead Redis costs a request nothing after the
  first error, and recovery never runs on a request's time.
* One WARNING when Redis goes away and one when it is back, never one per call.
* The listener receives the state changes other processes publish and hands them to
  ``on_message``; after every (re)connection, ``on_reconnect`` reloads what was missed.
* ``on_tick`` runs on the listener every ``tick_every`` seconds while Redis is up: the
  owner's batched writes (the failure-rate window's successes).
* ``later()`` queues rare commands (a released probe lease) for the listener, so that
  they never run inside a garbage collector's finalizer on some request's thread.
* On an event loop, ``writer()`` gives that loop's ``redis.asyncio`` side
  (``_health/redis_async.py``), so that no Redis round trip ever blocks a loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
import weakref
from collections.abc import Callable, Collection
from typing import Any, TypeVar

from .._core.redact import redact
from .redis_async import LoopWriter
from .redis_where import RedisWhere, errors

__all__ = ["RedisLink"]

logger = logging.getLogger("failover")
T = TypeVar("T")


class RedisLink:
    """One Redis client for commands, and one listener thread that also reconnects."""

    def __init__(
        self,
        where: RedisWhere,
        channel: str,
        *,
        timeout: float,
        retry_every: float = 1.0,
        on_message: Callable[[str], None],
        on_reconnect: Callable[[], None],
        on_tick: Callable[[], None] = lambda: None,
        tick_every: float = 0.5,
        shard_channels: Callable[[], Collection[str]] | None = None,
    ) -> None:
        self._password = where.password
        self.errors: tuple[type[BaseException], ...] = errors()
        self.timeout = timeout
        self._where = where
        self._ours: dict[str, Any] = {
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
            "decode_responses": True,
        }
        self.redis = where.client(self._ours)
        # The listener polls with get_message(timeout=0.5); its own reads and connection
        # handshakes are bounded too, and a PING every few seconds notices a lost link.
        listen = {**self._ours, "socket_timeout": 2.0, "socket_connect_timeout": 1.0}
        listen["health_check_interval"] = 5
        self._listen = where.client(listen)
        self._writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopWriter] = (
            weakref.WeakKeyDictionary()
        )
        self.where = where.describe()
        self._channel = channel
        self._alive_key = f"{channel}:alive"
        self._retry_every = retry_every
        self._on_message = on_message
        self._on_reconnect = on_reconnect
        self._on_tick, self._tick_every, self._ticked = on_tick, tick_every, 0.0
        self._shards = shard_channels  # a Cluster: changes come on these shard channels
        self._lock = threading.Lock()
        self._thread_state = threading.local()  # "recovering": the listener's reload
        self.up = True  # read on every call, so a plain attribute; only this class sets it
        self._later: queue.SimpleQueue[Callable[[Any], object]] = queue.SimpleQueue()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="failover-redis", daemon=True)

    def start(self) -> None:
        """Start listening (once the owner is ready for ``on_message``/``on_reconnect``)."""
        self._thread.start()

    def run(self, command: Callable[[Any], T]) -> T | None:
        """``command(redis_client)``, or None when Redis is away (it is then not tried,
        except by the listener while it reloads the state)."""
        recovering = getattr(self._thread_state, "recovering", False)
        if not self.up and not recovering:
            return None
        try:
            return command(self.redis)
        except self.errors as exc:
            if recovering:
                raise  # _came_back decides
            self.went_down(exc)
            return None

    def writer(self) -> LoopWriter | None:
        """The running event loop's writer, or None when not called on a loop."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        with self._lock:
            found = self._writers.get(loop)
            if found is None:
                found = self._writers[loop] = LoopWriter(self)
            return found

    def async_client(self) -> Any:
        """A new ``redis.asyncio`` client with the same short timeouts and no retries."""
        return self._where.async_client(self._ours)

    async def close_async_client(self, client: Any) -> None:
        await self._where.aclose(client)

    def later(self, command: Callable[[Any], object]) -> None:
        """Run ``command(redis_client)`` soon on the listener thread (if Redis is up)."""
        self._later.put(command)

    def went_down(self, exc: BaseException) -> None:
        with self._lock:
            if not self.up:
                return
            self.up = False
        logger.warning(
            "failover: Redis at %s is unavailable (%s: %s); each process uses its own "
            "provider health until it returns",
            self.where,
            type(exc).__name__,
            redact(str(exc), self._password)[:160],
        )

    def _came_back(self) -> bool:
        """Try writes; if Redis takes them, reload the shared state and use it again."""
        self._thread_state.recovering = True
        for client in (self.redis, self._listen):
            self._where.refresh(client)  # a Cluster: which node serves each slot now
        # On a Cluster, a write in each target's slot: one node's slots may still be
        # unserved while the others answer, and "back" must not be said too soon.
        shards = self._shards() if self._shards is not None else ()
        alive = [f"{channel}:alive" for channel in shards] or [self._alive_key]
        try:
            for key in alive:
                self.redis.set(key, "1", px=60_000)
            self._on_reconnect()
        except self.errors:
            return False
        finally:
            self._thread_state.recovering = False
        with self._lock:
            self.up = True
        logger.warning("failover: Redis at %s is back; provider health is shared again", self.where)
        return True

    def _run(self) -> None:
        """Listen for changes; while Redis is away, try it again every ``retry_every``."""
        while not self._closed.is_set():
            pubsub: Any = None
            subscribed: set[str] = set()
            try:
                # Inside the try: a Cluster's client connects here, when first used.
                pubsub = self._listen.pubsub(ignore_subscribe_messages=True)
                if self._shards is None:
                    pubsub.subscribe(self._channel)
                if self.up:
                    self._subscribe_shards(pubsub, subscribed)
                    self._on_reconnect()  # what changed while we were not listening
                while not self._closed.is_set():
                    if not self.up and not self._came_back():
                        self._closed.wait(self._retry_every)
                        continue
                    self._run_later()
                    if time.monotonic() - self._ticked >= self._tick_every:
                        self._ticked = time.monotonic()
                        self._on_tick()  # batched writes (successes), off any request
                    message = self._next_message(pubsub, subscribed)
                    if message is not None and message.get("type") in ("message", "smessage"):
                        self._on_message(str(message["data"]))
            except self.errors as exc:
                self.went_down(exc)
                self._closed.wait(self._retry_every)
            except Exception:  # a bug in a handler must not end the listener
                logger.exception("failover: the Redis listener failed; restarting it")
                self._closed.wait(self._retry_every)
            finally:
                if pubsub is not None:
                    with contextlib.suppress(*self.errors):
                        pubsub.close()

    def _next_message(self, pubsub: Any, subscribed: set[str]) -> Any:
        """The next change published, or None after a short wait."""
        if self._shards is None:
            return pubsub.get_message(timeout=0.5)
        if self._subscribe_shards(pubsub, subscribed):
            self._on_reconnect()  # what the new targets' channels said before we listened
        if not subscribed:
            self._closed.wait(0.1)
            return None
        return pubsub.get_sharded_message(ignore_subscribe_messages=True, timeout=0.1)

    def _subscribe_shards(self, pubsub: Any, subscribed: set[str]) -> bool:
        """On a Cluster, subscribe to the shard channels of targets new since the last
        call; whether there were any."""
        if self._shards is None:
            return False
        new = set(self._shards()) - subscribed
        if new:
            pubsub.ssubscribe(*new)
            subscribed |= new
        return bool(new)

    def _run_later(self) -> None:
        while True:
            try:
                command = self._later.get_nowait()
            except queue.Empty:
                return
            self.run(command)

    def close(self) -> None:
        self._closed.set()
        if self._thread.is_alive():
            self._thread.join(timeout=3.0)
        for client in (self.redis, self._listen):
            with contextlib.suppress(*self.errors):
                client.close()
