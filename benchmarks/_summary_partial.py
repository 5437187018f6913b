"""The summary's partial-outage section (``benchmarks/partial.py``)."""

from __future__ import annotations

from typing import Any

from benchmarks._tables import table


def partial_section(data: dict[str, Any]) -> list[str]:
    names = [name for name in data if name not in ("setup", "meta")]
    flap = [
        [
            name,
            f"{data[name]['flap50']['primary_per_request']:.2f}",
            f"{data[name]['flap50']['p99_ms']:.0f}",
            f"{data[name]['flap50']['success_pct']:g}%",
        ]
        for name in names
    ]
    slow = [
        [
            name,
            f"{data[name]['slowtail']['p99_ms']:.0f}",
            f"{data[name]['slowtail']['extra_requests_pct']:g}%",
            f"{data[name]['slowtail']['success_pct']:g}%",
        ]
        for name in names
    ]
    rate = data["setup"]["rate_per_s"]
    return [
        "## Partial outages",
        "",
        f"One run per contender, {rate:g} calls/s open loop, attempt timeout 1 s. "
        "*Partial outage*: the primary answers 503 to half its requests. *Slow tail*: 3% "
        "of the primary's requests wait 3 s for their first byte.",
        "",
        *table(["partial outage", "primary calls per request", "p99 ms", "answered"], flap),
        *table(["slow tail", "p99 ms", "extra requests", "answered"], slow),
    ]
