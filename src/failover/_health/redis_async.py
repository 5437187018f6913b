"""Shared-health writes from an event loop, through ``redis.asyncio``.

redis-py's blocking client, used on an event loop, would hold every coroutine of the
loop for a round trip, and for up to its whole timeout when Redis is slow. So on a
loop, health writes go through a :class:`LoopWriter` instead:

* One task per loop runs the loop's Redis commands, in the order they were made (a
  breaker's FAIL before its RESET), each bounded by the link's socket timeouts.
* Writes whose reply only refreshes the shared view (a failure, a cool-down, a
  verdict) are sent and not awaited. The one command a call must wait for, the fleet's
  half-open probe, is awaited for at most the link's timeout; a probe lease granted to
  a caller that stopped waiting (cancelled, timed out) is released at once, so that it
  cannot block the fleet's next probe.
* The task and its connection exist only while there is work: they end when the queue
  runs dry. Failures, probes and cool-downs come in bursts, and a loop that ends (or a
  test's loop) must not be left with a pending task or an unclosed connection.

Errors are the link's to judge (``RedisLink.went_down``): callers then use their
in-process health, exactly as with the blocking client.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["AsyncCommand", "Link", "LoopWriter"]

AsyncCommand = Callable[[Any], Awaitable[Any]]  # given a redis.asyncio.Redis client


class Link(Protocol):
    """What a writer needs of its ``RedisLink``: its health, and a client to write with."""

    timeout: float
    errors: tuple[type[BaseException], ...]

    @property
    def up(self) -> bool: ...

    def went_down(self, exc: BaseException) -> None: ...

    def async_client(self) -> Any: ...

    async def close_async_client(self, client: Any) -> None: ...


@dataclass(slots=True)
class _Job:
    command: AsyncCommand
    on_reply: Callable[[Any], None]
    answer: asyncio.Future[Any] | None = None


class LoopWriter:
    """Runs one event loop's Redis commands in order, from one short-lived task."""

    def __init__(self, link: Link) -> None:
        self._link = link
        self._queue: collections.deque[_Job] = collections.deque()
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    def send(self, command: AsyncCommand, on_reply: Callable[[Any], None]) -> None:
        """Queue ``command``; ``on_reply`` gets its reply (never None) when it comes."""
        self._put(_Job(command, on_reply))

    async def ask(self, command: AsyncCommand, orphan: Callable[[Any], None]) -> Any:
        """Run ``command`` and return its reply, or None if Redis did not answer within
        the link's timeout. A reply that comes after the caller stopped waiting goes to
        ``orphan`` instead."""
        job = _Job(command, orphan, asyncio.get_running_loop().create_future())
        self._put(job)
        assert job.answer is not None
        try:
            async with asyncio.timeout(self._link.timeout):
                return await asyncio.shield(job.answer)
        except TimeoutError as exc:
            self._link.went_down(exc)  # as a blocking read that timed out would
            return None
        finally:
            if not job.answer.done():
                job.answer.cancel()  # the reply, if any, now goes to ``orphan``

    async def settle(self, timeout: float) -> None:
        """Wait (at most ``timeout`` seconds) until every queued command has run."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._idle.wait()

    def _put(self, job: _Job) -> None:
        if not self._link.up:
            self._give(job, None)
            return
        self._queue.append(job)
        self._idle.clear()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._drain(), name="failover-redis-writes"
            )

    async def _drain(self) -> None:
        client = self._link.async_client()
        try:
            while self._queue:
                job = self._queue.popleft()
                if not self._link.up:
                    self._give(job, None)
                    continue
                try:
                    reply = await job.command(client)
                except self._link.errors as exc:
                    self._link.went_down(exc)
                    reply = None
                self._give(job, reply)
        finally:
            while self._queue:  # cancelled with the loop: nobody will read the rest
                self._give(self._queue.popleft(), None)
            self._task = None  # a command queued from here on starts a new task
            try:
                with contextlib.suppress(*self._link.errors):
                    await self._link.close_async_client(client)
            finally:
                # Idle once the connection is closed too, so that aclose() leaves no
                # task behind still closing it; unless a new task has work meanwhile.
                if self._task is None:
                    self._idle.set()

    @staticmethod
    def _give(job: _Job, reply: Any) -> None:
        if job.answer is not None and not job.answer.done():
            job.answer.set_result(reply)
        elif reply is not None:
            job.on_reply(reply)
