"""Fleets: what a dead primary receives from 1, 4 and 8 processes, and what shared
health costs a healthy call.

*Dead primary.* Worker processes (``failover.drill._fleet``'s protocol) call one chain,
primary then backup, in a loop for 5 s; the primary, a fake in this process, answers 503
for the first 3 s. Contenders, in a shuffled order each round: failover with health
shared through Redis, failover with each process on its own, and LiteLLM's Router with
its Redis settings (``redis_host``, ``redis_port``) and the same figures (3 failures,
1 s cool-down, no retries in place, a fallback). Counted: the requests the primary
received while dead, from the fake's own log.

*Healthy call.* Sequential sync calls against one healthy fake in another process: the
raw SDK, failover with in-process health and failover with Redis health, in a shuffled
order each round; per round each one's median latency and CPU per call, and the ratios.
"""

from __future__ import annotations

import random
import time
import uuid
from typing import Any

import openai

import failover
from benchmarks._common import MESSAGES, MODEL, min_median_max
from benchmarks._peer import PYTHON, peer_env
from benchmarks.bound_cost import interleaved
from failover.drill._fleet import dead_primary_run, fleet_policy

SIZES = (1, 4, 8)
RUN_S, DEAD_S = 5.0, 3.0
SHARED = "failover, health in Redis"
ALONE = "failover, each process alone"
PEER = "LiteLLM Router, Redis cooldowns"
RAW = "openai SDK (max_retries=0)"
LOCAL = "failover, in-process health"


def _outage(contender: str, processes: int, redis_url: str) -> dict[str, Any]:
    peer = contender == PEER
    return dead_primary_run(
        processes,
        redis_url=None if contender == ALONE else redis_url,
        seconds=RUN_S,
        dead_for=DEAD_S,
        policy=fleet_policy(),
        backup_api="openai",  # LiteLLM's side is configured for OpenAI-compatible fakes
        command=[str(PYTHON), "benchmarks/litellm_fleet_worker.py"] if peer else None,
        env=peer_env() if peer else None,
    )


def outage(redis_url: str, rounds: int) -> dict[str, Any]:
    rng = random.Random(5)
    seen: dict[int, dict[str, list[dict[str, Any]]]] = {
        n: {c: [] for c in (SHARED, ALONE, PEER)} for n in SIZES
    }
    for _ in range(rounds):
        for n in SIZES:
            for contender in rng.sample(list(seen[n]), 3):
                seen[n][contender].append(_outage(contender, n, redis_url))
    return {
        str(n): {
            c: {
                "dead_calls": min_median_max([float(r["dead_primary_calls"]) for r in runs]),
                "answered": sum(r["answered"] for r in runs),
                "failed": sum(r["failed"] for r in runs),
            }
            for c, runs in by.items()
        }
        for n, by in seen.items()
    }


def healthy_cost(url: str, redis_url: str, rounds: int, batch: int) -> dict[str, Any]:
    target = failover.Target("fake", MODEL, base_url=url, api_key="x")
    store = failover.RedisHealth(redis_url, prefix=f"failover-bench-{uuid.uuid4().hex[:8]}")
    raw = openai.OpenAI(base_url=url, api_key="x", max_retries=0)
    local = failover.Failover([target], health=failover.LocalHealth())
    shared = failover.Failover([target], health=store)
    calls = {
        RAW: lambda: raw.chat.completions.create(model=MODEL, messages=MESSAGES),  # type: ignore[arg-type]
        LOCAL: lambda: local.chat.completions.create(messages=MESSAGES),
        SHARED: lambda: shared.chat.completions.create(messages=MESSAGES),
    }
    try:
        per_round = interleaved(calls, rounds, batch, seed=9)
    finally:
        raw.close()
        local.close()
        shared.close()
        store.close()

    def ratios(a: str, b: str) -> dict[str, float]:
        return min_median_max([r[a][1] / r[b][1] for r in per_round])

    return {
        "setup": {"rounds": rounds, "calls_per_round": batch},
        "cpu_us_per_call": {n: min_median_max([r[n][1] * 1e6 for r in per_round]) for n in calls},
        "p50_ms": {n: min_median_max([r[n][0] * 1000 for r in per_round]) for n in calls},
        "cpu_redis_vs_local": ratios(SHARED, LOCAL),
        "cpu_redis_vs_raw": ratios(SHARED, RAW),
    }


def propagation(redis_url: str, trips: int = 50) -> dict[str, float]:
    """How long from the start of the failure report that trips one store's breaker
    until another store's view says open: two RedisHealth stores (two connections and
    listeners, as two processes have), ``trips`` trips; milliseconds. The other store
    often has the change before the tripping call has its own reply."""
    prefix = f"failover-bench-{uuid.uuid4().hex[:8]}"
    a, b = (failover.RedisHealth(redis_url, prefix=prefix) for _ in range(2))
    policy = failover.Policy(breaker_fail_max=1, breaker_reset=60.0)
    delays = []
    try:
        for i in range(trips):
            target = failover.Target("fake", f"m{i}", base_url="http://127.0.0.1:9/v1")
            tripper, watcher = a.for_target(target, policy), b.for_target(target, policy)
            admission = tripper.admit()
            tripped = time.perf_counter()
            tripper.record_failure(admission)
            while watcher.peek().allowed:
                if time.perf_counter() - tripped > 2.0:
                    raise RuntimeError("the trip never reached the other store")
                # Sleep, not spin: a spinning thread would hold the GIL for up to 5 ms
                # (the switch interval) and delay the listener thread it is waiting for.
                time.sleep(0.0001)
            delays.append((time.perf_counter() - tripped) * 1000)
    finally:
        a.close()
        b.close()
    return {
        **min_median_max(delays),
        "p99": round(sorted(delays)[int(0.99 * (len(delays) - 1))], 3),
    }


def run(url: str, redis_url: str, rounds: int, cost_rounds: int, batch: int) -> dict[str, Any]:
    return {
        "setup": {"run_s": RUN_S, "dead_s": DEAD_S, "sizes": list(SIZES), "rounds": rounds},
        "outage": outage(redis_url, rounds),
        "healthy": healthy_cost(url, redis_url, cost_rounds, batch),
        "propagation_ms": propagation(redis_url),
    }
