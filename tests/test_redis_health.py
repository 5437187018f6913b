"""Health shared through a real Redis. Each ``RedisHealth`` has its own connections and
listener, as a separate process would; tests/test_fleet.py uses real processes."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from failover import AsyncFailover, ConfigError, Failover, Outcome, Policy, RedisHealth, Target
from failover._cli.doctor import run_doctor
from failover._client import health_from_env
from failover._health.breaker import ADMITTED
from failover.testing import FakeProvider, Fault, closed_port_url

from .conftest import FAST, MESSAGES, SECRET, eventually, target
from .own_redis import asleep, free_port, own_redis

P, B = "primary/model-x", "backup/model-x"  # the targets' labels
SHARED = dataclasses.replace(FAST, max_retries=0, breaker_fail_max=3, breaker_reset=30.0)
# No test here is about the store's timeout: with its 50 ms default, one late reply on a
# loaded machine sends a store to its local health for a second, which adds calls.
PATIENT = 2.0


@pytest.fixture
def stores(redis_url: str, redis_prefix: str) -> Iterator[Callable[[], RedisHealth]]:
    made: list[RedisHealth] = []

    def make() -> RedisHealth:
        made.append(RedisHealth(redis_url, prefix=redis_prefix, timeout=PATIENT))
        return made[-1]

    yield make
    for store in made:
        store.close()


def _client(
    store: RedisHealth, primary: FakeProvider, backup: FakeProvider, policy: Policy
) -> Failover:
    return Failover(
        [target(primary, "primary"), target(backup, "backup")], policy=policy, health=store
    )


def test_a_trip_in_one_process_keeps_the_others_away(
    stores: Callable[[], RedisHealth], primary: FakeProvider, secondary: FakeProvider
) -> None:
    primary.set_mode(Fault.status(503))
    with (
        _client(stores(), primary, secondary, SHARED) as a,
        _client(stores(), primary, secondary, SHARED) as b,
    ):
        assert b.breaker_state(P) == "closed"
        for _ in range(3):
            a.chat.completions.create(messages=MESSAGES)
        assert len(primary.requests) == 3 and a.breaker_state(P) == "open"
        # The change is pushed to b, which never failed a call itself (nor reads Redis).
        eventually(lambda: b.breaker_state(P) == "open", within=5.0)
        for _ in range(5):
            report = b.chat.completions.with_report.create(messages=MESSAGES)
            assert report.attempts[0].outcome is Outcome.SKIPPED
        assert len(primary.requests) == 3


def test_exactly_one_probe_per_reset_window_for_the_fleet(
    stores: Callable[[], RedisHealth], primary: FakeProvider, secondary: FakeProvider
) -> None:
    primary.set_mode(Fault.status(503))
    # Each burst of calls (30 in all, normally 0.1 s) must end within the reset of the
    # probe it starts with, or a second probe is due: 1.5 s leaves room for stalls.
    policy = dataclasses.replace(SHARED, breaker_reset=1.5)
    clients = [_client(stores(), primary, secondary, policy) for _ in range(3)]
    for _ in range(3):
        clients[0].chat.completions.create(messages=MESSAGES)
    # Not closed: the trip arrived (durable, unlike "open", which lasts the reset).
    eventually(lambda: all(c.breaker_state(P) != "closed" for c in clients), within=5.0)
    tripped = len(primary.requests)

    def hammer(client: Failover) -> None:
        for _ in range(10):  # a count, not a time: each client surely asks for the probe
            client.chat.completions.create(messages=MESSAGES)

    for window in range(2):
        # The trip or the last probe's verdict came before now: the reset has passed.
        time.sleep(1.55)
        workers = [threading.Thread(target=hammer, args=(c,)) for c in clients]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        assert len(primary.requests) == tripped + window + 1  # one probe, failed: open again
    for client in clients:
        client.close()


def test_a_good_probe_closes_the_breaker_everywhere(
    stores: Callable[[], RedisHealth], primary: FakeProvider, secondary: FakeProvider
) -> None:
    primary.set_mode(Fault.status(503))
    policy = dataclasses.replace(SHARED, breaker_reset=0.3)
    with (
        _client(stores(), primary, secondary, policy) as a,
        _client(stores(), primary, secondary, policy) as b,
    ):
        for _ in range(3):
            a.chat.completions.create(messages=MESSAGES)
        eventually(lambda: b.breaker_state(P) != "closed")  # the trip arrived
        primary.set_mode(None)
        time.sleep(0.35)
        assert a.chat.completions.with_report.create(messages=MESSAGES).target == P
        eventually(lambda: b.breaker_state(P) == "closed")
        assert b.chat.completions.with_report.create(messages=MESSAGES).target == P


def test_a_rate_limit_seen_by_one_process_cools_the_others(
    stores: Callable[[], RedisHealth], primary: FakeProvider, secondary: FakeProvider
) -> None:
    primary.enqueue(Fault.rate_limit(retry_after=3))
    with (
        _client(stores(), primary, secondary, SHARED) as a,
        _client(stores(), primary, secondary, SHARED) as b,
    ):
        before = time.time()
        assert a.chat.completions.with_report.create(messages=MESSAGES).target == B
        eventually(lambda: b.health()[0].state == "cooling-down")
        status = b.health()[0]
        # The whole Retry-After, from a's 429 (a shared cool-down, not a local one).
        assert status.shared and status.retry_at is not None
        assert status.retry_at >= before + 3 - 0.01
        # Calls until 1 s before its end: a call stalled that long could come after it.
        while time.time() < status.retry_at - 1.0:
            assert b.chat.completions.with_report.create(messages=MESSAGES).target == B
            time.sleep(0.1)
        assert len(primary.requests) == 1
        time.sleep(max(0.0, status.retry_at + 0.2 - time.time()))
        assert b.chat.completions.with_report.create(messages=MESSAGES).target == P


async def test_async_clients_share_the_same_state(
    stores: Callable[[], RedisHealth], primary: FakeProvider, secondary: FakeProvider
) -> None:
    primary.set_mode(Fault.status(503))
    chain = [target(primary, "primary"), target(secondary, "backup")]
    async with (
        AsyncFailover(chain, policy=SHARED, health=stores()) as a,
        AsyncFailover(chain, policy=SHARED, health=stores()) as b,
    ):
        for _ in range(3):
            await a.chat.completions.create(messages=MESSAGES)
        await asyncio.to_thread(eventually, lambda: b.breaker_state(P) == "open")
        await b.chat.completions.create(messages=MESSAGES)
    assert len(primary.requests) == 3


def test_keys_name_no_api_key_and_share_one_cluster_slot(
    stores: Callable[[], RedisHealth],
    redis_url: str,
    redis_prefix: str,
    primary: FakeProvider,
    secondary: FakeProvider,
) -> None:
    primary.set_mode(Fault.status(503))
    with _client(stores(), primary, secondary, SHARED) as a:
        for _ in range(3):
            a.chat.completions.create(messages=MESSAGES)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    keys = list(client.scan_iter(f"{redis_prefix}:*"))
    assert keys
    tags = {key.split("{")[1].split("}")[0] for key in keys}
    assert len(tags) == 1  # the primary's keys only, all in the slot of its hash tag
    for key in keys:
        assert SECRET not in key
        value = client.hgetall(key) if client.type(key) == "hash" else client.get(key)
        assert SECRET not in str(value)


def test_without_redis_each_process_uses_its_own_health(
    primary: FakeProvider, secondary: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    dead = closed_port_url().replace("http://", "redis://").removesuffix("/v1")
    primary.set_mode(Fault.status(503))
    caplog.set_level(logging.WARNING, logger="failover")
    store = RedisHealth(dead, prefix="unused")
    with _client(store, primary, secondary, SHARED) as client:
        started = time.monotonic()
        for _ in range(6):
            assert client.chat.completions.with_report.create(messages=MESSAGES).target == B
        assert time.monotonic() - started < 3.0
        assert len(primary.requests) == 3 and client.breaker_state(P) == "open"
    store.close()
    unavailable = [r for r in caplog.records if "is unavailable" in r.getMessage()]
    assert len(unavailable) == 1  # one warning for the transition, not one per call


@pytest.mark.parametrize(
    "url", ["http://localhost:6379", "redis://", "redis://host:port", "unix://", "localhost:6379"]
)
def test_a_malformed_url_names_the_variable(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        RedisHealth(url)
    assert info.value.variable == "FAILOVER_REDIS_URL"
    env = {"FAILOVER_CHAIN": "ollama/llama3.2", "FAILOVER_REDIS_URL": url}
    with pytest.raises(ConfigError, match="FAILOVER_REDIS_URL"):
        Failover.from_env(env)


@pytest.mark.parametrize("value", ["0", "-1", "soon", "nan", "6"])
def test_a_bad_redis_timeout_names_its_variable(value: str) -> None:
    env = {"FAILOVER_REDIS_URL": "redis://127.0.0.1:1/0", "FAILOVER_REDIS_TIMEOUT": value}
    with pytest.raises(ConfigError) as info:
        health_from_env(env)
    assert info.value.variable == "FAILOVER_REDIS_TIMEOUT" and repr(value) in str(info.value)
    out = io.StringIO()
    run_doctor({"FAILOVER_CHAIN": "ollama/llama3.2", **env}, offline=True, out=out)
    assert "FAILOVER_REDIS_TIMEOUT" in out.getvalue()


def test_the_redis_timeout_is_how_long_a_frozen_redis_may_hold_a_write() -> None:
    """Frozen for 1.5 s: the default store (50 ms) gives up and uses its own health; one
    with FAILOVER_REDIS_TIMEOUT=4 waits, and stays connected."""
    port = free_port()
    with own_redis(port, "--enable-debug-command", "yes"):
        env = {"FAILOVER_REDIS_URL": f"redis://127.0.0.1:{port}/0"}
        quick = health_from_env({**env, "FAILOVER_REDIS_PREFIX": "quick"})
        patient = health_from_env(
            {**env, "FAILOVER_REDIS_PREFIX": "patient", "FAILOVER_REDIS_TIMEOUT": "4"}
        )
        assert isinstance(quick, RedisHealth) and isinstance(patient, RedisHealth)
        try:
            sleeper = socket.create_connection(("127.0.0.1", port))
            sleeper.sendall(b"DEBUG SLEEP 1.5\r\n")
            eventually(lambda: asleep(port), within=5.0)
            seen = []
            for store in (quick, patient):  # the patient one last: it waits out the freeze
                health = store.for_target(Target("openai", "m"), SHARED)
                health.record_failure(health.admit())
                seen.append(store.connected)
            assert seen == [False, True]
            sleeper.close()
        finally:
            quick.close()
            patient.close()


def test_the_environment_turns_it_on(
    redis_url: str,
    redis_prefix: str,
    primary: FakeProvider,
    secondary: FakeProvider,
) -> None:
    primary.set_mode(Fault.status(503))
    env = {
        "FAILOVER_CHAIN": "p/m,b/m",
        "FAILOVER_PROVIDER_P_API": "openai",
        "FAILOVER_PROVIDER_P_BASE_URL": primary.base_url,
        "FAILOVER_PROVIDER_B_API": "anthropic",
        "FAILOVER_PROVIDER_B_BASE_URL": secondary.base_url,
        "FAILOVER_PROVIDER_B_API_KEY": SECRET,
        "FAILOVER_MAX_RETRIES": "0",
        "FAILOVER_BREAKER_FAIL_MAX": "2",
        "FAILOVER_REDIS_URL": redis_url,
        "FAILOVER_REDIS_PREFIX": redis_prefix,
        "FAILOVER_REDIS_TIMEOUT": str(PATIENT),
    }
    with Failover.from_env(env) as a, Failover.from_env(env) as b:
        for _ in range(2):
            a.chat.completions.create(messages=MESSAGES)
        eventually(lambda: b.breaker_state("p/m") == "open")


def _pair(stores: Callable[[], RedisHealth], policy: Policy) -> tuple[Any, Any, Target]:
    """One target's health in two stores (two processes' worth of connections)."""
    t = Target("fake", f"m-{time.monotonic_ns()}", base_url="http://127.0.0.1:9/v1")
    return stores().for_target(t, policy), stores().for_target(t, policy), t


def test_a_probe_that_outlived_its_lease_cannot_undo_the_next_probes_verdict(
    stores: Callable[[], RedisHealth], redis_url: str
) -> None:
    policy = Policy(breaker_fail_max=1, breaker_reset=0.2, attempt_timeout=0.1)  # lease 1.1 s
    a, b, _ = _pair(stores, policy)
    a.record_failure(a.admit())
    time.sleep(0.25)
    slow = a.admit()
    assert slow.probe and slow.token
    time.sleep(1.2)  # its lease runs out; b probes, fails, and the breaker opens again
    eventually(lambda: b.peek().allowed)
    second = b.admit()
    assert second.probe
    reopened = time.time()
    b.record_failure(second)
    a.record_success(slow)  # the first probe's late success
    # Still open (in Redis, and in both views, from the scripts' replies). Not "open":
    # that lasts only the 0.2 s reset; a late success that closed it would set 0.
    shared = int(redis.Redis.from_url(redis_url).hget(a.keys[0], "open_until") or 0)
    assert shared / 1000 > reopened
    assert a.state != "closed" and b.state != "closed"


def test_a_long_cool_down_outlives_later_failures_in_redis(
    stores: Callable[[], RedisHealth], redis_url: str
) -> None:
    a, _, _ = _pair(stores, SHARED)
    a.cool_down(3600)
    a.record_failure(ADMITTED)  # counted, not tripping: must not shorten the expiry
    ttl = redis.Redis.from_url(redis_url).pttl(a.keys[0])
    assert ttl > 3_500_000


def test_a_cancelled_probe_gives_its_lease_back_soon(stores: Callable[[], RedisHealth]) -> None:
    policy = Policy(breaker_fail_max=1, breaker_reset=0.2)
    a, b, _ = _pair(stores, policy)
    a.record_failure(a.admit())
    time.sleep(0.25)
    probe = a.admit()
    assert probe.probe
    a.release(probe)  # e.g. the caller was cancelled
    # Soon: a lease kept would hold b off for 61 s (the attempt timeout and a second).
    eventually(lambda: b.admit().probe, within=10.0)


def test_sharing_survives_redis_losing_its_data(
    stores: Callable[[], RedisHealth], redis_url: str
) -> None:
    policy = Policy(breaker_fail_max=1, breaker_reset=0.3)
    a, b, _ = _pair(stores, policy)
    a.record_failure(a.admit())
    eventually(lambda: b.state != "closed")  # the trip arrived ("open" lasts 0.3 s)
    redis.Redis.from_url(redis_url).delete(*a.keys)  # evicted, flushed or restarted
    time.sleep(0.35)
    assert b.admit() == ADMITTED and b.state == "closed"  # Redis says closed: believe it
    a.record_failure(ADMITTED)  # a new trip, with a version newer than any before
    eventually(lambda: b.state != "closed")


def test_clients_sharing_a_store_keep_their_own_policies(
    stores: Callable[[], RedisHealth], primary: FakeProvider, secondary: FakeProvider
) -> None:
    store = stores()
    lenient = dataclasses.replace(SHARED, breaker_fail_max=5)
    strict = dataclasses.replace(SHARED, breaker_fail_max=1)
    primary.set_mode(Fault.status(503))
    with (
        _client(store, primary, secondary, lenient) as a,
        _client(store, primary, secondary, strict) as b,
    ):
        b.chat.completions.create(messages=MESSAGES)  # one failure is enough for b
        assert b.breaker_state(P) == "open"
        eventually(lambda: a.breaker_state(P) == "open")  # and the fleet follows
