"""The asyncio stream: :class:`ChatStream`'s twin, as an async iterator class.

Why a class and not an async generator like the sync stream: a stream that the caller
abandons (``break`` out of ``async for``, then drop it) is finalized by the event loop,
which schedules ``aclose()`` for *every* unfinished async generator it collects. An
outer generator that closes an inner one in its ``finally`` then races the loop's own
close of the inner one ("aclose(): asynchronous generator is already running"). Here
only the adapter's generator is left to the loop, which closes it (and with it the SDK
stream and its connection) exactly once.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator
from typing import Any

from openai.types.chat import ChatCompletionChunk

from .._adapters import Adapter
from .._adapters._errors import ProviderFault
from .._adapters.chunks import is_content_chunk
from .._config.policy import Target
from .._core.decisions import ErrorKind, Failure
from .._core.errors import FailoverError
from .._routing.call import Call
from .._routing.drive import run_async
from .._routing.router import Router
from .idle import IdleTimer
from .stream import Opened, StreamBase, first_token_missed, no_content
from .tally import params_for

__all__ = ["AsyncChatStream"]

Chunks = AsyncGenerator[ChatCompletionChunk, None]


class AsyncChatStream(StreamBase):
    """An async stream of ``ChatCompletionChunk``; it enforces its timeouts by wall clock.

    >>> async with await client.chat.completions.create(messages=msgs, stream=True) as s:
    ...     async for chunk in s:
    ...         print(chunk.choices[0].delta.content or "", end="")
    """

    def __init__(self, router: Router, call: Call, timeout: float | None = None) -> None:
        super().__init__(router, call, timeout)
        self._pending: deque[ChatCompletionChunk] = deque()
        self._rest: Chunks | None = None
        self._resumed = False
        self._done = False
        self._idle: IdleTimer | None = None  # made at the first read after commit

    async def _start(self) -> AsyncChatStream:
        try:
            opened, self.target = await run_async(
                self._call, self._opener(self._call, ""), on_lost=self._lost
            )
        except BaseException as exc:
            self._observe(error=exc)
            raise
        self._pending.extend(opened.chunks)
        self._rest = opened.rest
        return self

    async def _lost(self, opened: Opened[Chunks], target: Target) -> None:
        """A hedged opening that answered too but lost: close it, give no verdict."""
        await opened.rest.aclose()
        admission = self._call.take_admission(target)
        if admission is not None:
            self._router.health[target.key].release(admission)

    def _source(
        self, target: Target, adapter: Adapter, params: dict[str, Any], timeout: Any
    ) -> Chunks:
        """The chunks of one target's stream (a subclass may make them otherwise)."""
        return adapter.astream(params, timeout)

    def _opener(self, call: Call, partial: str) -> Any:
        policy = self._router.policy

        async def open_one(
            target: Target, adapter: Adapter, params: dict[str, Any]
        ) -> Opened[Chunks]:
            window = call.attempt_seconds(cap=policy.first_token_timeout)
            timeout = call.http_timeout(max(window, policy.stream_idle_timeout))
            events = self._source(target, adapter, params_for(target, params, partial), timeout)
            buffered: list[ChatCompletionChunk] = []
            try:
                async with asyncio.timeout(window):
                    async for chunk in events:
                        buffered.append(chunk)
                        if is_content_chunk(chunk):
                            return Opened(buffered, events)
            except TimeoutError:
                await events.aclose()
                raise first_token_missed(window) from None
            except BaseException:
                await events.aclose()
                raise
            fault = no_content(buffered)
            if fault is not None:
                raise fault
            return Opened(buffered, events)

        return open_one

    def __aiter__(self) -> AsyncChatStream:
        return self

    async def __anext__(self) -> ChatCompletionChunk:
        while not self._done:
            if self._pending:
                shown = self._visible(self._pending.popleft(), self._resumed)
            else:
                shown = await self._next_from_target()
            if shown is not None:
                return shown
        raise StopAsyncIteration

    async def _next_from_target(self) -> ChatCompletionChunk | None:
        """The next chunk to show, or None: nothing to show (yet), or the stream ended."""
        assert self._rest is not None
        idle = self._router.policy.stream_idle_timeout
        if self._idle is None:
            self._idle = IdleTimer(idle)
        error: Exception | None = None
        try:
            chunk = await self._idle.read(self._rest)
            return self._visible(chunk, self._resumed)
        except StopAsyncIteration:
            pass
        except TimeoutError:
            failure = Failure(kind=ErrorKind.TIMEOUT, message=f"no chunk for {idle:.1f} s")
            error = ProviderFault(failure)
        except Exception as exc:
            error = exc
        except BaseException:  # cancelled: no verdict on the target
            self._done = True
            await self._close_target()
            self._abandoned()
            raise
        await self._close_target()
        try:
            if self._finished(error):
                self._done = True
                return None
        except BaseException:
            self._done = True
            raise
        await self._resume()
        return None

    async def _resume(self) -> None:
        """Continue the answer on the next eligible target (FAILOVER_STREAM_RESUME)."""
        assert self.target is not None
        call = self._resume_call()
        try:
            opened, target = await run_async(
                call, self._opener(call, self._tally.text), after=self.target
            )
        except FailoverError as exc:
            self._done = True
            self._raise(f"stream could not be resumed after {self.target.label} broke", exc)
            return
        self._switched(target)
        self._resumed = True
        self._pending.extend(opened.chunks)
        self._rest = opened.rest

    async def _close_target(self) -> None:
        if self._idle is not None:
            self._idle.close()
            self._idle = None
        rest, self._rest = self._rest, None
        if rest is not None:
            await rest.aclose()

    async def aclose(self) -> None:
        """Stop reading and release the connection."""
        self._done = True
        self._pending.clear()
        await self._close_target()
        self._abandoned()

    async def close(self) -> None:
        """Like ``openai``'s ``AsyncStream.close()``: the same as :meth:`aclose`."""
        await self.aclose()

    async def __aenter__(self) -> AsyncChatStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
