"""Overhead: per-call latency against one healthy fake provider, side by side.

Contenders: the raw openai SDK (``max_retries=0``), failover with one target,
failover with a three-target chain (healthy primary), and LiteLLM's Router (one
deployment, a fallback configured). Sequential (sync clients) and at concurrency 64
(async clients). Calls are made in small batches, the contenders in a shuffled order
each round, so drift in the machine's speed hits all of them alike. Besides latency,
each contender's client-process CPU time per call is reported.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import openai

import failover
from benchmarks._common import MESSAGES, MODEL, Profile, latency_stats
from benchmarks._fake import NAMES, FakeServers
from benchmarks._load import Timed, concurrent, sequential
from benchmarks._peer import LiteLLMPeer

Seq = Callable[[int], Timed]
Conc = Callable[[int, int], Timed]
RAW = "openai SDK (max_retries=0)"
ONE = "failover, 1 target"
CHAIN = "failover, 3-target chain"
PEER = "LiteLLM Router"


def target(url: str) -> failover.Target:
    return failover.Target("fake", MODEL, base_url=url, api_key="x")


def contenders(
    urls: dict[str, str], peer: LiteLLMPeer, loop: asyncio.AbstractEventLoop, stack: ExitStack
) -> tuple[dict[str, Seq], dict[str, Conc]]:
    """Sequential and concurrent runners per contender; clients close with ``stack``."""
    primary, chain_urls = urls["primary"], [urls[n] for n in NAMES]
    raw = stack.enter_context(openai.OpenAI(base_url=primary, api_key="x", max_retries=0))
    one = stack.enter_context(failover.Failover([target(primary)]))
    chain = stack.enter_context(failover.Failover([target(u) for u in chain_urls]))
    araw = openai.AsyncOpenAI(base_url=primary, api_key="x", max_retries=0)
    aone = failover.AsyncFailover([target(primary)])
    achain = failover.AsyncFailover([target(u) for u in chain_urls])
    for closer in (araw.close, aone.aclose, achain.aclose):
        stack.callback(_run_on, loop, closer)

    def seq(call: Callable[[], object]) -> Seq:
        return lambda n: sequential(call, n)

    def conc(call: Callable[[], Any]) -> Conc:
        return lambda n, c: loop.run_until_complete(concurrent(call, n, c))

    sync = {
        RAW: seq(lambda: raw.chat.completions.create(model=MODEL, messages=MESSAGES)),  # type: ignore[arg-type]
        ONE: seq(lambda: one.chat.completions.create(messages=MESSAGES)),
        CHAIN: seq(lambda: chain.chat.completions.create(messages=MESSAGES)),
        PEER: peer.sequential,
    }
    asyn = {
        RAW: conc(lambda: araw.chat.completions.create(model=MODEL, messages=MESSAGES)),  # type: ignore[arg-type]
        ONE: conc(lambda: aone.chat.completions.create(messages=MESSAGES)),
        CHAIN: conc(lambda: achain.chat.completions.create(messages=MESSAGES)),
        PEER: peer.concurrent,
    }
    return sync, asyn


def _run_on(loop: asyncio.AbstractEventLoop, make: Callable[[], Any]) -> None:
    loop.run_until_complete(make())


class _Sink:
    """Latencies and CPU seconds collected per contender over all batches."""

    def __init__(self, names: list[str]) -> None:
        self.latencies: dict[str, list[float]] = {n: [] for n in names}
        self.cpu: dict[str, float] = dict.fromkeys(names, 0.0)

    def add(self, name: str, timed: Timed) -> None:
        self.latencies[name] += timed[0]
        self.cpu[name] += timed[1]

    def table(self) -> dict[str, dict[str, float]]:
        rows = {name: latency_stats(values) for name, values in self.latencies.items()}
        base = rows[RAW]
        for name, row in rows.items():
            row["p50_ratio"] = round(row["p50_ms"] / base["p50_ms"], 3)
            row["p99_ratio"] = round(row["p99_ms"] / base["p99_ms"], 3)
            row["cpu_us_per_call"] = round(self.cpu[name] / row["n"] * 1e6, 1)
        return rows


def _measure(profile: Profile, sync: dict[str, Seq], asyn: dict[str, Conc]) -> tuple[_Sink, _Sink]:
    """Small batches in a freshly shuffled order each round: drift in the machine's
    speed, and the cold caches after a switch of process, hit every contender alike."""
    names, c = list(sync), profile.concurrency
    rng = random.Random(42)
    for name in names:  # warm-up: connections, lazy imports, caches
        sync[name](profile.warmup)
        asyn[name](c, c)
    seq, conc = _Sink(names), _Sink(names)
    for _ in range(profile.seq_calls // profile.seq_batch):
        for name in rng.sample(names, len(names)):
            seq.add(name, sync[name](profile.seq_batch))
    for _ in range(profile.conc_calls // profile.conc_batch):
        for name in rng.sample(names, len(names)):
            conc.add(name, asyn[name](profile.conc_batch, c))
    return seq, conc


def run(profile: Profile, fakes: FakeServers, peer: LiteLLMPeer) -> dict[str, Any]:
    """Both modes, all contenders; latency tables with ratios to the raw SDK."""
    urls = fakes.urls
    peer.setup({"primary": urls["primary"], "backup": urls["tertiary"]})
    loop = asyncio.new_event_loop()
    try:
        with ExitStack() as stack:
            sync, asyn = contenders(urls, peer, loop, stack)
            seq, conc = _measure(profile, sync, asyn)
    finally:
        loop.close()
    return {
        "setup": {
            "sequential_calls": profile.seq_calls,
            "sequential_batch": profile.seq_batch,
            "concurrent_calls": profile.conc_calls,
            "concurrent_batch": profile.conc_batch,
            "concurrency": profile.concurrency,
            "warmup_calls": profile.warmup,
        },
        "sequential": seq.table(),
        "concurrent": conc.table(),
    }
