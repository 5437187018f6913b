"""What the wall-clock bound on sync calls costs, and what a first request costs.

*Bound.* Sync calls: the raw openai SDK, failover with one target (every socket
operation capped by the attempt's end, ``_adapters/_bounded_io.py``), and the same
failover client with the SDK's stock HTTP client swapped in (no bound), against one
healthy fake in another process. Each round makes a batch of calls per contender, in a
shuffled order; per round it takes each contender's median latency and CPU per call,
and the ratios bounded / unbounded and bounded / raw SDK. Reported: min, median and max
of those ratios over the rounds.

*First request.* A fresh interpreter per run builds a client, then times its first call
and 20 more; reported per run is the first call's excess over the warm median, then
min / median / max over the runs, for the raw SDK and for failover.
"""

from __future__ import annotations

import contextlib
import json
import random
import statistics
import subprocess
import sys
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any

import openai

import failover
from benchmarks._common import MESSAGES, MODEL, ROOT, min_median_max
from benchmarks._load import sequential

RAW = "openai SDK (max_retries=0)"
BOUNDED = "failover, 1 target (bounded)"
UNBOUNDED = "failover, 1 target, stock HTTP client (unbounded)"


def _unbounded(url: str) -> failover.Failover:
    """A failover client whose adapter uses the SDK's own HTTP client: the bound removed.

    Benchmark only: it reaches into the adapter to isolate what the bound costs.
    """
    client = failover.Failover([failover.Target("fake", MODEL, base_url=url, api_key="x")])
    adapter: Any = client._router.adapter(client.targets[0])
    adapter._sync_client.close()
    adapter._sync_client = openai.OpenAI(base_url=url, api_key="x", max_retries=0)
    return client


def _batch(call: Callable[[], object], n: int) -> tuple[float, float]:
    """Median latency (s) and CPU seconds per call over ``n`` sequential calls."""
    latencies, cpu = sequential(call, n)
    return statistics.median(latencies), cpu / n


def interleaved(
    calls: Mapping[str, Callable[[], object]],
    rounds: int,
    batch: int,
    seed: int,
    around: Mapping[str, AbstractContextManager[object]] | None = None,
) -> list[dict[str, tuple[float, float]]]:
    """After a warm-up, ``rounds`` rounds of ``batch`` calls per contender in a freshly
    shuffled order: per round and contender, median latency (s) and CPU s per call.
    ``around[name]`` is entered around each of that contender's batches (say, an SDK
    installed only for it)."""
    rng = random.Random(seed)
    setting = around or {}

    def measure(name: str, n: int) -> tuple[float, float]:
        with setting.get(name) or contextlib.nullcontext():
            return _batch(calls[name], n)

    for name in calls:
        measure(name, 30)  # warm-up: connections and caches
    return [
        {name: measure(name, batch) for name in rng.sample(list(calls), len(calls))}
        for _ in range(rounds)
    ]


def bound(url: str, rounds: int, batch: int) -> dict[str, Any]:
    raw = openai.OpenAI(base_url=url, api_key="x", max_retries=0)
    bounded = failover.Failover([failover.Target("fake", MODEL, base_url=url, api_key="x")])
    unbounded = _unbounded(url)
    calls: dict[str, Callable[[], object]] = {
        RAW: lambda: raw.chat.completions.create(model=MODEL, messages=MESSAGES),  # type: ignore[arg-type]
        BOUNDED: lambda: bounded.chat.completions.create(messages=MESSAGES),
        UNBOUNDED: lambda: unbounded.chat.completions.create(messages=MESSAGES),
    }
    try:
        per_round = interleaved(calls, rounds, batch, seed=7)
    finally:
        raw.close()
        bounded.close()
        unbounded.close()

    def ratio(a: str, b: str, i: int) -> list[float]:
        return [r[a][i] / r[b][i] for r in per_round]

    return {
        "setup": {"rounds": rounds, "calls_per_round": batch},
        "p50_ms": {n: min_median_max([r[n][0] * 1000 for r in per_round]) for n in calls},
        "cpu_us_per_call": {n: min_median_max([r[n][1] * 1e6 for r in per_round]) for n in calls},
        "bounded_vs_unbounded": {
            "p50": min_median_max(ratio(BOUNDED, UNBOUNDED, 0)),
            "cpu": min_median_max(ratio(BOUNDED, UNBOUNDED, 1)),
        },
        "bounded_vs_raw": {
            "p50": min_median_max(ratio(BOUNDED, RAW, 0)),
            "cpu": min_median_max(ratio(BOUNDED, RAW, 1)),
        },
    }


FIRST_CALL = """
import json, statistics, sys, time
from failover.testing import FakeProvider
ask = [{"role": "user", "content": "hi"}]
with FakeProvider("openai") as fake:
    if sys.argv[1] == "raw":
        import openai
        client = openai.OpenAI(base_url=fake.base_url, api_key="x", max_retries=0)
        call = lambda: client.chat.completions.create(model="m", messages=ask)
    else:
        import failover
        target = failover.Target("fake", "m", base_url=fake.base_url, api_key="x")
        client = failover.Failover([target])
        call = lambda: client.chat.completions.create(messages=ask)
    times = []
    for _ in range(21):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    print(json.dumps({"first_ms": times[0] * 1000, "warm_ms": statistics.median(times[1:]) * 1000}))
"""


def first_request(runs: int) -> dict[str, Any]:
    samples: dict[str, list[dict[str, float]]] = {"raw": [], "failover": []}
    for _ in range(runs):
        for kind in samples:  # interleaved
            done = subprocess.run(
                [sys.executable, "-c", FIRST_CALL, kind],
                capture_output=True,
                text=True,
                cwd=ROOT,
                timeout=120,
                check=True,
            )
            samples[kind].append(json.loads(done.stdout.strip().splitlines()[-1]))
    names = {"raw": RAW, "failover": "failover (clients built at construction)"}
    return {
        "setup": {"runs": runs, "warm_calls": 20},
        "cases": {
            names[kind]: {
                "first_ms": min_median_max([s["first_ms"] for s in runs_]),
                "warm_ms": min_median_max([s["warm_ms"] for s in runs_]),
                "excess_ms": min_median_max([s["first_ms"] - s["warm_ms"] for s in runs_]),
            }
            for kind, runs_ in samples.items()
        },
    }


def run(url: str, rounds: int, batch: int, runs: int) -> dict[str, Any]:
    return {"bound": bound(url, rounds, batch), "first_request": first_request(runs)}
