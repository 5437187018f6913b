"""Shared health on an event loop: Redis round trips go through ``redis.asyncio``, so a
slow or frozen Redis (``DEBUG SLEEP`` on a Redis of the test's own) never blocks the
loop, a probe waits at most the store's timeout, and a probe lease asked for by a call
that was cancelled meanwhile is given back."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import time
from collections.abc import AsyncIterator, Callable
from typing import cast

import pytest
import redis

from failover import AsyncFailover, Policy, RedisHealth, Target
from failover._health.breaker import Admission
from failover._health.shared import SharedHealth
from failover.testing import FakeProvider, Fault

from .conftest import MESSAGES, eventually, target
from .own_redis import asleep, free_port, own_redis
from .test_redis_health import SHARED, B


@dataclasses.dataclass
class Frozen:
    """A Redis of the test's own that the test can freeze for some seconds."""

    port: int
    stores: list[RedisHealth] = dataclasses.field(default_factory=list)
    sleepers: list[socket.socket] = dataclasses.field(default_factory=list)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def store(self, timeout: float) -> RedisHealth:
        """A store on this Redis, closed once the server is killed: so that no listener
        (nor the test) waits for a freeze to end."""
        self.stores.append(RedisHealth(self.url, prefix="frozen", timeout=timeout))
        return self.stores[-1]

    def freeze(self, seconds: float) -> None:
        """Put the server to sleep for ``seconds``; return once it sleeps (a PING then
        goes unanswered), however late this thread or the server ran."""
        sleeper = socket.create_connection(("127.0.0.1", self.port), timeout=5.0)
        self.sleepers.append(sleeper)  # its +OK is never read: closed after the kill
        sleeper.sendall(f"DEBUG SLEEP {seconds}\r\n".encode())
        deadline = time.monotonic() + 10.0
        while not asleep(self.port):
            assert time.monotonic() < deadline, "redis-server did not fall asleep"
            time.sleep(0.005)

    def version(self, key: str) -> int:
        """The shared state's version in Redis (waits for the server to wake)."""
        with redis.Redis(port=self.port, socket_timeout=30.0) as client:
            return int(client.hget(key, "v") or 0)


@pytest.fixture
async def frozen(redis_url: str) -> AsyncIterator[Frozen]:
    server = Frozen(free_port())
    try:
        with own_redis(server.port, "--enable-debug-command", "yes"):
            yield server
        # The server is killed even while it sleeps: connections to it now fail at once.
    finally:
        for store in server.stores:
            await asyncio.to_thread(store.close)
        for sleeper in server.sleepers:
            sleeper.close()


async def _longest_pause(until: asyncio.Event) -> float:
    """The longest time the loop did not run this coroutine, until ``until`` is set."""
    longest, last = 0.0, time.monotonic()
    while not until.is_set():
        await asyncio.sleep(0.002)
        now = time.monotonic()
        longest, last = max(longest, now - last), now
    return longest


async def _until(check: Callable[[], bool], within: float) -> None:
    """Wait on the loop (not blocking it) until ``check()`` holds."""
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "never happened"
        await asyncio.sleep(0.01)


async def test_failures_while_redis_is_frozen_never_block_the_loop(
    frozen: Frozen, primary: FakeProvider, secondary: FakeProvider
) -> None:
    # A blocking client would hold the loop for its whole 2 s timeout per write: far
    # above the 1.5 s bounds below, which a loaded machine's stalls stay under.
    store = frozen.store(timeout=2.0)
    primary.set_mode(Fault.status(503))
    chain = [target(primary, "primary"), target(secondary, "backup")]
    async with AsyncFailover(chain, policy=SHARED, health=store) as client:
        await client.chat.completions.create(messages=MESSAGES)  # a first failure, written
        frozen.freeze(30.0)  # asleep until the server is killed
        done = asyncio.Event()
        ticker = asyncio.create_task(_longest_pause(done))
        for _ in range(3):  # each failure is a write to the frozen Redis
            started = time.monotonic()
            report = await client.chat.completions.with_report.create(messages=MESSAGES)
            assert report.target == B and time.monotonic() - started < 1.5
        # The first frozen write times out 2 s after it was sent: Redis counts as away.
        await _until(lambda: not store.connected, within=10.0)
        done.set()
        assert await ticker < 1.5
        assert client.breaker_state("primary/model-x") == "open"  # the local breaker
    # No writer task left behind (below, a test that catches one closing).
    await _until(lambda: asyncio.all_tasks() == {asyncio.current_task()}, within=5.0)


async def test_closing_the_client_leaves_no_redis_task_behind(
    redis_url: str, redis_prefix: str, primary: FakeProvider, secondary: FakeProvider
) -> None:
    """aclose() waits for this loop's writes and for their connection to be closed: a
    task still closing it would be cut off when the loop ends (asyncio.run)."""
    store = RedisHealth(redis_url, prefix=redis_prefix, timeout=2.0)
    primary.set_mode(Fault.status(503))
    chain = [target(primary, "primary"), target(secondary, "backup")]
    try:
        async with AsyncFailover(chain, policy=SHARED, health=store) as client:
            await client.chat.completions.create(messages=MESSAGES)  # a failure: a write
        assert asyncio.all_tasks() == {asyncio.current_task()}
    finally:
        await asyncio.to_thread(store.close)


async def test_a_probe_waits_at_most_the_timeout_and_a_late_lease_is_given_back(
    frozen: Frozen,
) -> None:
    # A probe's lease would last 31 s (the attempt timeout and a second) if kept.
    policy = Policy(breaker_fail_max=1, breaker_reset=0.2, attempt_timeout=30.0)
    t = Target("fake", "m", base_url="http://127.0.0.1:9/v1")
    mine, theirs = frozen.store(timeout=2.0), frozen.store(timeout=2.0)
    a = cast(SharedHealth, mine.for_target(t, policy))
    b = cast(SharedHealth, theirs.for_target(t, policy))
    a.record_failure(await a.admit_async())  # written from the loop, not awaited
    # Durable, unlike "open" (0.2 s): only the trip's open_until makes a view not closed.
    await _until(lambda: a.state != "closed" and b.state != "closed", within=5.0)
    await asyncio.sleep(0.25)  # past the reset: the next admission asks for the probe
    before = frozen.version(a.keys[0])
    # The probe request waits in the frozen Redis: 1.2 s leaves the loop 1.1 s to cancel
    # it first, and the reply still comes 0.8 s within the store's 2 s timeout.
    frozen.freeze(1.2)
    asking = asyncio.create_task(a.admit_async())
    await asyncio.sleep(0.1)
    asking.cancel()  # the call gave up while its probe request was in Redis's queue
    with pytest.raises(asyncio.CancelledError):
        await asking
    # Redis wakes and grants the lease to a caller that is gone (b has not asked yet)...
    await asyncio.to_thread(eventually, lambda: frozen.version(a.keys[0]) > before, 10.0)
    probes: list[Admission] = []

    def probed() -> bool:
        probes.append(b.admit())
        return probes[-1].probe

    # ... and it is released: a lease kept would hold b's probe off for 31 s.
    await asyncio.to_thread(eventually, probed, 10.0)
    reopened = time.time()
    b.record_failure(probes[-1])  # open again; when its reset passes, a asks for the probe
    await _until(lambda: a._view.open_until > reopened, within=5.0)
    await asyncio.sleep(a._view.open_until - time.time() + 0.05)
    frozen.freeze(30.0)  # asleep until the server is killed
    started = time.monotonic()
    answer = await a.admit_async()  # Redis is frozen for longer than the timeout
    # The store's timeout is 2 s; a probe that waited for Redis would wait 30.
    assert time.monotonic() - started < 3.5
    assert not mine.connected and answer.allowed  # this process's own breaker decided
