"""Streams the caller stops reading: take the first line, or the web client went away.

Nothing may be reported to the event loop, no connection may leak, and the target is
not blamed (a breaker that opens on one failure stays closed).
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import time
from collections.abc import Iterator
from typing import Any

import pytest

from failover import AsyncFailover, Failover
from failover.testing import FakeProvider, Fault, Reply

from .conftest import FAST, MESSAGES, target

STRICT = dataclasses.replace(FAST, breaker_fail_max=1)
LONG = Reply("word " * 200)  # far more than one read: the stream is mid-body when dropped
ROUNDS = 30


@pytest.fixture(params=["openai", "anthropic"])
def fake(request: pytest.FixtureRequest) -> Iterator[FakeProvider]:
    with FakeProvider(request.param, reply=LONG) as provider:
        yield provider


def _settled_connections(fake: FakeProvider) -> int:
    deadline = time.monotonic() + 2.0
    while fake.active_connections and time.monotonic() < deadline:
        time.sleep(0.01)
    return fake.active_connections


def test_abandoned_async_streams_report_nothing_and_leak_nothing(fake: FakeProvider) -> None:
    reported: list[dict[str, Any]] = []

    async def go() -> tuple[str, int]:
        asyncio.get_running_loop().set_exception_handler(lambda _, ctx: reported.append(ctx))
        async with AsyncFailover([target(fake)], policy=STRICT) as client:
            for _ in range(ROUNDS):
                stream = await client.chat.completions.create(messages=MESSAGES, stream=True)
                async for _chunk in stream:
                    break
                del stream  # dropped unclosed, as a disconnected web handler does
            gc.collect()
            for _ in range(20):  # let the loop run the finalizers it scheduled
                await asyncio.sleep(0.01)
            open_now = await asyncio.to_thread(_settled_connections, fake)
            return client.breaker_state(target(fake)), open_now

    state, open_now = asyncio.run(go())
    assert reported == []
    assert open_now == 0
    assert state == "closed"
    assert len(fake.requests) == ROUNDS


def test_abandoned_sync_streams_leak_nothing(fake: FakeProvider) -> None:
    # An exception raised while a stream is finalized would fail this test: pytest turns
    # unraisable exceptions into errors (pyproject's filterwarnings).
    with Failover([target(fake)], policy=STRICT) as client:
        for _ in range(ROUNDS):
            stream = client.chat.completions.create(messages=MESSAGES, stream=True)
            for _chunk in stream:
                break
            del stream
        gc.collect()
        assert _settled_connections(fake) == 0
        assert client.breaker_state(target(fake)) == "closed"


def test_async_streams_close_like_openais(fake: FakeProvider) -> None:
    async def go() -> list[str]:
        texts = []
        async with AsyncFailover([target(fake)], policy=STRICT) as client:
            stream = await client.chat.completions.create(messages=MESSAGES, stream=True)
            async with stream:
                first = await anext(stream)
                texts.append(first.choices[0].delta.content or "")
            assert [c async for c in stream] == []  # closed: nothing more
            stream = await client.chat.completions.create(messages=MESSAGES, stream=True)
            texts.append("".join([c.choices[0].delta.content or "" async for c in stream]))
            await stream.close()  # after the end: harmless
            stream = await client.chat.completions.create(messages=MESSAGES, stream=True)
            await anext(stream)
            await stream.close()
            assert client.breaker_state(target(fake)) == "closed"
        return texts

    texts = asyncio.run(go())
    assert texts[1] == LONG.text and texts[0] == ""  # openai's first chunk is role-only
    assert _settled_connections(fake) == 0


def test_cancelling_a_committed_async_read_is_a_cancellation_not_a_failure(
    fake: FakeProvider,
) -> None:
    fake.set_mode(Fault.drip(5.0))  # after the first content, nothing comes for 5 s

    async def go() -> str:
        async with AsyncFailover([target(fake)], policy=STRICT) as client:
            stream = await client.chat.completions.create(messages=MESSAGES, stream=True)

            async def read_all() -> None:
                async for _chunk in stream:
                    pass

            reader = asyncio.create_task(read_all())
            await asyncio.sleep(0.3)  # committed, and waiting for the next chunk
            reader.cancel()
            with pytest.raises(asyncio.CancelledError):
                await reader
            await stream.aclose()
            return client.breaker_state(target(fake))

    assert asyncio.run(go()) == "closed"  # nobody's fault: one strike would have opened it
    assert _settled_connections(fake) == 0
