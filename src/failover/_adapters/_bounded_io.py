"""Sync SDK clients whose every socket operation ends by the attempt's wall-clock bound.

Why: httpx2's timeouts bound each socket operation, not a response. A server that sends
its headers and then one byte every half second resets the read timeout with each byte
and holds a blocking call for as long as it likes (FACTS.md; measured: a 6 s deadline
overrun to 30 s). A blocking read cannot be interrupted from outside without a thread
per call, so instead no read is ever *allowed* to wait past the bound: the network
backend under the connection pool passes ``min(timeout, time left)`` to each read,
write and connect, and raises a timeout once the bound has passed. The timeout
surfaces through httpcore2, httpx2 and the SDK as their ordinary timeout errors, and
httpcore2 closes a connection whose response was cut, so it never returns to the pool.

httpx2 exposes no public way to choose a pool's network backend, so this module swaps
it into the pools of a client built with the SDK's own defaults (``DefaultHttpxClient``:
limits, redirects, TCP keep-alive, proxies from the environment). This is the one place
that reaches into httpx2's private attributes; ``bounded_http_client`` fails loudly if
they ever move, rather than silently dropping the bound.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from collections.abc import Iterable
from types import ModuleType
from typing import Any

import httpcore2
import httpx2

from .._deadline import attempt_scope, time_left

__all__ = ["bounded_http_client"]

_SocketOptions = Iterable[Any] | None


def _capped(timeout: float | None, error: type[Exception]) -> float | None:
    left = time_left()
    if left is None:
        return timeout
    if left <= 0:
        # A timeout of 0 would make the socket non-blocking, not fail it: fail it here.
        raise error("the attempt's wall-clock time ran out")
    return left if timeout is None else min(timeout, left)


class _BoundedStream(httpcore2.NetworkStream):
    def __init__(self, inner: httpcore2.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self._watched(httpcore2.ReadError)
        return self._inner.read(max_bytes, _capped(timeout, httpcore2.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._watched(httpcore2.WriteError)
        self._inner.write(buffer, _capped(timeout, httpcore2.WriteTimeout))

    def _watched(self, error: type[Exception]) -> None:
        # A hedged sync attempt may be called off from another thread (``_hedge.py``).
        scope = attempt_scope()
        if scope is not None and not scope.watch(self):
            self._inner.close()
            raise error("the attempt was called off: another target answered first")

    def shut(self) -> None:
        sock = self._inner.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore2.NetworkStream:
        timeout = _capped(timeout, httpcore2.ConnectTimeout)
        return _BoundedStream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _BoundedBackend(httpcore2.NetworkBackend):
    def __init__(self, inner: httpcore2.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: _SocketOptions = None,
    ) -> httpcore2.NetworkStream:
        timeout = _capped(timeout, httpcore2.ConnectTimeout)
        stream = _BoundedStream(
            self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        )
        stream._watched(httpcore2.ConnectError)  # called off while it connected?
        return stream

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: _SocketOptions = None
    ) -> httpcore2.NetworkStream:
        timeout = _capped(timeout, httpcore2.ConnectTimeout)
        return _BoundedStream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def bounded_http_client(sdk: ModuleType) -> httpx2.Client:
    """``sdk.DefaultHttpxClient()`` with every connection pool's I/O bounded (see above)."""
    client: httpx2.Client = sdk.DefaultHttpxClient()
    transports = [client._transport, *client._mounts.values()]
    for transport in transports:
        if transport is None:  # a mount that disables a URL pattern
            continue
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if backend is None:
            client.close()
            raise RuntimeError(
                "failover cannot bound this httpx2 version's I/O by wall clock: "
                f"{type(transport).__name__} has no _pool._network_backend"
            )
        if not isinstance(backend, _BoundedBackend):
            pool._network_backend = _BoundedBackend(backend)  # type: ignore[union-attr]
    return client
