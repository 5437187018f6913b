"""Outage drill: one compressed timeline, a steady open-loop load, contenders in turn.

The primary fake goes: healthy; hard down with 503s; HTML 502s; hanging (accepts,
never answers); connection refused (its server stopped); flapping (30% 503s);
healthy. The secondary stays healthy. Then a "cold hang" (a hang as the first
failure, breaker still closed) for failover and LiteLLM. Every contender uses a 1 s
per-attempt timeout and gets the same open-loop load (benchmarks/_load.py: a call
every 1/rate s). Attempts are counted twice: on the client's wire (every send, incl.
refused connects) and by the fakes themselves (what the provider received).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from typing import Any
from urllib.parse import urlsplit

import httpx2
import openai
import tenacity

import failover
from benchmarks._common import MESSAGES, MODEL, Profile, latency_stats
from benchmarks._fake import FakeServers
from benchmarks._load import concurrent, count_sends, drill
from benchmarks._peer import LiteLLMPeer

ATTEMPT_TIMEOUT = 1.0
TIMELINE = (
    ("healthy", 3.0),
    ("status503", 4.0),
    ("html502", 4.0),
    ("hang", 4.0),
    ("refused", 4.0),
    ("flap30", 5.0),
    ("healthy", 4.0),
)
DEAD = frozenset({"status503", "html502", "hang", "refused"})  # primary fails 100%
# A hang as the first failure, while the breaker is still closed.
COLD_HANG = (("healthy", 2.0), ("hang", 6.0), ("healthy", 2.0))
FAILOVER = "failover"
PEER = "LiteLLM Router"
TENACITY = "openai SDK + tenacity"
RAW = "openai SDK"
CONTENDERS = (FAILOVER, PEER, TENACITY, RAW)
SETUP = {
    "attempt_timeout_s": ATTEMPT_TIMEOUT,
    "failover": "Policy(attempt_timeout=1, breaker_reset=5), defaults otherwise",
    "litellm": "Router defaults (num_retries=2, cooldown_time=5 s), fallback, timeout=1 s",
    "tenacity": "3 attempts, wait_exponential(0.25, max=2), openai max_retries=0",
    "openai_sdk": "defaults (max_retries=2), timeout=1 s",
}


def _policy() -> failover.Policy:
    # The timeline is compressed ~10x, so the breaker's 30 s reset would outlast the
    # outage; 5 s matches LiteLLM's default cooldown_time. Everything else: defaults.
    return failover.Policy(attempt_timeout=ATTEMPT_TIMEOUT, breaker_reset=5.0)


def _tenacity_call(client: openai.AsyncOpenAI) -> Callable[[], Any]:
    async def call() -> Any:
        async for attempt in tenacity.AsyncRetrying(
            stop=tenacity.stop_after_attempt(3),
            wait=tenacity.wait_exponential(multiplier=0.25, max=2.0),
            retry=tenacity.retry_if_exception_type(openai.APIError),
            reraise=True,
        ):
            with attempt:
                return await client.chat.completions.create(model=MODEL, messages=MESSAGES)  # type: ignore[arg-type]

    return call


# failover's variants in the partial-outage drill (benchmarks/partial.py).
NO_PARTIAL = "failover, budget and failure-rate rule off"
HEDGED = "failover, hedge after 0.15 s"


def _policy_of(name: str) -> failover.Policy:
    base = _policy()
    if name == NO_PARTIAL:
        return dataclasses.replace(base, retry_budget=None, breaker_failure_ratio=0.0)
    if name == HEDGED:
        # About 10x the healthy p99 on this loopback fake: only the slow tail is hedged.
        return dataclasses.replace(base, hedge_after=0.15)
    return base


def make_call(
    name: str, urls: dict[str, str], fallback_ok: list[float], stack: AsyncExitStack
) -> Callable[[], Any]:
    """A fresh client for one main-process contender, as a coroutine factory."""
    primary, secondary = urls["primary"], urls["secondary"]
    if name.startswith(FAILOVER):

        def note(attempt: failover.Attempt) -> None:
            if attempt.outcome == "ok" and attempt.target.startswith("secondary/"):
                fallback_ok.append(attempt.duration)

        fo = failover.AsyncFailover(
            [
                failover.Target("primary", MODEL, base_url=primary, api_key="x"),
                failover.Target("secondary", MODEL, base_url=secondary, api_key="x"),
            ],
            policy=_policy_of(name),
            on_attempt=note,
        )
        stack.push_async_exit(fo)
        return lambda: fo.chat.completions.create(messages=MESSAGES)
    retries = 0 if name == TENACITY else 2  # 2: the SDK's default
    sdk = openai.AsyncOpenAI(
        base_url=primary, api_key="x", max_retries=retries, timeout=ATTEMPT_TIMEOUT
    )
    stack.push_async_exit(sdk)
    if name == TENACITY:
        return _tenacity_call(sdk)
    return lambda: sdk.chat.completions.create(model=MODEL, messages=MESSAGES)  # type: ignore[arg-type]


def _phase_of(start: float, timeline: Sequence[tuple[str, float]]) -> int:
    edge = 0.0
    for index, (_, seconds) in enumerate(timeline):
        edge += seconds
        if start < edge:
            return index
    return len(timeline) - 1


def summarize(
    records: list[list[Any]], server: dict[str, Any], timeline: Sequence[tuple[str, float]]
) -> dict[str, Any]:
    """Success, latency, wire sends and server-received counts, overall and per phase."""
    phases: list[dict[str, Any]] = []
    for index, (kind, _) in enumerate(timeline):
        mine = [r for r in records if _phase_of(r[0], timeline) == index]
        got = server["phases"][index] if index < len(server["phases"]) else {}
        phases.append(
            {
                "kind": kind,
                **latency_stats([r[1] for r in mine]),
                "success_pct": round(100 * sum(r[2] for r in mine) / max(1, len(mine)), 2),
                "sends_primary": sum(r[3] for r in mine),
                "sends_secondary": sum(r[4] for r in mine),
                "received_primary": got.get("primary", 0),
                "received_secondary": got.get("secondary", 0),
                "errors": sorted({r[5] for r in mine if r[5]}),
            }
        )
    dead = [p for p in phases if p["kind"] in DEAD]
    dead_calls = sum(p["n"] for p in dead)
    return {
        **latency_stats([r[1] for r in records]),
        "success_pct": round(100 * sum(r[2] for r in records) / max(1, len(records)), 2),
        "dead_target_received": sum(p["received_primary"] for p in dead),
        "dead_target_sends": sum(p["sends_primary"] for p in dead),
        "attempts_per_call": round(sum(r[3] + r[4] for r in records) / max(1, len(records)), 3),
        "attempts_per_call_dead": round(
            sum(p["sends_primary"] + p["sends_secondary"] for p in dead) / max(1, dead_calls), 3
        ),
        "hang_p99_ms": next((p["p99_ms"] for p in phases if p["kind"] == "hang"), None),
        "phases": phases,
    }


def _drill_one(
    name: str,
    timeline: Sequence[tuple[str, float]],
    rate: float,
    fakes: FakeServers,
    peer: LiteLLMPeer,
    loop: asyncio.AbstractEventLoop,
) -> dict[str, Any]:
    """One contender, with fresh clients (no breaker or cooldown state carried over)."""
    duration = sum(seconds for _, seconds in timeline)
    urls = [fakes.urls["primary"], fakes.urls["secondary"]]
    ports = [urlsplit(u).port or 0 for u in urls]
    fallback_ok: list[float] = []
    stack = AsyncExitStack()
    fakes.reset()
    try:
        if name == PEER:
            peer.setup({"primary": urls[0], "backup": urls[1]}, timeout=ATTEMPT_TIMEOUT)
            peer.concurrent(5, 1)  # warm-up
            t0 = time.time() + 0.5
            fakes.drill(t0, timeline)
            records = peer.drill(t0, duration, rate, urls)
        else:
            call = make_call(name, fakes.urls, fallback_ok, stack)
            loop.run_until_complete(concurrent(call, 5, 1))  # warm-up
            fallback_ok.clear()
            t0 = time.time() + 0.5
            fakes.drill(t0, timeline)
            with count_sends(httpx2.AsyncClient):
                records = loop.run_until_complete(drill(call, t0, duration, rate, ports))
    finally:
        loop.run_until_complete(stack.aclose())
    result = summarize(records, fakes.counts(timeout=60.0), timeline)
    if name.startswith(FAILOVER):
        result["fallback_p99_ms"] = latency_stats(fallback_ok)["p99_ms"]
    print(f"  {name}: {result['success_pct']}% ok, p99 {result['p99_ms']:.0f} ms", flush=True)
    return result


def run(profile: Profile, fakes: FakeServers, peer: LiteLLMPeer) -> dict[str, Any]:
    """The full drill for every contender, then the cold hang for failover and LiteLLM."""
    drills = {"drill": (TIMELINE, CONTENDERS), "cold_hang": (COLD_HANG, (FAILOVER, PEER))}
    out: dict[str, Any] = {"setup": SETUP | {"rate_per_s": profile.rate}}
    loop = asyncio.new_event_loop()
    try:
        for key, (phases, names) in drills.items():
            timeline = [(kind, seconds * profile.phase_scale) for kind, seconds in phases]
            print(f"  {key}:", flush=True)
            results = {n: _drill_one(n, timeline, profile.rate, fakes, peer, loop) for n in names}
            out[key] = {"timeline": [list(p) for p in timeline], "contenders": results}
    finally:
        loop.close()
    return out
