"""IdleTimer: the idle limit of committed async streams, one timer per stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from failover._api.idle import IdleTimer


async def _items(gaps: list[float]) -> AsyncIterator[int]:
    for i, gap in enumerate(gaps):
        await asyncio.sleep(gap)
        yield i


async def test_items_within_the_limit_pass_however_long_the_whole_takes() -> None:
    timer = IdleTimer(0.5)  # a gap of 0.05 s would need a 0.45 s stall to pass it
    items = _items([0.05] * 12 + [0.3] * 2)  # 1.2 s in all, over twice the limit
    got = [await timer.read(items) for _ in range(14)]
    timer.close()
    assert got == list(range(14))


async def test_a_gap_longer_than_the_limit_is_a_timeout() -> None:
    timer = IdleTimer(0.1)
    items = _items([0.0, 5.0])
    assert await timer.read(items) == 0
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(TimeoutError):
        await timer.read(items)
    assert 0.09 <= loop.time() - started < 2.0  # an unlimited read would take 5 s
    timer.close()


async def test_time_the_caller_spends_between_reads_does_not_count() -> None:
    timer = IdleTimer(0.1)
    items = _items([0.0, 0.0, 0.0])
    await timer.read(items)
    await asyncio.sleep(0.3)  # the caller is slow, not the provider
    assert await timer.read(items) == 1
    assert await timer.read(items) == 2
    timer.close()


async def test_the_callers_own_cancellation_stays_a_cancellation() -> None:
    timer = IdleTimer(5.0)
    items = _items([0.0, 10.0])
    await timer.read(items)
    task = asyncio.create_task(timer.read(items))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    timer.close()
