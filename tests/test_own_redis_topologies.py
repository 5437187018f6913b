# redis-py leaves Sentinel and RedisCluster (and their methods) unannotated.
# mypy: disable-error-code="no-untyped-call"
"""Sanity tests of the TLS, Sentinel and Cluster topologies in own_redis_topologies,
with redis-py directly (no library code)."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio.cluster
import redis.cluster
import redis.sentinel
from redis.backoff import NoBackoff
from redis.retry import Retry

from .own_redis_replicated import own_cluster, own_sentinel
from .own_redis_topologies import own_tls_redis


def _data(
    get: Callable[[], dict[str, Any] | None], count: int, within: float = 5.0
) -> list[tuple[str, str]]:
    """(channel, data) of the next ``count`` (s)messages ``get`` returns."""
    got: list[tuple[str, str]] = []
    deadline = time.monotonic() + within
    while len(got) < count:
        assert time.monotonic() < deadline, f"only {got} of {count} messages within {within} s"
        message = get()
        if message is not None and message["type"] in ("message", "smessage"):
            got.append((message["channel"], message["data"]))
    return got


@pytest.mark.parametrize("client_certs", [False, True], ids=["server-cert", "client-certs"])
def test_tls_redis(tmp_path: Path, client_certs: bool) -> None:
    started = time.monotonic()
    with own_tls_redis(tmp_path, client_certs=client_certs) as tls:
        print(f"TLS Redis ready in {time.monotonic() - started:.2f} s")
        assert tls.url == f"rediss://127.0.0.1:{tls.port}/0"
        certs = {"ssl_certfile": tls.client_cert, "ssl_keyfile": tls.client_key}
        with redis.Redis.from_url(tls.url, ssl_ca_certs=tls.ca, **certs) as client:
            assert client.ping()
        without_certs = redis.Redis.from_url(tls.url, ssl_ca_certs=tls.ca, socket_timeout=2)
        with without_certs:
            if client_certs:  # --tls-auth-clients yes turns a client without one away
                with pytest.raises(redis.ConnectionError):
                    without_certs.ping()
            else:
                assert without_certs.ping()
        # The server resets a plain-TCP client at once ("wrong version number"); no
        # retries, or redis-py's default backoff takes seconds to give up.
        plain = redis.Redis(
            host="127.0.0.1", port=tls.port, socket_timeout=2, retry=Retry(NoBackoff(), 0)
        )
        with plain, pytest.raises(redis.ConnectionError):
            plain.ping()


def test_sentinel_promotes_the_replica(tmp_path: Path) -> None:
    started = time.monotonic()
    with own_sentinel(tmp_path) as setup:
        print(f"Sentinel setup ready in {time.monotonic() - started:.2f} s")
        assert setup.sentinels_env() == ",".join(f"{h}:{p}" for h, p in setup.sentinels)
        sentinel = redis.sentinel.Sentinel(setup.sentinels, socket_timeout=2)
        primary = sentinel.master_for(setup.master, socket_timeout=2, decode_responses=True)
        assert primary.set("before", "failover")
        assert primary.get("before") == "failover"
        assert primary.execute_command("WAIT", 1, 2000) == 1  # on the replica too
        primary.close()

        seconds = setup.kill_primary_and_wait_for_promotion()
        print(f"replica promoted {seconds:.2f} s after SIGKILL of the primary")
        assert sentinel.discover_master(setup.master) == ("127.0.0.1", setup.replica_port)

        fresh = redis.sentinel.Sentinel(setup.sentinels, socket_timeout=2)
        promoted = fresh.master_for(setup.master, socket_timeout=2, decode_responses=True)
        with promoted:
            assert promoted.set("after", "failover")
            assert promoted.get("before") == "failover"
            assert promoted.info("server")["tcp_port"] == setup.replica_port
            assert promoted.info("replication")["role"] == "master"


def test_cluster(tmp_path: Path) -> None:
    started = time.monotonic()
    with own_cluster(tmp_path) as setup:
        print(f"cluster ready in {time.monotonic() - started:.2f} s")
        assert setup.url == f"redis://127.0.0.1:{setup.ports[0]}/0"
        cluster = redis.cluster.RedisCluster.from_url(setup.url, decode_responses=True)
        nodes = {node.port: node for node in cluster.get_primaries()}
        assert sorted(nodes) == sorted(setup.ports)
        # Node clients stay referenced: a garbage-collected redis.Redis closes its pool,
        # which silently reconnects (and resubscribes) its pubsub, losing messages.
        direct = {
            port: redis.Redis(host="127.0.0.1", port=port, decode_responses=True) for port in nodes
        }
        try:
            _cluster_keys_and_scripts(cluster)
            _cluster_publish(cluster, direct)
            _cluster_sharded_pubsub(cluster)
            asyncio.run(_async_cluster_sharded_pubsub(setup.url))
        finally:
            cluster.close()
            for client in direct.values():
                client.close()


def _tags(cluster: redis.cluster.RedisCluster) -> dict[str, str]:
    """A hash tag owned by each node (node name -> "{tagN}")."""
    tags: dict[str, str] = {}
    for i in range(1000):
        tags.setdefault(cluster.get_node_from_key(f"{{tag{i}}}").name, f"{{tag{i}}}")
    assert len(tags) == len(cluster.get_primaries())
    return tags


def _cluster_keys_and_scripts(cluster: redis.cluster.RedisCluster) -> None:
    keys = [f"{tag}key" for tag in _tags(cluster).values()]  # one on each node
    assert len({cluster.keyslot(key) for key in keys}) == len(keys)
    for key in keys:
        assert cluster.set(key, f"value of {key}")
    assert [cluster.get(key) for key in keys] == [f"value of {key}" for key in keys]
    script = "redis.call('SET', KEYS[1], ARGV[1]); redis.call('SET', KEYS[2], ARGV[1]); "
    script += "return redis.call('MGET', KEYS[1], KEYS[2])"
    assert cluster.eval(script, 2, "{user1}a", "{user1}b", "x") == ["x", "x"]


def _cluster_publish(cluster: redis.cluster.RedisCluster, direct: dict[int, redis.Redis]) -> None:
    subscribers = {
        port: client.pubsub(ignore_subscribe_messages=True) for port, client in direct.items()
    }
    for pubsub in subscribers.values():
        pubsub.subscribe("news")
        assert pubsub.get_message(timeout=2) is None  # the confirmation, ignored
    publisher = next(iter(direct))
    direct[publisher].publish("news", "plain")  # reaches subscribers on other nodes
    key_port = cluster.get_node_from_key("{user1}a").port
    script = "redis.call('INCR', KEYS[1]); return redis.call('PUBLISH', ARGV[1], ARGV[2])"
    cluster.eval(script, 1, "{user1}a-count", "news", "from-eval")  # runs on key_port
    for port, pubsub in subscribers.items():
        got = _data(functools.partial(pubsub.get_message, timeout=0.5), 2)
        # Via two nodes' bus links: in either order on a third node.
        assert sorted(got) == [("news", "from-eval"), ("news", "plain")], (port, key_port)
        pubsub.close()


def _cluster_sharded_pubsub(cluster: redis.cluster.RedisCluster) -> None:
    (tag_a, node_a), (tag_b, _) = [(tag, name) for name, tag in _tags(cluster).items()][:2]
    channel_a, channel_b = f"{tag_a}events", f"{tag_b}events"  # on different nodes
    pubsub = cluster.pubsub()  # redis.cluster.ClusterPubSub
    try:
        pubsub.ssubscribe(channel_a, channel_b)  # a connection to each channel's node
        assert len(pubsub.node_pubsub_mapping) == 2
        confirmations = [pubsub.get_sharded_message(timeout=1) for _ in range(2)]
        assert {c["channel"] for c in confirmations if c} == {channel_a, channel_b}
        assert {c["type"] for c in confirmations if c} == {"ssubscribe"}

        assert cluster.spublish(channel_a, "one") == 1
        assert cluster.spublish(channel_b, "two") == 1
        got = _data(lambda: pubsub.get_sharded_message(timeout=0.2), 2)
        assert sorted(got) == [(channel_a, "one"), (channel_b, "two")]

        # SPUBLISH in a script: fine for a channel on the node of the script's keys ...
        script = "redis.call('INCR', KEYS[1]); return redis.call('SPUBLISH', ARGV[1], ARGV[2])"
        assert cluster.eval(script, 1, f"{tag_a}count", channel_a, "scripted") == 1
        target = cluster.get_node(node_name=node_a)
        got = _data(lambda: pubsub.get_sharded_message(timeout=0.2, target_node=target), 1)
        assert got == [(channel_a, "scripted")]
        # ... refused for one on another node.
        with pytest.raises(redis.ResponseError, match="non local key"):
            cluster.eval(script, 1, f"{tag_a}count", channel_b, "elsewhere")
    finally:
        pubsub.close()


async def _async_cluster_sharded_pubsub(url: str) -> None:
    cluster = redis.asyncio.cluster.RedisCluster.from_url(url, decode_responses=True)
    try:
        await cluster.initialize()
        pubsub = cluster.pubsub()
        await pubsub.ssubscribe("{async}events")
        confirmation = await pubsub.get_sharded_message(timeout=1)
        assert confirmation is not None
        assert confirmation["type"] == "ssubscribe"
        assert await cluster.spublish("{async}events", "hello") == 1
        message = None
        deadline = time.monotonic() + 5
        while message is None and time.monotonic() < deadline:
            message = await pubsub.get_sharded_message(ignore_subscribe_messages=True, timeout=0.2)
        assert message is not None
        assert (message["type"], message["data"]) == ("smessage", "hello")
        await pubsub.aclose()
    finally:
        await cluster.aclose()
