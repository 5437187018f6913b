"""Where the fleet's Redis is, and how to reach it: one plain server (``redis://``,
``rediss://`` with TLS, ``unix://``), a Redis Cluster, or a primary watched by Sentinel.

This is the one place that knows the three: it checks the settings (a ConfigError names
the variable), describes them without secrets for logs, and builds redis-py's clients,
blocking and asyncio alike, always with failover's short timeouts and no retries
(``_health/redis_link.py`` says why). TLS options ride on the URL as redis-py reads
them: ``rediss://host:6380/0?ssl_ca_certs=/ca.pem&ssl_certfile=...&ssl_keyfile=...``.

* **Cluster** (``FAILOVER_REDIS_CLUSTER=1``): the URL names one seed node; redis-py's
  ``RedisCluster`` finds the others and sends each script to the node of its keys'
  slot (every key of one target shares a hash tag, so one slot).
* **Sentinel** (``FAILOVER_REDIS_SENTINELS=host:port,...`` and
  ``FAILOVER_REDIS_SENTINEL_MASTER``): the sentinels name the primary, on every new
  connection, so a promoted replica is found on the next reconnection. The URL, if
  set, gives the primary's password, database and TLS.

Every command times out after ``FAILOVER_REDIS_TIMEOUT`` seconds (default 0.05, at most
5): the longest a frozen Redis may hold a call before the process uses its own health.
A Redis farther away than a few milliseconds needs more, or it is taken for gone.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .._core.errors import ConfigError

__all__ = [
    "DEFAULT_TIMEOUT",
    "TIMEOUT_VAR",
    "URL_VAR",
    "Deferred",
    "RedisWhere",
    "check_redis_url",
    "describe_redis_url",
    "errors",
    "sentinels_of",
    "timeout_from_env",
]

URL_VAR = "FAILOVER_REDIS_URL"
CLUSTER_VAR = "FAILOVER_REDIS_CLUSTER"
SENTINELS_VAR = "FAILOVER_REDIS_SENTINELS"
MASTER_VAR = "FAILOVER_REDIS_SENTINEL_MASTER"
TIMEOUT_VAR = "FAILOVER_REDIS_TIMEOUT"
DEFAULT_TIMEOUT = 0.05  # seconds per command: a nearby Redis answers in well under 1 ms
_LONGEST_TIMEOUT = 5.0
_FORM = "redis://[:password@]host[:port][/db], rediss://... or unix:///path/to/socket"


def timeout_from_env(env: Mapping[str, str]) -> float:
    """Seconds each Redis command may take (``FAILOVER_REDIS_TIMEOUT``), checked."""
    raw = env.get(TIMEOUT_VAR, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0 < value <= _LONGEST_TIMEOUT:  # also refuses nan
        raise ConfigError(
            f"{TIMEOUT_VAR} must be seconds above 0 and at most {_LONGEST_TIMEOUT:g}, got {raw!r}",
            variable=TIMEOUT_VAR,
        )
    return value


def check_redis_url(url: str) -> None:
    """Raise a ConfigError naming FAILOVER_REDIS_URL unless ``url`` can be connected to."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigError(f"{URL_VAR} must look like {_FORM}", variable=URL_VAR) from None
    if parts.scheme in ("redis", "rediss") and parts.hostname:
        return
    if parts.scheme == "unix" and parts.path:
        return
    raise ConfigError(f"{URL_VAR} must look like {_FORM}", variable=URL_VAR)


def describe_redis_url(url: str) -> str:
    """The URL without user, password or options, for logs and reprs."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix://{parts.path}"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}{parts.path}"


@dataclass(frozen=True, slots=True)
class RedisWhere:
    """A plain Redis (``url``), a Cluster (``cluster``: ``url`` is a seed node), or the
    primary that ``sentinels`` name ``master`` (``url``, optional, for its password,
    database and TLS)."""

    url: str = ""
    cluster: bool = False
    sentinels: tuple[tuple[str, int], ...] = ()
    master: str = ""
    password: str | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.sentinels:
            if self.cluster:
                raise ConfigError(
                    f"{CLUSTER_VAR} and {SENTINELS_VAR} are both set: a Redis is a Cluster "
                    "or a primary watched by Sentinel, not both",
                    variable=SENTINELS_VAR,
                )
            if not self.master:
                raise ConfigError(
                    f"{SENTINELS_VAR} needs {MASTER_VAR}, the name the sentinels monitor",
                    variable=MASTER_VAR,
                )
        elif not self.url:
            raise ConfigError(f"shared health needs {URL_VAR}", variable=URL_VAR)
        if self.url:
            check_redis_url(self.url)
            if self.cluster and urlsplit(self.url).scheme == "unix":
                raise ConfigError(
                    f"{CLUSTER_VAR}=1 needs a seed node's redis:// or rediss:// URL in "
                    f"{URL_VAR}, not a unix socket",
                    variable=URL_VAR,
                )
        object.__setattr__(self, "password", urlsplit(self.url).password if self.url else None)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RedisWhere | None:
        """The Redis the environment names, or None when it names none."""
        url = env.get(URL_VAR, "").strip()
        raw = env.get(SENTINELS_VAR, "").strip()
        if not url and not raw:
            return None
        flag = env.get(CLUSTER_VAR, "").strip().lower()
        if flag not in ("", "0", "1", "true", "false", "yes", "no"):
            raise ConfigError(f"{CLUSTER_VAR} must be 1 or 0, got {flag!r}", variable=CLUSTER_VAR)
        master = env.get(MASTER_VAR, "").strip()
        return cls(url, flag in ("1", "true", "yes"), _sentinels(raw), master)

    def refresh(self, client: Any) -> None:
        """Read a Cluster client's map of slots to nodes again (nothing for other forms).

        redis-py reads it again after a command fails, but not for sharded pub/sub: after
        a master fails over to its replica, SSUBSCRIBE would keep going to the dead node.
        """
        if self.cluster:
            with contextlib.suppress(*errors()):
                client.nodes_manager.initialize()

    def describe(self) -> str:
        """Where, without secrets: for logs, reprs and the health view."""
        if self.sentinels:
            hosts = ",".join(f"{host}:{port}" for host, port in self.sentinels)
            return f"sentinel://{hosts}/{self.master}"
        where = describe_redis_url(self.url)
        return f"{where} (cluster)" if self.cluster else where

    def client(self, ours: Mapping[str, Any]) -> Any:
        """A blocking client with ``ours`` (timeouts, no retries) over the URL's options."""
        import redis
        from redis.cluster import RedisCluster
        from redis.retry import Retry
        from redis.sentinel import Sentinel

        plain = lambda **kw: redis.Redis(connection_pool=redis.ConnectionPool(**kw))  # noqa: E731
        # redis-py's RedisCluster connects in its constructor: build it on first use.
        cluster = lambda **kw: Deferred(lambda: RedisCluster(**kw))  # noqa: E731
        return self._build(ours, Retry, plain, cluster, Sentinel)

    def async_client(self, ours: Mapping[str, Any]) -> Any:
        """The ``redis.asyncio`` twin of :meth:`client` (whose cluster connects lazily)."""
        from redis.asyncio import ConnectionPool, Redis
        from redis.asyncio.cluster import RedisCluster
        from redis.asyncio.retry import Retry
        from redis.asyncio.sentinel import Sentinel

        plain = lambda **kw: Redis(connection_pool=ConnectionPool(**kw))  # noqa: E731
        return self._build(ours, Retry, plain, RedisCluster, Sentinel)

    def _build(
        self,
        ours: Mapping[str, Any],
        retry: Any,
        plain: Callable[..., Any],
        cluster: Callable[..., Any],
        sentinel: Any,
    ) -> Any:
        """One of the three forms, from one family of redis-py classes (blocking or
        asyncio), with ``ours`` and no retries."""
        from redis.backoff import NoBackoff

        settings = {**self._settings(), **ours, "retry": retry(NoBackoff(), 0)}
        if self.cluster:
            return cluster(**_options(settings, "db", "path"))
        if self.sentinels:
            watch = sentinel(list(self.sentinels), sentinel_kwargs=_for_sentinels(ours))
            return watch.master_for(self.master, **_options(settings, "host", "port", "path"))
        return plain(**settings)

    async def aclose(self, client: Any) -> None:
        """Close an :meth:`async_client` and its connections (a Cluster's ``aclose``
        takes no arguments and closes them all)."""
        if self.cluster:
            await client.aclose()
        else:
            await client.aclose(close_connection_pool=True)

    def _settings(self) -> dict[str, Any]:
        if not self.url:
            return {}
        from redis.connection import parse_url

        try:
            return dict(parse_url(self.url))  # type: ignore[no-untyped-call]
        except ValueError as exc:
            raise ConfigError(
                f"{URL_VAR}: {exc}; it must look like {_FORM}", variable=URL_VAR
            ) from None


class Deferred:
    """A client built on its first use, and again on the next use after a failed build.

    redis-py's ``RedisCluster`` connects in its constructor (and raises
    ``RedisClusterException``, not a ``RedisError``, when no node answers): a cluster
    that is down when a process starts must not stop the process, only leave its calls
    on local state until the listener reaches the cluster.
    """

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._client: Any = None
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._make()
                client = self._client
        return getattr(client, name)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def errors() -> tuple[type[BaseException], ...]:
    """What redis-py raises when Redis, in any form, is away or refuses."""
    import redis
    from redis.exceptions import RedisClusterException

    return (redis.RedisError, RedisClusterException, OSError)


def _sentinels(raw: str) -> tuple[tuple[str, int], ...]:
    found = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        host, _, port = item.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(
                f"{SENTINELS_VAR} must be host:port,host:port,..., got {item!r}",
                variable=SENTINELS_VAR,
            )
        found.append((host.strip("[]"), int(port)))
    return tuple(found)


def _for_sentinels(ours: Mapping[str, Any]) -> dict[str, Any]:
    """The sentinels' own connections: as short as the commands', since asking them is
    part of a (re)connection."""
    return {k: ours[k] for k in ("socket_timeout", "socket_connect_timeout") if k in ours}


def _options(settings: Mapping[str, Any], *dropped: str) -> dict[str, Any]:
    """The URL's options without ``dropped`` (a cluster has only database 0; the
    sentinels name the primary's address), and TLS as a flag, as a cluster's and
    Sentinel's clients take it."""
    kept = {k: v for k, v in settings.items() if k not in dropped and k != "connection_class"}
    connection = settings.get("connection_class")
    if connection is not None and connection.__name__ == "SSLConnection":
        kept["ssl"] = True
    return kept


def sentinels_of(items: Sequence[str]) -> tuple[tuple[str, int], ...]:
    """``["host:port", ...]`` as code gives them, checked as the variable is."""
    return _sentinels(",".join(items))
