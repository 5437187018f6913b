"""The summary's Responses API section and target (``benchmarks/responses.py``)."""

from __future__ import annotations

from typing import Any

from benchmarks._tables import contender_order, spread, table, verdict, x

CASE_TITLES = {
    "plain": "plain call, sync",
    "sync-stream": "10-event stream, sync",
    "async-stream": "10-event stream, async",
}
ONE = "failover, 1 target"


def responses_section(data: dict[str, Any]) -> list[str]:
    setup, rows = data["setup"], []
    for case, contenders in data["cases"].items():
        for name in sorted(contenders, key=contender_order):
            r = contenders[name]
            first = ["-", "-"]
            if "ttft_ms" in r:
                first = [spread(r["ttft_ms"]), spread(r["ttft_ratio"], "x")]
            rows.append(
                [
                    CASE_TITLES[case],
                    name,
                    spread(r["cpu_us"], digits=0),
                    spread(r["cpu_ratio"], "x"),
                    spread(r["wall_ms"]),
                    spread(r["wall_ratio"], "x"),
                    *first,
                ]
            )
    head = ["case", "contender", "CPU µs/call", "CPU vs SDK", "wall ms/call", "wall vs SDK"]
    head += ["first text ms", "vs SDK"]
    return [
        "## The Responses API",
        "",
        "`responses.create(input=...)` against one healthy fake OpenAI provider in another "
        "process that serves `/v1/responses` itself (failover's `openai` target takes it "
        "natively; LiteLLM's Router calls its `responses()` / `aresponses()`), plain and "
        "streamed (10 text deltas, read to the end): "
        f"{setup['rounds']} rounds of {setup['calls_per_batch']} calls per contender and "
        "case, in a shuffled order each round. Cells: median over rounds (min to max) of "
        "the client's CPU per call, of its wall time per call (a whole stream), of the "
        "median time to the first `response.output_text.delta`, and of their ratios to the "
        "raw SDK's in the same round (LiteLLM: its driver process).",
        "",
        *table(head, rows),
    ]


def responses_targets(data: dict[str, Any]) -> list[list[object]]:
    ratios = [data["cases"][case][ONE]["cpu_ratio"]["median"] for case in CASE_TITLES]
    return [
        [
            "Responses API client CPU <= 1.05x raw SDK (plain / 10-event stream sync / async, "
            "median of rounds)",
            " / ".join(x(r) for r in ratios),
            verdict(max(ratios) <= 1.05),
        ]
    ]
