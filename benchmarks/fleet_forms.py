"""Fleets on production forms of Redis: a Cluster, and a Sentinel primary that dies.

*Cluster.* 8 worker processes (``failover.drill._fleet``'s protocol) share health
through a 3-master Redis Cluster of this benchmark's own, against a primary that answers
503 for the first 3 s of 5: the requests the dead primary received from the fleet, to
compare with the same fleet on one Redis (``fleet.py``).

*Sentinel failover mid-run.* 4 worker processes share health through a primary watched
by 3 sentinels, with one replica, for 6 s against a primary target that is dead for
the first 3 s; 1.5 s in, the Redis primary is SIGKILLed. Measured: the calls that failed
(goal 0), the slowest call, the sentinels' promotion time, and the time from the kill
until health is shared again: until a store of this process, connected through the
sentinels, is back on Redis and a breaker it trips reaches a second such store.

The servers are the tests' own helpers (``tests/own_redis_replicated.py``), started on
free ports and ended by their pids.
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import failover
from benchmarks._common import min_median_max
from failover.drill._fleet import dead_primary_run, fleet_policy
from tests.own_redis_replicated import own_cluster, own_sentinel

RUN_S, DEAD_S = 5.0, 3.0
KILL_AT = 1.5  # seconds into the Sentinel run


def _cluster_round(directory: Path) -> dict[str, Any]:
    with own_cluster(directory) as cluster:
        env = {"FAILOVER_REDIS_URL": cluster.url, "FAILOVER_REDIS_CLUSTER": "1"}
        return dead_primary_run(
            8, redis_url=None, redis_env=env, seconds=RUN_S, dead_for=DEAD_S, policy=fleet_policy()
        )


def _shared_again(env: dict[str, str], killed_at: list[float]) -> float:
    """Seconds from the kill until two stores of this process share a trip again."""
    policy = failover.Policy(breaker_fail_max=1, breaker_reset=60.0)
    stores = [failover._client.health_from_env(env) for _ in range(2)]
    try:
        while not killed_at:
            time.sleep(0.01)
        for attempt in range(2000):
            target = failover.Target("fake", f"m{attempt}", base_url="http://127.0.0.1:9/v1")
            tripper, watcher = (s.for_target(target, policy) for s in stores)
            if all(getattr(s, "connected", False) for s in stores) and time.time() > killed_at[0]:
                tripper.record_failure(tripper.admit())
                seen = time.monotonic() + 1.0
                while time.monotonic() < seen:
                    if not watcher.peek().allowed:
                        return time.time() - killed_at[0]
                    time.sleep(0.005)
            time.sleep(0.05)
        raise RuntimeError("health was never shared again")
    finally:
        for store in stores:
            store.close()


def _sentinel_round(directory: Path) -> dict[str, Any]:
    with own_sentinel(directory) as setup:
        env = {
            "FAILOVER_REDIS_SENTINELS": setup.sentinels_env(),
            "FAILOVER_REDIS_SENTINEL_MASTER": setup.master,
            "FAILOVER_REDIS_PREFIX": "bench-promotion",
        }
        killed_at: list[float] = []
        promoted: list[float] = []

        def kill(t0: float) -> None:
            def later() -> None:
                time.sleep(max(0.0, t0 + KILL_AT - time.time()))
                killed_at.append(time.time())
                promoted.append(setup.kill_primary_and_wait_for_promotion())

            threading.Thread(target=later, daemon=True).start()

        shared: list[float] = []
        watcher = threading.Thread(
            target=lambda: shared.append(_shared_again(env, killed_at)), daemon=True
        )
        watcher.start()
        result = dead_primary_run(
            4,
            redis_url=None,
            redis_env=env,
            seconds=RUN_S + 1.0,
            dead_for=DEAD_S,
            policy=fleet_policy(),
            on_start=kill,
        )
        watcher.join(30)
        return {
            **result,
            "promotion_s": round(promoted[0], 2) if promoted else None,
            "shared_again_s": round(shared[0], 2) if shared else None,
        }


def run(rounds: int) -> dict[str, Any]:
    cluster, sentinel = [], []
    with tempfile.TemporaryDirectory(prefix="failover-bench-redis-") as folder:
        for index in range(rounds):
            cluster.append(_cluster_round(Path(folder) / f"cluster-{index}"))
            sentinel.append(_sentinel_round(Path(folder) / f"sentinel-{index}"))
    return {
        "setup": {"run_s": RUN_S, "dead_s": DEAD_S, "kill_at_s": KILL_AT, "rounds": rounds},
        "cluster_8": {
            "dead_calls": min_median_max([r["dead_primary_calls"] for r in cluster]),
            "answered": sum(r["answered"] for r in cluster),
            "failed": sum(r["failed"] for r in cluster),
        },
        "sentinel_kill": {
            "failed": sum(r["failed"] for r in sentinel),
            "answered": sum(r["answered"] for r in sentinel),
            "slowest_s": min_median_max([r["slowest_s"] for r in sentinel]),
            "promotion_s": min_median_max([r["promotion_s"] for r in sentinel if r["promotion_s"]]),
            "shared_again_s": min_median_max(
                [r["shared_again_s"] for r in sentinel if r["shared_again_s"]]
            ),
        },
    }
