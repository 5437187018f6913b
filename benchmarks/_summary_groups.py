"""The summary's section on several deployments of one model (``benchmarks/groups.py``)."""

from __future__ import annotations

from typing import Any

from benchmarks._tables import table


def groups_section(data: dict[str, Any]) -> list[str]:
    setup = data["setup"]
    names = [name for name in data if name not in ("setup", "meta")]
    deployments = list(data[names[0]]["capacity_share"])
    rows = []
    for name in names:
        r = data[name]
        shares = [
            f"{100 * r['share'][d]:.0f}% ({100 * r['capacity_share'][d]:.0f}%)" for d in deployments
        ]
        rows.append(
            [name, str(r["received_429"]), f"{r['answered_pct']:g}%", f"{r['p99_ms']:.0f}", *shares]
        )
    quotas = "/".join(str(q) for q in setup["quotas_per_window"])
    return [
        "## Several deployments of one model",
        "",
        f"Three fake deployments with quotas of {quotas} requests per {setup['window_s']:g} s "
        f"window (429 past it), {setup['rate_per_min']} requests per minute open loop for "
        f"{setup['duration_s']:g} s per contender. *429s*: served by the fakes. *share*: "
        "each deployment's share of the answered requests (its share of the capacity).",
        "",
        *table(
            ["contender", "429s", "answered", "p99 ms", *(f"{d} share" for d in deployments)],
            rows,
        ),
    ]
