"""The summary's section on the model in process (``benchmarks/local.py``)."""

from __future__ import annotations

from typing import Any

from benchmarks._tables import spread, table


def local_section(data: dict[str, Any]) -> list[str]:
    load, setup = data["load"], data["setup"]
    loading = [
        ["client build: import llama.cpp, load the model", spread(load["build_s"], " s")],
        ["first answer after it (8 tokens)", spread(load["first_answer_s"], " s")],
        ["memory added by the build (RSS)", spread(load["rss_added_loaded_mb"], " MB", 0)],
        ["memory added after the first answer", spread(load["rss_added_answered_mb"], " MB", 0)],
    ]
    speed = [
        [
            name,
            spread(r["ttft_ms"], digits=1),
            spread(r["tokens_per_s"], digits=1),
            spread(r["cpu_ms_per_token"], digits=1),
        ]
        for name, r in data["generation"].items()
    ]
    ratio = data["failover_vs_raw"]
    ratios = [
        ["time to first token", spread(ratio["ttft_ms"], "x")],
        ["tokens per second", spread(ratio["tokens_per_s"], "x")],
        ["CPU per token", spread(ratio["cpu_ms_per_token"], "x")],
    ]
    return [
        "## A model in process",
        "",
        f"`local/smollm2` (SmolLM2-135M-Instruct, Q4_1). Loading: {load['runs']} fresh "
        "interpreters. Generation: streamed answers of at most "
        f"{setup['max_tokens']} tokens at temperature 0, {setup['rounds']} interleaved rounds "
        f"of {setup['calls_per_round']} per contender; median over rounds (min to max). CPU "
        "is the whole process's, llama.cpp's threads included.",
        "",
        *table(["loading", "median (min to max)"], loading),
        *table(["contender", "first token ms", "tokens/s", "CPU ms/token"], speed),
        *table(["failover / direct, per round", "median (min to max)"], ratios),
    ]
