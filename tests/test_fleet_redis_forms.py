"""A fleet's shared health on production forms of Redis: TLS with client certificates,
a 3-master Cluster and a primary watched by Sentinel, each a real server of the test's
own; and a Sentinel promotion in the middle of a run, which must fail no call."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
import redis

from failover import AsyncFailover, Failover, RedisHealth
from failover._client import health_from_env
from failover.drill._fleet import fleet_policy, run_fleet
from failover.testing import FakeProvider, Fault

from .conftest import FAST, MESSAGES, Calls, target
from .own_redis_replicated import ClusterSetup, own_cluster, own_sentinel
from .own_redis_topologies import own_tls_redis, require_executables
from .test_fleet import PATIENT_ENV

WORKERS = 4


def _dead_primary_fleet(
    primary: FakeProvider, secondary: FakeProvider, redis_env: Mapping[str, str]
) -> None:
    """WORKERS processes share health through ``redis_env``'s Redis while the primary is
    dead: no call fails, and the fleet sends it about one breaker's worth of calls."""
    policy = fleet_policy()  # fail_max 3, reset 1 s
    primary.reset()  # count this fleet's calls only, not an earlier check's on this fake
    primary.set_mode(Fault.status(503))
    chain = [
        {"name": "primary", "api": primary.api, "base_url": primary.base_url},
        {"name": "backup", "api": secondary.api, "base_url": secondary.base_url},
    ]
    runs = run_fleet(
        WORKERS,
        chain,
        redis_url=None,
        # A store that goes local for a late reply adds its own breaker's calls.
        redis_env={**redis_env, **PATIENT_ENV},
        prefix="forms",
        seconds=2.5,
        policy=policy,
    )
    assert sum(r.failed for r in runs) == 0 and all(r.answered > 20 for r in runs), runs
    dead = [r for r in primary.requests if r.fault is not None]
    # The bound of one Redis (tests/test_fleet.py): fail_max, a call in flight in each
    # other worker, and a probe per reset window; each process alone would send about 20.
    assert len(dead) <= policy.breaker_fail_max + (WORKERS - 1) + 3, len(dead)


def _async_trip_is_shared(
    primary: FakeProvider, secondary: FakeProvider, redis_env: Mapping[str, str]
) -> None:
    """An event loop's writes (``redis.asyncio``: the Cluster's or Sentinel's twin) trip
    the breaker for another process's store too."""
    policy = dataclasses.replace(FAST, max_retries=0, breaker_fail_max=3, breaker_reset=5.0)
    chain = [target(primary, "primary"), target(secondary, "backup")]
    # A write that timed out would be lost, not shared: a patient timeout.
    env = {**redis_env, **PATIENT_ENV, "FAILOVER_REDIS_PREFIX": f"async-{time.monotonic_ns()}"}
    primary.set_mode(Fault.status(503))
    here, there = health_from_env(env), health_from_env(env)

    async def trip() -> None:
        async with AsyncFailover(chain, policy=policy, health=here) as client:
            for _ in range(3):
                await client.chat.completions.create(messages=MESSAGES)
            await here.settle()

    try:
        with Failover(chain, policy=policy, health=there) as other:
            asyncio.run(trip())
            _eventually(lambda: other.breaker_state(chain[0].label) != "closed", 5.0)
    finally:
        here.close()
        there.close()
        primary.set_mode(None)


@pytest.fixture(autouse=True)
def _servers() -> None:
    require_executables("redis-server", "redis-cli", "openssl")


def test_a_fleet_shares_health_over_tls_with_client_certificates(
    tmp_path: Path, primary: FakeProvider, secondary: FakeProvider
) -> None:
    with own_tls_redis(tmp_path, client_certs=True) as tls:
        options = (
            f"ssl_ca_certs={tls.ca}&ssl_certfile={tls.client_cert}&ssl_keyfile={tls.client_key}"
        )
        _dead_primary_fleet(primary, secondary, {"FAILOVER_REDIS_URL": f"{tls.url}?{options}"})


def test_a_fleet_shares_health_on_a_redis_cluster(
    tmp_path: Path, primary: FakeProvider, secondary: FakeProvider
) -> None:
    with own_cluster(tmp_path) as cluster:
        env = {"FAILOVER_REDIS_URL": cluster.url, "FAILOVER_REDIS_CLUSTER": "1"}
        _async_trip_is_shared(primary, secondary, env)
        _dead_primary_fleet(primary, secondary, env)
        # Changes travel on each target's shard channel (SPUBLISH), not a broadcast one.
        store = health_from_env({**env, "FAILOVER_REDIS_PREFIX": "sharded"})
        chain = [target(primary, "primary"), target(secondary, "backup")]
        try:
            with Failover(chain, policy=FAST, health=store):

                def channels() -> list[str]:
                    found = []
                    for port in cluster.ports:
                        with redis.Redis(port=port, decode_responses=True) as node:
                            found += node.execute_command("PUBSUB SHARDCHANNELS", "sharded:*")
                    return sorted(found)

                _eventually(lambda: len(channels()) == 2, 5.0)  # one per target
                assert all(c.startswith("sharded:{") and c.endswith("}:health") for c in channels())
        finally:
            store.close()
        # A node dies: calls that would use it use local state, and none fails or waits.
        store = health_from_env({**env, "FAILOVER_REDIS_PREFIX": "node-down"})
        primary.set_mode(Fault.status(503))
        try:
            with Failover(chain, policy=FAST, health=store) as client:
                cluster.procs[0].kill()
                cluster.procs[0].wait(5)
                call = Calls()
                for _ in range(30):
                    call(client)
                # The store's 50 ms timeout, no retries: a call that waited on the dead
                # node (retries, backoff) would take seconds; 1.5 allows a stall.
                assert call.failures == 0 and call.slowest < 1.5, (call.failures, call.slowest)
        finally:
            store.close()
            primary.set_mode(None)


def test_a_fleet_shares_health_through_sentinel(
    tmp_path: Path, primary: FakeProvider, secondary: FakeProvider
) -> None:
    with own_sentinel(tmp_path) as setup:
        env = {
            "FAILOVER_REDIS_SENTINELS": setup.sentinels_env(),
            "FAILOVER_REDIS_SENTINEL_MASTER": setup.master,
        }
        _async_trip_is_shared(primary, secondary, env)
        _dead_primary_fleet(primary, secondary, env)


def _eventually(check: Callable[[], bool], within: float) -> float:
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < within, "never happened"
        time.sleep(0.02)
    return time.monotonic() - started


def _through_a_promotion(
    env: Mapping[str, str],
    primary: FakeProvider,
    secondary: FakeProvider,
    caplog: pytest.LogCaptureFixture,
    promote: Callable[[Callable[[], None]], float],
) -> None:
    """Two processes' clients share a trip; ``promote(meanwhile)`` kills the Redis
    holding it and waits for a replica to take over, calling ``meanwhile`` (a call
    through each client) all along. No call fails or waits, each process says once
    that Redis went away and once that it came back, and a trip made after the
    promotion reaches the other process again."""
    caplog.set_level(logging.WARNING, logger="failover")
    policy = dataclasses.replace(FAST, max_retries=0, breaker_fail_max=3, breaker_reset=0.5)
    chain = [target(primary, "primary"), target(secondary, "backup")]
    label = chain[0].label
    call = Calls()
    # 5x the default timeout: a late reply (50 ms) on a loaded machine would add a "went
    # away" and a "back"; a call that waited for the promotion would still take seconds.
    stores = [health_from_env({**env, "FAILOVER_REDIS_TIMEOUT": "0.25"}) for _ in range(2)]
    assert all(isinstance(s, RedisHealth) for s in stores)
    with (
        Failover(chain, policy=policy, health=stores[0]) as a,
        Failover(chain, policy=policy, health=stores[1]) as b,
    ):
        primary.set_mode(Fault.status(503))
        for _ in range(3):
            call(a)
        _eventually(lambda: b.breaker_state(label) != "closed", 5.0)  # shared
        promoted_after = promote(lambda: call.each(a, b))
        for _ in range(50):  # after the promotion: local state answers until Redis does
            call.each(a, b)
        shared_again = _eventually(
            lambda: all(s.connected for s in stores if isinstance(s, RedisHealth)), 10.0
        )
        primary.set_mode(None)
        time.sleep(0.6)  # past the reset: the breakers close on their next calls

        def closed() -> bool:  # a probe's success, shared (a lease lost mid-kill lapses)
            call.each(a, b)
            return b.breaker_state(label) == "closed"

        _eventually(closed, 10.0)
        primary.set_mode(Fault.status(503))
        for _ in range(3):
            call(a)
        # Not "open", which lasts the 0.5 s reset: not closed, once the trip arrived.
        _eventually(lambda: b.breaker_state(label) != "closed", 5.0)  # shared again
    for store in stores:
        store.close()
    primary.set_mode(None)
    assert call.failures == 0
    # Each call waits at most one 0.25 s timeout (or the sentinels' look-ups, bounded
    # alike), plus a stall of a loaded machine; never for Redis to come back.
    assert call.slowest < 1.5, call.slowest
    said = [r.getMessage() for r in caplog.records if "Redis at" in r.getMessage()]
    away = [m for m in said if "unavailable" in m]
    back = [m for m in said if "is back" in m]
    assert len(away) <= 2 and len(back) == len(away), said  # once each way, per process
    print(f"promotion {promoted_after:.2f} s; shared again {shared_again:.2f} s after it")


def test_a_sentinel_promotion_mid_run_fails_no_call_and_sharing_resumes(
    tmp_path: Path,
    primary: FakeProvider,
    secondary: FakeProvider,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with own_sentinel(tmp_path) as setup:
        env = {
            "FAILOVER_REDIS_SENTINELS": setup.sentinels_env(),
            "FAILOVER_REDIS_SENTINEL_MASTER": setup.master,
            "FAILOVER_REDIS_PREFIX": "promotion",
        }

        def promote(meanwhile: Callable[[], None]) -> float:
            return setup.kill_primary_and_wait_for_promotion(meanwhile=meanwhile)

        _through_a_promotion(env, primary, secondary, caplog, promote)


def _open_state_key(cluster: ClusterSetup, prefix: str) -> str:
    """The key of the shared state that says a breaker is open, on any live node."""
    for port, proc in zip(cluster.ports, cluster.procs, strict=True):
        if proc.poll() is not None:
            continue
        with redis.Redis(port=port, decode_responses=True) as node:
            for key in node.scan_iter(match=f"{prefix}:*"):
                if node.type(key) == "hash" and int(node.hget(key, "open_until") or 0) > 0:
                    return str(key)
    raise AssertionError(f"no open breaker is shared under {prefix}:")


def test_a_cluster_master_failing_over_fails_no_call_and_sharing_resumes(
    tmp_path: Path,
    primary: FakeProvider,
    secondary: FakeProvider,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The master of the slot that holds a target's shared health is SIGKILLed and its
    replica takes over."""
    with own_cluster(tmp_path, masters=3, replicas=1) as cluster:
        env = {
            "FAILOVER_REDIS_URL": cluster.url,
            "FAILOVER_REDIS_CLUSTER": "1",
            "FAILOVER_REDIS_PREFIX": "promotion",
        }

        def promote(meanwhile: Callable[[], None]) -> float:
            key = _open_state_key(cluster, "promotion")  # the tripped target's slot
            return cluster.kill_master_and_wait_for_promotion(key, meanwhile=meanwhile)

        _through_a_promotion(env, primary, secondary, caplog, promote)
