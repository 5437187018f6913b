"""The idle limit of a committed async stream, with one timer per stream.

``asyncio.timeout`` around each read would schedule and cancel a timer handle for every
chunk: on short streams that was most of what failover added to the SDK's own work per
chunk. :class:`IdleTimer` keeps a single handle instead. When it comes due it looks at
the read in progress: if that read has waited less than the limit (chunks came in the
meantime), it re-arms for the read's own limit; if it has waited the whole limit, it
cancels the reading task, and the read raises ``TimeoutError`` as ``asyncio.timeout``
would. The reader's own cancellations pass through untouched.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TypeVar

__all__ = ["IdleTimer"]

T = TypeVar("T")


class IdleTimer:
    """Bound each ``await read(it)`` to ``idle`` seconds of waiting; make it in a task."""

    def __init__(self, idle: float) -> None:
        self._idle = idle
        self._loop = asyncio.get_running_loop()
        self._handle: asyncio.TimerHandle | None = None
        self._since = 0.0  # when the read in progress began
        self._reader: asyncio.Task[object] | None = None  # set only while a read waits
        self._fired = False

    async def read(self, items: AsyncIterator[T]) -> T:
        """``anext(items)``, or ``TimeoutError`` after ``idle`` seconds without an item."""
        task = asyncio.current_task()
        assert task is not None, "IdleTimer.read must run in a task"
        self._since = self._loop.time()
        if self._handle is None:
            self._handle = self._loop.call_at(self._since + self._idle, self._due)
        self._reader, self._fired, cancelling = task, False, task.cancelling()
        try:
            return await anext(items)
        except asyncio.CancelledError:
            if self._fired and task.uncancel() <= cancelling:
                raise TimeoutError from None
            raise
        finally:
            self._reader = None

    def _due(self) -> None:
        self._handle = None
        if self._reader is None:
            return  # the caller is busy with the last chunk: the next read re-arms
        if self._loop.time() - self._since < self._idle:
            self._handle = self._loop.call_at(self._since + self._idle, self._due)
            return
        self._fired = True
        self._reader.cancel()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
