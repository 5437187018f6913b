"""Where the fleet's Redis is: every form FAILOVER_REDIS_* can name, and a clear error,
naming the variable, for each form it cannot."""

from __future__ import annotations

import asyncio
import dataclasses
import io

import pytest

from failover import AsyncFailover, ConfigError, Failover, RedisHealth
from failover._cli.doctor import EXIT_INVALID, run_doctor
from failover._health.redis_where import RedisWhere
from failover.testing import FakeProvider, Fault

from .conftest import FAST, MESSAGES, target
from .own_redis import free_port


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"FAILOVER_REDIS_SENTINELS": "127.0.0.1:26379"}, "FAILOVER_REDIS_SENTINEL_MASTER"),
        (
            {"FAILOVER_REDIS_SENTINELS": "127.0.0.1", "FAILOVER_REDIS_SENTINEL_MASTER": "m"},
            "FAILOVER_REDIS_SENTINELS",
        ),
        (
            {"FAILOVER_REDIS_SENTINELS": "h:99999", "FAILOVER_REDIS_SENTINEL_MASTER": "m"},
            "FAILOVER_REDIS_SENTINELS",
        ),
        (
            {"FAILOVER_REDIS_URL": "redis://h:6379", "FAILOVER_REDIS_CLUSTER": "maybe"},
            "FAILOVER_REDIS_CLUSTER",
        ),
        (
            {
                "FAILOVER_REDIS_CLUSTER": "1",
                "FAILOVER_REDIS_SENTINELS": "h:26379",
                "FAILOVER_REDIS_SENTINEL_MASTER": "m",
            },
            "FAILOVER_REDIS_SENTINELS",
        ),
        (
            {"FAILOVER_REDIS_URL": "unix:///tmp/redis.sock", "FAILOVER_REDIS_CLUSTER": "1"},
            "FAILOVER_REDIS_URL",
        ),
        ({"FAILOVER_REDIS_URL": "http://h:6379"}, "FAILOVER_REDIS_URL"),
    ],
)
def test_a_redis_setting_that_cannot_work_names_its_variable(
    env: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        RedisWhere.from_env(env)
    assert caught.value.variable == named and named in str(caught.value)
    out = io.StringIO()  # the doctor says the same, before any connection
    assert run_doctor({"FAILOVER_CHAIN": "ollama/m", **env}, offline=True, out=out) == EXIT_INVALID
    assert named in out.getvalue()


def test_each_form_is_described_without_its_secrets() -> None:
    forms = {
        "FAILOVER_REDIS_URL": "rediss://:s3cret@cache.example:6380/2?ssl_ca_certs=/ca.pem",
    }
    assert RedisWhere.from_env(forms) == RedisWhere(forms["FAILOVER_REDIS_URL"])
    where = RedisWhere.from_env(forms)
    assert where is not None and where.describe() == "rediss://cache.example:6380/2"
    cluster = RedisWhere.from_env(
        {"FAILOVER_REDIS_URL": "redis://:s3cret@node1:7000", "FAILOVER_REDIS_CLUSTER": "1"}
    )
    assert cluster is not None and cluster.describe() == "redis://node1:7000 (cluster)"
    sentinel = RedisWhere.from_env(
        {
            "FAILOVER_REDIS_SENTINELS": "s1:26379, s2:26379,[::1]:26380",
            "FAILOVER_REDIS_SENTINEL_MASTER": "mymaster",
        }
    )
    assert sentinel is not None
    assert sentinel.sentinels == (("s1", 26379), ("s2", 26379), ("::1", 26380))
    assert sentinel.describe() == "sentinel://s1:26379,s2:26379,::1:26380/mymaster"
    assert RedisWhere.from_env({}) is None
    store = RedisHealth(sentinels=["127.0.0.1:1"], sentinel_master="m", timeout=0.05)
    try:
        assert "s3cret" not in repr(store) and "sentinel://127.0.0.1:1/m" in repr(store)
    finally:
        store.close()


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_cluster_away_when_a_client_starts_stops_no_call(
    primary: FakeProvider, secondary: FakeProvider, mode: str
) -> None:
    # redis-py's cluster client connects in its constructor: it must not run on a
    # client's (or a call's) time, nor raise out of either.
    store = RedisHealth(f"redis://127.0.0.1:{free_port()}", cluster=True)
    primary.set_mode(Fault.status(503))  # failures: writes that would go to the cluster
    chain = [target(primary, "primary"), target(secondary, "backup")]
    policy = dataclasses.replace(FAST, max_retries=0)
    try:
        if mode == "sync":
            with Failover(chain, policy=policy, health=store) as client:
                for _ in range(5):
                    client.chat.completions.create(messages=MESSAGES)
        else:

            async def calls() -> None:
                async with AsyncFailover(chain, policy=policy, health=store) as client:
                    for _ in range(5):
                        await client.chat.completions.create(messages=MESSAGES)
                    await store.settle()

            asyncio.run(calls())
        assert not store.connected
    finally:
        store.close()
