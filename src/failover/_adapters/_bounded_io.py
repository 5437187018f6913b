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
import time
from collections.abc import Iterable
from types import ModuleType
from typing import Any

import httpcore2
import httpx2

from .._core.deadline import bounded, current

__all__ = ["bounded_http_client"]

_SocketOptions = Iterable[Any] | None
_CALLED_OFF = "the attempt was called off: another target answered first"


def _cap(
    bound: bounded,
    stream: _BoundedStream | None,
    timeout: float | None,
    expired: type[Exception],
    called_off: type[Exception],
) -> float | None:
    """``timeout`` cut to the attempt's time left. Raises ``expired`` once that has run
    out, and ``called_off`` once a hedge called the attempt off (``stream`` is shown to
    the attempt's scope first, so that a later call-off can shut it down)."""
    scope = bound.scope
    if scope is not None and stream is not None and not scope.watch(stream):
        stream.close()
        raise called_off(_CALLED_OFF)
    left = bound.until - time.monotonic()
    if left <= 0:
        # A timeout of 0 would make the socket non-blocking, not fail it: fail it here.
        raise expired("the attempt's wall-clock time ran out")
    return left if timeout is None else min(timeout, left)


class _BoundedStream(httpcore2.NetworkStream):
    # read and write run several times per request: one context look-up each, and
    # nothing more while no attempt is bounded.
    def __init__(self, inner: httpcore2.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        bound = current()
        if bound is not None:
            timeout = _cap(bound, self, timeout, httpcore2.ReadTimeout, httpcore2.ReadError)
        return self._inner.read(max_bytes, timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        bound = current()
        if bound is not None:
            timeout = _cap(bound, self, timeout, httpcore2.WriteTimeout, httpcore2.WriteError)
        self._inner.write(buffer, timeout)

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
        timeout = _connect_timeout(timeout)
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
        timeout = _connect_timeout(timeout)
        stream = _BoundedStream(
            self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        )
        bound = current()
        scope = bound.scope if bound is not None else None
        if scope is not None and not scope.watch(stream):  # called off while it connected
            stream.close()
            raise httpcore2.ConnectError(_CALLED_OFF)
        return stream

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: _SocketOptions = None
    ) -> httpcore2.NetworkStream:
        timeout = _connect_timeout(timeout)
        return _BoundedStream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _connect_timeout(timeout: float | None) -> float | None:
    bound = current()
    if bound is None:
        return timeout
    return _cap(bound, None, timeout, httpcore2.ConnectTimeout, httpcore2.ConnectError)


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
