"""The wall-clock bound of the attempt in progress, as the blocking I/O layer sees it.

The router sets it around each sync attempt (and a stream's opening); the bounded
network backend in ``_adapters/_bounded_io.py`` reads it on every socket operation. A
context variable carries it because the vendor SDKs sit between the two and pass no
such thing down. Kept free of heavy imports: the router imports it on the hot path.
"""

from __future__ import annotations

import threading
import time
from contextvars import ContextVar, Token
from typing import Protocol

__all__ = ["Scope", "attempt_scope", "bounded", "scoped", "time_left"]

_bound: ContextVar[float | None] = ContextVar("failover_io_bound", default=None)


def time_left() -> float | None:
    """Seconds until the current bound (may be <= 0), or None when unbounded."""
    bound = _bound.get()
    return None if bound is None else bound - time.monotonic()


class bounded:  # lower case: used like contextlib's context managers
    """``with bounded(until):`` no blocking socket operation runs past ``until``.

    Nested bounds keep the earlier one. A class, not ``@contextmanager``: this runs once
    per attempt on the healthy path, where a generator-based manager costs several times
    more.
    """

    __slots__ = ("_token", "_until")

    def __init__(self, until: float) -> None:
        self._until = until
        self._token: Token[float | None] | None = None

    def __enter__(self) -> None:
        outer = _bound.get()
        until = self._until if outer is None else min(outer, self._until)
        self._token = _bound.set(until)

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            _bound.reset(self._token)
            self._token = None


class Scope:
    """A sync attempt that another thread may call off: a hedge that lost the race.

    A blocking read cannot be interrupted, but its socket can be shut down from another
    thread, which wakes it at once. So the bounded I/O layer shows the scope every
    stream the attempt uses (new or from the pool), and :meth:`cancel` shuts them down;
    an operation that starts after that fails at once.
    """

    __slots__ = ("_lock", "_streams", "cancelled")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._streams: list[Closable] = []
        self.cancelled = False

    def watch(self, stream: Closable) -> bool:
        """Note a stream the attempt uses; False if the attempt was called off."""
        with self._lock:
            if not self.cancelled and stream not in self._streams:
                self._streams.append(stream)
            return not self.cancelled

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            streams, self._streams = self._streams, []
        for stream in streams:
            stream.shut()


class Closable(Protocol):
    def shut(self) -> None:
        """Shut the socket down, waking a read blocked on it in another thread."""


_scope: ContextVar[Scope | None] = ContextVar("failover_attempt_scope", default=None)


def attempt_scope() -> Scope | None:
    return _scope.get()


class scoped:  # lower case, like ``bounded``
    """``with scoped(scope):`` the attempt in this context can be called off."""

    __slots__ = ("_scope", "_token")

    def __init__(self, scope: Scope | None) -> None:
        self._scope = scope
        self._token: Token[Scope | None] | None = None

    def __enter__(self) -> None:
        if self._scope is not None:
            self._token = _scope.set(self._scope)

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            _scope.reset(self._token)
            self._token = None
