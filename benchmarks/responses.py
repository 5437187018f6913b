"""The Responses API: failover's ``client.responses.create`` beside the raw SDK's and LiteLLM's.

One healthy fake OpenAI provider (the 10-chunk one of ``benchmarks/_fake.py``), which
serves ``POST /v1/responses`` itself; failover's target is an ``openai`` one, so it
takes the request natively and both clients hit the same route. Three cases: a plain
call (sync), and a stream of 10 text deltas read to the end, sync and async. LiteLLM's
Router answers through its ``responses()``/``aresponses()`` on the same fake.

The question is a few per cent of CPU, so the rounds are many and short (the fleet
benchmark's healthy-call profile): each round runs one batch per case and contender,
in a freshly shuffled order, and takes per contender the CPU and wall seconds per call,
the median time to the first text delta (streams), and their ratios to the raw SDK's
in that round. Reported: the min / median / max over the rounds.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import failover
from benchmarks._common import MODEL, Profile, interleaved_cases, min_median_max
from benchmarks._fake import FakeServers
from benchmarks._load import Streamed, is_text_delta, sequential, stream_async, stream_sequential
from benchmarks._peer import LiteLLMPeer
from benchmarks._tables import contender_order
from benchmarks.streams import clients

RAW = "openai SDK (max_retries=0)"
ONE = "failover, 1 target"
PEER = "LiteLLM Router"
FAKE = "stream10"  # its answers stream in 10 text deltas
GROUP = "r10"  # LiteLLM's model group for that fake
INPUT = "Say hello."
CASES = ("plain", "sync-stream", "async-stream")
Batch = tuple[list[float], float, float]  # per call: latency or first text; CPU s; wall s
Runner = Callable[[int], Batch]


def _walled(run: Callable[[int], Streamed]) -> Runner:
    """``run`` with the wall time of the whole batch beside its own figures."""

    def timed(n: int) -> Batch:
        start = time.perf_counter()
        firsts, cpu = run(n)
        return firsts, cpu, time.perf_counter() - start

    return timed


def _runners(
    url: str, peer: LiteLLMPeer, loop: asyncio.AbstractEventLoop, stack: ExitStack
) -> dict[str, dict[str, Runner]]:
    """Per case, per contender: make ``n`` calls, return their timings."""
    target = failover.Target("openai", MODEL, base_url=url, api_key="x")
    if not target.native_responses:  # else failover would convert to chat: not comparable
        raise RuntimeError(f"{target} does not take the Responses API natively")
    raw, one, araw, aone = clients(url, target, loop, stack)

    def raw_stream() -> Any:
        return raw.responses.create(model=MODEL, input=INPUT, stream=True)

    def one_stream() -> Any:
        return one.responses.create(input=INPUT, stream=True)

    def araw_stream() -> Any:
        return araw.responses.create(model=MODEL, input=INPUT, stream=True)

    def aone_stream() -> Any:
        return aone.responses.create(input=INPUT, stream=True)

    def plain(call: Callable[[], object]) -> Runner:
        return _walled(lambda n: sequential(call, n))

    def sync(open_stream: Callable[[], Any]) -> Runner:
        return _walled(lambda n: stream_sequential(open_stream, n, is_text_delta))

    def asyn(open_stream: Callable[[], Any]) -> Runner:
        return _walled(
            lambda n: loop.run_until_complete(stream_async(open_stream, n, is_text_delta))
        )

    def peer_runner(mode: str) -> Runner:
        return lambda n: peer.responses(GROUP, mode, n)

    return {
        "plain": {
            RAW: plain(lambda: raw.responses.create(model=MODEL, input=INPUT)),
            ONE: plain(lambda: one.responses.create(input=INPUT)),
            PEER: peer_runner("plain"),
        },
        "sync-stream": {RAW: sync(raw_stream), ONE: sync(one_stream), PEER: peer_runner("sync")},
        "async-stream": {
            RAW: asyn(araw_stream),
            ONE: asyn(aone_stream),
            PEER: peer_runner("async"),
        },
    }


def _per_call(case: str, name: str, batch: Batch, n: int) -> dict[str, float]:
    """One batch's figures per call; a stream that never showed text is a broken run."""
    firsts, cpu, wall = batch
    row = {"cpu": cpu / n, "wall": wall / n}
    if case != "plain":
        if not all(firsts):
            raise RuntimeError(f"{name}: a {case} had no response.output_text.delta event")
        row["ttft"] = statistics.median(firsts)
    return row


def _summarise(rows: list[dict[str, dict[str, float]]], case: str) -> dict[str, Any]:
    """Per contender: spreads over the rounds of per-call figures and of ratios to RAW."""
    out: dict[str, Any] = {}
    metrics = [("cpu", "cpu_us", 1e6, 1), ("wall", "wall_ms", 1e3, 3)]
    if case != "plain":
        metrics.append(("ttft", "ttft_ms", 1e3, 3))
    for name in sorted(rows[0], key=contender_order):
        out[name] = {}
        for key, label, scale, digits in metrics:
            out[name][label] = min_median_max([r[name][key] * scale for r in rows], digits)
            out[name][f"{key}_ratio"] = min_median_max([r[name][key] / r[RAW][key] for r in rows])
    return out


def measure(cases: dict[str, dict[str, Runner]], rounds: int, n: int) -> dict[str, Any]:
    """Interleaved rounds over every case and contender; spreads over the rounds."""
    per_round = interleaved_cases(cases, rounds, lambda case: n, seed=17)
    return {
        case: _summarise(
            [{name: _per_call(case, name, b, n) for name, b in row.items()} for row in rows],
            case,
        )
        for case, rows in per_round.items()
    }


def run(profile: Profile, fakes: FakeServers, peer: LiteLLMPeer) -> dict[str, Any]:
    """Every case and contender against the 10-chunk fake; figures per case."""
    url = fakes.urls[FAKE]
    version = peer.setup({GROUP: url})
    rounds, n = profile.healthy_rounds, profile.healthy_batch
    loop = asyncio.new_event_loop()
    try:
        with ExitStack() as stack:
            results = measure(_runners(url, peer, loop, stack), rounds, n)
    finally:
        loop.close()
    return {
        "setup": {"rounds": rounds, "calls_per_batch": n, "litellm": version},
        "cases": results,
    }
