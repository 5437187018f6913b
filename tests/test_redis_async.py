"""Shared health on an event loop: Redis round trips go through ``redis.asyncio``, so a
slow or frozen Redis (``DEBUG SLEEP`` on a Redis of the test's own) never blocks the
loop, a probe waits at most the store's timeout, and a probe lease asked for by a call
that was cancelled meanwhile is given back."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable

import pytest
import redis

from failover import AsyncFailover, Policy, RedisHealth, Target
from failover._health.breaker import Admission
from failover.testing import FakeProvider, Fault

from .conftest import MESSAGES, eventually, target
from .own_redis import free_port, own_redis
from .test_redis_health import SHARED, B


@pytest.fixture
async def frozen(redis_url: str) -> AsyncIterator[tuple[str, Callable[[float], None]]]:
    """A Redis of the test's own, and a way to freeze it for some seconds."""
    port = free_port()
    with own_redis(port, "--enable-debug-command", "yes"):
        url = f"redis://127.0.0.1:{port}/0"
        sleepers: list[threading.Thread] = []

        def freeze(seconds: float) -> None:
            admin = redis.Redis.from_url(url)
            sleeper = threading.Thread(
                target=lambda: admin.execute_command("DEBUG", "SLEEP", str(seconds))  # type: ignore[no-untyped-call]
            )
            sleeper.start()
            sleepers.append(sleeper)
            time.sleep(0.05)  # the server is asleep before the test goes on

        yield url, freeze
        for sleeper in sleepers:
            await asyncio.to_thread(sleeper.join)


async def _longest_pause(until: asyncio.Event) -> float:
    """The longest time the loop did not run this coroutine, until ``until`` is set."""
    longest, last = 0.0, time.monotonic()
    while not until.is_set():
        await asyncio.sleep(0.002)
        now = time.monotonic()
        longest, last = max(longest, now - last), now
    return longest


async def test_failures_while_redis_is_frozen_never_block_the_loop(
    frozen: tuple[str, Callable[[float], None]], primary: FakeProvider, secondary: FakeProvider
) -> None:
    url, freeze = frozen
    store = RedisHealth(url, prefix="frozen", timeout=0.5)
    primary.set_mode(Fault.status(503))
    chain = [target(primary, "primary"), target(secondary, "backup")]
    async with AsyncFailover(chain, policy=SHARED, health=store) as client:
        await client.chat.completions.create(messages=MESSAGES)  # a first failure, written
        done = asyncio.Event()
        ticker = asyncio.create_task(_longest_pause(done))
        freeze(1.5)
        for _ in range(3):  # each failure is a write to the frozen Redis
            started = time.monotonic()
            report = await client.chat.completions.with_report.create(messages=MESSAGES)
            assert report.target == B and time.monotonic() - started < 0.3
        await asyncio.sleep(0.6)  # the writes time out meanwhile: Redis counts as away
        done.set()
        # A blocking client would have held the loop for its whole 0.5 s timeout.
        assert await ticker < 0.25
        assert not store.connected
        assert client.breaker_state("primary/model-x") == "open"  # the local breaker
    store.close()
    assert asyncio.all_tasks() == {asyncio.current_task()}  # no writer task left behind


async def test_a_probe_waits_at_most_the_timeout_and_a_late_lease_is_given_back(
    frozen: tuple[str, Callable[[float], None]],
) -> None:
    url, freeze = frozen
    # A probe's lease would last 31 s (the attempt timeout and a second) if kept.
    policy = Policy(breaker_fail_max=1, breaker_reset=0.2, attempt_timeout=30.0)
    t = Target("fake", "m", base_url="http://127.0.0.1:9/v1")
    mine, theirs = RedisHealth(url, timeout=1.0), RedisHealth(url, timeout=1.0)
    a, b = mine.for_target(t, policy), theirs.for_target(t, policy)
    a.record_failure(await a.admit_async())  # written from the loop, not awaited
    await asyncio.to_thread(lambda: eventually(lambda: b.state == "open"))
    await asyncio.sleep(0.25)  # past the reset: the next admission asks for the probe
    freeze(0.5)
    asking = asyncio.create_task(a.admit_async())
    await asyncio.sleep(0.1)
    asking.cancel()  # the call gave up while its probe request was in Redis's queue
    with pytest.raises(asyncio.CancelledError):
        await asking
    # Redis wakes and grants the lease to a caller that is gone: it is released.
    probes: list[Admission] = []

    def probed() -> bool:
        probes.append(b.admit())
        return probes[-1].probe

    waited = await asyncio.to_thread(lambda: eventually(probed, within=5.0))
    assert waited < 3.0
    b.record_failure(probes[-1])  # open again; when its reset passes, a asks for the probe
    await asyncio.to_thread(lambda: eventually(lambda: a.state == "open"))
    await asyncio.sleep(0.25)
    freeze(1.5)
    started = time.monotonic()
    answer = await a.admit_async()  # Redis is frozen for longer than the timeout
    assert time.monotonic() - started < 1.0 + 0.4
    assert not mine.connected and answer.allowed  # this process's own breaker decided
    for store in (mine, theirs):
        store.close()
