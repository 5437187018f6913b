"""Responses streams that keep the chat streams' promises.

The chat streams' machinery (``stream.py``, ``async_stream.py``) opens, times, hedges
and judges every target's stream; here it gets its chunks from the Responses API where
the target serves it (each chunk carrying its native event) and from chat otherwise,
and the caller sees Responses events (``_responses/events.py``): one response id and
one ``sequence_number`` count, whichever target answered. Before the first content a
failing target is failed over; after it, a failure is an ``error`` event and a
``response.failed``, then :class:`~failover.StreamInterrupted` with the attempt log.
Resume (``FAILOVER_STREAM_RESUME``) is a chat feature: a Responses stream is not resumed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncGenerator, Generator, Iterator
from typing import Any, cast

from openai.types.chat import ChatCompletionChunk

from .._adapters import Adapter, NativeResponses
from .._adapters.responses_events import EventChunk
from .._config.policy import Target
from .._core.attempts import Attempt
from .._core.errors import StreamInterrupted
from .._responses.events import ChatEvents
from .._responses.state import Transcripts, response_id
from .._responses.to_chat import to_chat
from .._routing.call import Call
from .._routing.router import Router
from .async_stream import AsyncChatStream
from .conversation import Conversation
from .stream import ChatStream

__all__ = ["AsyncResponseEvents", "Kept", "ResponseEvents"]

Kept = tuple[Conversation, Transcripts]  # the call's conversation, and where turns are kept


def _chat(params: dict[str, Any]) -> dict[str, Any]:
    return {**to_chat(params), "stream_options": {"include_usage": True}}


class _Chunks(ChatStream):
    """The chat stream's machinery over Responses targets."""

    resumable = False

    def __init__(
        self, router: Router, call: Call, timeout: float | None, conversation: Conversation
    ) -> None:
        self.conversation = conversation  # before the stream opens, which reads it
        super().__init__(router, call, timeout)

    def _source(
        self, target: Target, adapter: Adapter, params: dict[str, Any], timeout: Any
    ) -> Generator[ChatCompletionChunk, None, None]:
        params = self.conversation.for_target(target, params)
        if target.native_responses:
            return cast("NativeResponses", adapter).respond_stream(params, timeout)
        return adapter.stream(_chat(params), timeout)


class _AsyncChunks(AsyncChatStream):
    resumable = False

    def __init__(
        self, router: Router, call: Call, timeout: float | None, conversation: Conversation
    ) -> None:
        self.conversation = conversation
        super().__init__(router, call, timeout)

    def _source(
        self, target: Target, adapter: Adapter, params: dict[str, Any], timeout: Any
    ) -> AsyncGenerator[ChatCompletionChunk, None]:
        params = self.conversation.for_target(target, params)
        if target.native_responses:
            return cast("NativeResponses", adapter).arespond_stream(params, timeout)
        return adapter.astream(_chat(params), timeout)


def _events(writer: ChatEvents, chunk: Any, first: bool) -> list[Any]:
    """The caller's events for a converted target's chunk (``first``: its first)."""
    opening = writer.started(chunk.model, chunk.created) if first else []
    return [*opening, *writer.chunk(chunk)]


class _Events:
    """What the sync and async Responses streams share: the writer, the conversation,
    and what the caller may ask of a stream."""

    _chunks: ChatStream | AsyncChatStream

    def __init__(self, call: Call, kept: Kept) -> None:
        self._conversation, self._transcripts = kept
        self._writer = ChatEvents(call.request, self._conversation.follows)

    def _opened(self) -> None:
        """The stream is open: its id names the target that answers."""
        assert self._chunks.target is not None
        self._writer.id = response_id(self._chunks.target.label)

    @property
    def attempts(self) -> tuple[Attempt, ...]:
        """The attempt log so far (complete once the stream has ended)."""
        return self._chunks.attempts

    @property
    def target(self) -> Target | None:
        """The target whose events the caller receives."""
        return self._chunks.target

    def _keep(self) -> None:
        """Keep the finished response's transcript for the next turn."""
        writer, target = self._writer, self._chunks.target
        if writer.final is not None and target is not None:  # its id is the stream's already
            vendor = writer.vendor_id or writer.id
            self._conversation.keep(self._transcripts, target, writer.final, writer.id, vendor)

    def _failed(self, broke: StreamInterrupted) -> list[Any]:
        """The events that say a committed stream broke (a native target's own error
        event was read as the failure, so it is written here too)."""
        target = self._chunks.target
        message = str(broke).split("\n")[0]
        return self._writer.failed("stream_interrupted", message, target.model if target else "")


class ResponseEvents(_Events):
    """A blocking stream of openai's ``ResponseStreamEvent``; iterate it, close it when
    done. It also feeds openai's ``ResponseStream`` helper (``client.responses.stream``)."""

    _chunks: _Chunks

    def __init__(self, router: Router, call: Call, timeout: float | None, kept: Kept) -> None:
        super().__init__(call, kept)
        self._chunks = _Chunks(router, call, timeout, self._conversation)
        self._opened()
        self._gen = self._run()

    @property
    def response(self) -> ResponseEvents:
        """What openai's helper closes when it is done (on an SDK stream, its HTTP
        response): this stream."""
        return self

    def _run(self) -> Generator[Any, None, None]:
        first = True
        native = False
        try:
            chunk: Any  # a ChatCompletionChunk, or an EventChunk read like one
            for chunk in self._chunks:
                if type(chunk) is EventChunk:  # the common case first: one event
                    native = True
                    yield self._writer.restamp(chunk.event)
                    continue
                yield from _events(self._writer, chunk, first)
                first = False
        except StreamInterrupted as broke:
            yield from self._failed(broke)
            raise
        if not native:  # a native stream's own response.completed has passed through
            yield from self._writer.completed()
        self._keep()

    def __iter__(self) -> Iterator[Any]:
        return self._gen

    def __next__(self) -> Any:
        return next(self._gen)

    def close(self) -> None:
        """Stop reading and release the connection."""
        self._gen.close()
        self._chunks.close()

    def __enter__(self) -> ResponseEvents:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncResponseEvents(_Events):
    """The asyncio twin of :class:`ResponseEvents` (an async iterator class, for the
    reason ``async_stream.py`` gives)."""

    _chunks: _AsyncChunks

    def __init__(self, router: Router, call: Call, timeout: float | None, kept: Kept) -> None:
        super().__init__(call, kept)
        self._chunks = _AsyncChunks(router, call, timeout, self._conversation)
        self._pending: deque[Any] = deque()
        self._first, self._native, self._ended = True, False, False

    async def _start(self) -> AsyncResponseEvents:
        await self._chunks._start()
        self._opened()
        return self

    @property
    def response(self) -> AsyncResponseEvents:
        """What openai's helper closes when it is done: this stream."""
        return self

    def __aiter__(self) -> AsyncResponseEvents:
        return self

    async def __anext__(self) -> Any:
        while not self._pending:
            if self._ended:
                raise StopAsyncIteration
            event = await self._read()
            if event is not None:
                return event
        item = self._pending.popleft()
        if isinstance(item, StreamInterrupted):
            raise item
        return item

    async def _read(self) -> Any:
        """A native event to hand on at once, or None (events queued, or the end)."""
        try:
            chunk: Any = await self._chunks.__anext__()
        except StopAsyncIteration:
            self._ended = True
            if not self._native:
                self._pending.extend(self._writer.completed())
            self._keep()
            return None
        except StreamInterrupted as broke:
            self._ended = True
            self._pending.extend(self._failed(broke))
            self._pending.append(broke)  # raised once the events before it are read
            return None
        if type(chunk) is EventChunk:  # the common case first: one event, no queue
            self._native = True
            return self._writer.restamp(chunk.event)
        self._pending.extend(_events(self._writer, chunk, self._first))
        self._first = False
        return None

    async def aclose(self) -> None:
        """Stop reading and release the connection."""
        self._ended = True
        self._pending.clear()
        await self._chunks.aclose()

    async def close(self) -> None:
        await self.aclose()

    async def __aenter__(self) -> AsyncResponseEvents:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
