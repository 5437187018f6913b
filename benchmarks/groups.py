"""Several deployments of one model under a rate-limit storm: 429s received, by contender.

Three fake deployments of one model with request quotas of 600, 300 and 300 per minute,
enforced, as Azure does, over 10 s windows (100, 50 and 50 requests per window; a
request past the quota gets 429 with the window's reset as Retry-After, and every answer
says what is left in OpenAI's ``x-ratelimit-*`` headers). Open-loop load of 1,000
requests per minute (83% of the capacity) for 2 minutes (``--quick``: 30 s), each
contender from a fresh start of the quotas, on the same fakes, in two shapes of the same
mean load: *paced* (one call every 60 ms) and *bursty* (Poisson arrivals, as independent
users make them, from one seed so that every contender gets the same bursts). Two kinds
of contender: *told* the quotas (failover's group weighted 2:1:1; LiteLLM's Router given each
deployment's rpm, with ``simple-shuffle``, which then picks by rpm, and with
``usage-based-routing-v2``), and *not told* them (equal weights; ``simple-shuffle``
without rpm), as when the quotas are shared with other applications or unknown. Defaults
otherwise: both retry a 429 on another deployment. Measured from the fakes' own logs:
the 429s they served, and each deployment's share of the answered requests against its
share of the capacity; on the client, the calls answered and the p99 latency.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import ExitStack
from typing import Any

from benchmarks import _load
from benchmarks._common import MODEL, Profile, percentile
from benchmarks._peer import LiteLLMPeer
from failover import AsyncFailover, Group, Policy, Target
from failover.testing import FakeProvider

QUOTAS = (100, 50, 50)  # requests per WINDOW, per deployment
WINDOW = 10.0  # seconds
RATE = 1000 / 60  # requests per second
# shape -> seed of the arrivals (None: evenly paced)
SHAPES: dict[str, int | None] = {"paced": None, "bursty": 20261203}
# name -> (failover weights, or LiteLLM's routing strategy and whether it is told the rpm)
CONTENDERS: dict[str, tuple[str, Any]] = {
    "failover, weights 2:1:1 (told)": ("failover", [2, 1, 1]),
    "LiteLLM, simple-shuffle with rpm (told)": ("simple-shuffle", True),
    "LiteLLM, usage-based-routing-v2 with rpm (told)": ("usage-based-routing-v2", True),
    "failover, equal weights (not told)": ("failover", [1, 1, 1]),
    "LiteLLM, simple-shuffle (not told)": ("simple-shuffle", False),
}


def _failover_run(
    fakes: list[FakeProvider], weights: list[float], duration: float, seed: int | None
) -> list[list[Any]]:
    targets = [
        Target("openai", MODEL, base_url=f.base_url, api_key="x", name=f.name) for f in fakes
    ]
    chain = [Group(*targets, weights=weights)]

    async def drive() -> list[list[Any]]:
        async with AsyncFailover(chain, policy=Policy(attempt_timeout=5.0)) as client:

            def call() -> Any:
                return client.chat.completions.create(messages=[{"role": "user", "content": "Hi"}])

            return await _load.drill(call, time.time() + 0.5, duration, RATE, [], seed)

    return asyncio.run(drive())


def _measure(fakes: list[FakeProvider], records: list[list[Any]]) -> dict[str, Any]:
    capacity = sum(QUOTAS)
    served = {f.name: sum(r.fault is None for r in f.requests) for f in fakes}
    answered = sum(served.values()) or 1
    latencies = [r[1] for r in records]
    return {
        "calls": len(records),
        "answered_pct": round(100 * sum(bool(r[2]) for r in records) / max(1, len(records)), 2),
        "p99_ms": round(1000 * percentile(latencies, 0.99), 1),
        "received_429": sum(r.fault is not None for f in fakes for r in f.requests),
        "share": {name: round(n / answered, 3) for name, n in served.items()},
        "capacity_share": {
            f.name: round(q / capacity, 3) for f, q in zip(fakes, QUOTAS, strict=True)
        },
    }


def run(profile: Profile, peer: LiteLLMPeer) -> dict[str, Any]:
    duration = 120.0 if profile.name == "full" else 30.0
    out: dict[str, Any] = {
        "setup": {
            "quotas_per_window": list(QUOTAS),
            "window_s": WINDOW,
            "rate_per_min": round(RATE * 60),
            "duration_s": duration,
            "bursty_seed": SHAPES["bursty"],
        }
    }
    with ExitStack() as stack:
        names = ("deployment-a", "deployment-b", "deployment-c")
        fakes = [stack.enter_context(FakeProvider("openai", name=n)) for n in names]
        rpm = [round(q * 60 / WINDOW) for q in QUOTAS]
        for shape, seed in SHAPES.items():
            rows = out.setdefault(shape, {})
            for name, (kind, told) in CONTENDERS.items():
                for fake, quota in zip(fakes, QUOTAS, strict=True):
                    fake.reset()
                    fake.set_quota(quota, per=WINDOW)
                if kind == "failover":
                    records = _failover_run(fakes, told, duration, seed)
                else:
                    urls = [f.base_url for f in fakes]
                    peer.setup_group(urls, rpm if told else None, kind)
                    records = peer.drill(time.time() + 1.0, duration, RATE, urls, seed)
                rows[name] = _measure(fakes, records)
                print(f"  {shape}, {name}: {rows[name]['received_429']} 429s", flush=True)
    return out
