"""The wall-clock bound of the attempt in progress, as the blocking I/O layer sees it.

The router sets it around each sync attempt (and a stream's opening); the bounded
network backend in ``_adapters/_bounded_io.py`` reads it on every socket operation. A
context variable carries it because the vendor SDKs sit between the two and pass no
such thing down. Kept free of heavy imports: the router imports it on the hot path.
"""

from __future__ import annotations

import time
from contextvars import ContextVar, Token

__all__ = ["bounded", "time_left"]

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
