"""failover's connection to Redis, built so that Redis trouble never fails or stalls a call.

* Every command has a short socket timeout and **no retries**: redis-py 8 retries a
  failed command 10 times with exponential backoff by default, which would turn a dead
  Redis into seconds per call.
* A breaker around Redis itself: after an error, commands are not even tried for
  ``retry_every`` seconds (the callers use their in-process state meanwhile), so a dead
  Redis costs at most one timeout per second, not one per call.
* One WARNING when Redis goes away and one when it is back, never one per call.
* A listener thread receives the state changes other processes publish and hands them
  to ``on_message``; after a reconnection, ``on_reconnect`` reloads what was missed.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from ._exceptions import ConfigError

__all__ = ["RedisLink", "check_redis_url", "describe_redis_url"]

logger = logging.getLogger("failover")
T = TypeVar("T")
_VAR = "FAILOVER_REDIS_URL"


def check_redis_url(url: str) -> None:
    """Raise a ConfigError naming FAILOVER_REDIS_URL unless ``url`` can be connected to."""
    form = "redis://[:password@]host[:port][/db], rediss://... or unix:///path/to/socket"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigError(f"{_VAR} must look like {form}", variable=_VAR) from None
    if parts.scheme in ("redis", "rediss") and parts.hostname:
        return
    if parts.scheme == "unix" and parts.path:
        return
    raise ConfigError(f"{_VAR} must look like {form}", variable=_VAR)


def describe_redis_url(url: str) -> str:
    """The URL without user or password, for logs and reprs."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix://{parts.path}"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}{parts.path}"


class RedisLink:
    """One Redis client and one listener thread, shared by a store's targets."""

    def __init__(
        self,
        url: str,
        channel: str,
        *,
        timeout: float,
        retry_every: float = 1.0,
        on_message: Callable[[str], None],
        on_reconnect: Callable[[], None],
    ) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        options: dict[str, Any] = {
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
            "retry": Retry(NoBackoff(), 0),
            "decode_responses": True,
        }
        self.redis = redis.Redis.from_url(url, **options)
        # The listener blocks in reads between messages, so its client has no read timeout.
        self._listen = redis.Redis.from_url(url, **{**options, "socket_timeout": None})
        self.where = describe_redis_url(url)
        self._channel = channel
        self._retry_every = retry_every
        self._on_message = on_message
        self._on_reconnect = on_reconnect
        self._lock = threading.Lock()
        self._up = True
        self._down_until = 0.0
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="failover-redis", daemon=True)

    def start(self) -> None:
        """Start listening (once the owner is ready for ``on_message``/``on_reconnect``)."""
        self._thread.start()

    @property
    def up(self) -> bool:
        return self._up

    def run(self, command: Callable[[Any], T]) -> T | None:
        """``command(redis_client)``, or None when Redis is away (now or recently)."""
        if not self._up and time.monotonic() < self._down_until:
            return None
        try:
            result = command(self.redis)
        except self._errors as exc:
            self._went_down(exc)
            return None
        if not self._up:
            self._came_back()
        return result

    def _went_down(self, exc: BaseException) -> None:
        with self._lock:
            self._down_until = time.monotonic() + self._retry_every
            if not self._up:
                return
            self._up = False
        logger.warning(
            "failover: Redis at %s is unavailable (%s: %s); each process uses its own "
            "provider health until it returns",
            self.where,
            type(exc).__name__,
            str(exc)[:120],
        )

    def _came_back(self) -> None:
        with self._lock:
            if self._up:
                return
            self._up = True
        logger.warning("failover: Redis at %s is back; provider health is shared again", self.where)
        self._on_reconnect()

    def _run(self) -> None:
        """Listen for state changes; on any error, reconnect every ``retry_every``."""
        while not self._closed.is_set():
            pubsub = self._listen.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
            try:
                pubsub.subscribe(self._channel)
                if self._up:
                    self._on_reconnect()  # what changed while we were not listening
                else:
                    self._came_back()  # which reloads too
                while not self._closed.is_set():
                    message = pubsub.get_message(timeout=0.5)
                    if message is not None and message.get("type") == "message":
                        self._on_message(str(message["data"]))
            except self._errors as exc:
                self._went_down(exc)
                self._closed.wait(self._retry_every)
            except Exception:  # a bug in a handler must not end the listener
                logger.exception("failover: the Redis listener failed; restarting it")
                self._closed.wait(self._retry_every)
            finally:
                with contextlib.suppress(*self._errors):
                    pubsub.close()

    def close(self) -> None:
        self._closed.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)
        for client in (self.redis, self._listen):
            with contextlib.suppress(*self._errors):
                client.close()
