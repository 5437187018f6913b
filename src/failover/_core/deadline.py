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

__all__ = ["Scope", "attempt_scope", "bounded", "current", "time_left"]


class bounded:  # lower case: used like contextlib's context managers
    """``with bounded(until, scope):`` no blocking socket operation runs past ``until``
    (monotonic), and ``scope`` (a hedged attempt's) can call the attempt off.

    Nested bounds keep the earlier time, and the outer scope unless given one. The
    object itself is what the I/O layer reads (``until``, ``scope``): one context
    look-up per socket operation. A class, not ``@contextmanager``: this runs once per
    attempt on the healthy path, where a generator-based manager costs several times
    more.
    """

    __slots__ = ("_token", "scope", "until")

    def __init__(self, until: float, scope: Scope | None = None) -> None:
        self.until = until
        self.scope = scope
        self._token: Token[bounded | None] | None = None

    def __enter__(self) -> None:
        outer = _bound.get()
        if outer is not None:
            self.until = min(outer.until, self.until)
            self.scope = self.scope or outer.scope
        self._token = _bound.set(self)

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            _bound.reset(self._token)
            self._token = None


_bound: ContextVar[bounded | None] = ContextVar("failover_io_bound", default=None)
current = _bound.get  # the I/O layer's one look-up per socket operation


def time_left() -> float | None:
    """Seconds until the current bound (may be <= 0), or None when unbounded."""
    bound = _bound.get()
    return None if bound is None else bound.until - time.monotonic()


def attempt_scope() -> Scope | None:
    """The scope the attempt in progress may be called off through, if any."""
    bound = _bound.get()
    return None if bound is None else bound.scope


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
