"""The summary's telemetry section (``benchmarks/telemetry.py``)."""

from __future__ import annotations

from typing import Any

from benchmarks._tables import contender_order, spread, table


def telemetry_section(data: dict[str, Any]) -> list[str]:
    setup = data["setup"]
    cost = [
        [name, spread(data["p50_ms"][name]), spread(data["cpu_us_per_call"][name], digits=0)]
        for name in sorted(data["p50_ms"], key=contender_order)
    ]
    ratios = [
        ["failover without an SDK / raw SDK", spread(data["cpu_off_vs_raw"], "x")],
        ["failover with the SDK / without", spread(data["cpu_on_vs_off"], "x")],
        [
            "CPU µs a call pays for its spans and metrics",
            spread(data["extra_cpu_us_with_sdk"], digits=0),
        ],
    ]
    return [
        "## OpenTelemetry",
        "",
        f"A healthy call, sequential, sync: {setup['rounds']} rounds of "
        f"{setup['calls_per_round']} calls per contender, shuffled; median over rounds "
        "(min to max). With the SDK, every span and metric point is built and kept by an "
        "in-memory exporter and reader.",
        "",
        *table(["contender", "p50 ms", "CPU µs/call"], cost),
        *table(["CPU per round", "median (min to max)"], ratios),
        "",
    ]
