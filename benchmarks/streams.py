"""Streams: client CPU per stream and time to first token, beside the raw SDK and LiteLLM.

Two healthy fakes answer in 10 and in 200 content chunks (``benchmarks/_fake.py``).
Each contender reads whole streams one after another, sync (``openai.OpenAI``,
``Failover``, ``Router.completion``) and async (``AsyncOpenAI``, ``AsyncFailover``,
``Router.acompletion``). Each round runs one batch per contender and case, in a freshly
shuffled order; per round it takes each contender's CPU seconds per stream and median
time to first content, and their ratios to the raw SDK's in that round. Reported: the
min / median / max over the rounds.
"""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import openai

import failover
from benchmarks._common import MESSAGES, MODEL, interleaved_cases, min_median_max
from benchmarks._fake import STREAMS, FakeServers
from benchmarks._load import Streamed, stream_async, stream_sequential
from benchmarks._peer import LiteLLMPeer

RAW = "openai SDK (max_retries=0)"
ONE = "failover, 1 target"
PEER = "LiteLLM Router"
MODES = ("sync", "async")
Runner = Callable[[int], Streamed]


Clients = tuple[openai.OpenAI, failover.Failover, openai.AsyncOpenAI, failover.AsyncFailover]


def clients(
    url: str, target: failover.Target, loop: asyncio.AbstractEventLoop, stack: ExitStack
) -> Clients:
    """The raw SDK's and failover's sync and async clients for one fake at ``url``,
    closed by ``stack`` (the async ones on ``loop``)."""
    raw = stack.enter_context(openai.OpenAI(base_url=url, api_key="x", max_retries=0))
    one = stack.enter_context(failover.Failover([target]))
    araw = openai.AsyncOpenAI(base_url=url, api_key="x", max_retries=0)
    aone = failover.AsyncFailover([target])
    for closer in (araw.close, aone.aclose):
        stack.callback(loop.run_until_complete, closer())
    return raw, one, araw, aone


def _runners(
    urls: dict[str, str], peer: LiteLLMPeer, loop: asyncio.AbstractEventLoop, stack: ExitStack
) -> dict[str, dict[str, Runner]]:
    """Per case (``sync-10`` ...), per contender: read ``n`` streams, return timings."""
    cases: dict[str, dict[str, Runner]] = {}
    for name, chunks in STREAMS.items():
        url = urls[name]
        target = failover.Target("fake", MODEL, base_url=url, api_key="x")
        raw, one, araw, aone = clients(url, target, loop, stack)
        cases[f"sync-{chunks}"] = _sync(raw, one, peer, f"s{chunks}")
        cases[f"async-{chunks}"] = _async(araw, aone, peer, f"s{chunks}", loop)
    return cases


def _sync(
    raw: openai.OpenAI, one: failover.Failover, peer: LiteLLMPeer, group: str
) -> dict[str, Runner]:
    def raw_stream() -> Any:
        return raw.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)  # type: ignore[arg-type]

    def one_stream() -> Any:
        return one.chat.completions.create(messages=MESSAGES, stream=True)

    return {
        RAW: lambda n: stream_sequential(raw_stream, n),
        ONE: lambda n: stream_sequential(one_stream, n),
        PEER: lambda n: peer.stream(group, "sync", n),
    }


def _async(
    araw: openai.AsyncOpenAI,
    aone: failover.AsyncFailover,
    peer: LiteLLMPeer,
    group: str,
    loop: asyncio.AbstractEventLoop,
) -> dict[str, Runner]:
    def raw_stream() -> Any:
        return araw.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)  # type: ignore[arg-type]

    def one_stream() -> Any:
        return aone.chat.completions.create(messages=MESSAGES, stream=True)

    return {
        RAW: lambda n: loop.run_until_complete(stream_async(raw_stream, n)),
        ONE: lambda n: loop.run_until_complete(stream_async(one_stream, n)),
        PEER: lambda n: peer.stream(group, "async", n),
    }


def measure(
    cases: dict[str, dict[str, Runner]], rounds: int, batches: dict[int, int]
) -> dict[str, Any]:
    """Interleaved rounds over every case and contender; spreads over the rounds."""

    def batch(case: str) -> int:
        return batches[int(case.split("-")[1])]

    per_round = interleaved_cases(cases, rounds, batch, seed=11)
    out: dict[str, Any] = {}
    for case, batches_run in per_round.items():
        n = batch(case)
        rows = [
            {name: (cpu / n, statistics.median(ttft)) for name, (ttft, cpu) in row.items()}
            for row in batches_run
        ]
        out[case] = {
            name: {
                "cpu_us_per_stream": min_median_max([r[name][0] * 1e6 for r in rows], 1),
                "ttft_ms": min_median_max([r[name][1] * 1000 for r in rows]),
                "cpu_ratio": min_median_max([r[name][0] / r[RAW][0] for r in rows]),
                "ttft_ratio": min_median_max([r[name][1] / r[RAW][1] for r in rows]),
            }
            for name in rows[0]
        }
    return out


def run(
    rounds: int, batches: dict[int, int], fakes: FakeServers, peer: LiteLLMPeer
) -> dict[str, Any]:
    peer.setup({f"s{chunks}": fakes.urls[name] for name, chunks in STREAMS.items()})
    loop = asyncio.new_event_loop()
    try:
        with ExitStack() as stack:
            cases = _runners(fakes.urls, peer, loop, stack)
            results = measure(cases, rounds, batches)
    finally:
        loop.close()
    return {
        "setup": {"rounds": rounds, "streams_per_batch": {str(k): v for k, v in batches.items()}},
        "cases": results,
    }
