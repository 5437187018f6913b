"""The summary's section on several deployments of one model (``benchmarks/groups.py``)."""

from __future__ import annotations

from typing import Any

from benchmarks._tables import table, verdict


def groups_targets(data: dict[str, Any]) -> list[list[object]]:
    """The issue's goals: 10x fewer 429s than LiteLLM's best strategy, and each
    deployment's share within 10% of its capacity's when failover is told the weights.
    A peer's best under 10 429s cannot show a tenfold gap: that is said, not judged."""
    rows: list[list[object]] = []
    for shape in ("paced", "bursty"):
        runs = data[shape]
        mine = max(r["received_429"] for n, r in runs.items() if n.startswith("failover"))
        best = min(r["received_429"] for n, r in runs.items() if not n.startswith("failover"))
        if best < 10 and mine == 0:
            judged = "**not shown** (LiteLLM's best under 10)"
        else:
            judged = verdict(mine * 10 <= best)
        rows.append(
            [
                f">= 10x fewer 429s than LiteLLM's best strategy ({shape})",
                f"{mine} vs {best}",
                judged,
            ]
        )
    told = data["paced"]["failover, weights 2:1:1 (told)"]
    off = max(abs(told["share"][d] / c - 1) for d, c in told["capacity_share"].items())
    rows.append(
        [
            "each deployment's share within 10% of its capacity's (failover told, paced)",
            f"{100 * off:.0f}% off at most",
            verdict(off <= 0.10),
        ]
    )
    return rows


def _shape_table(runs: dict[str, Any]) -> list[str]:
    deployments = list(next(iter(runs.values()))["capacity_share"])
    rows = []
    for name, r in runs.items():
        shares = [
            f"{100 * r['share'][d]:.0f}% ({100 * r['capacity_share'][d]:.0f}%)" for d in deployments
        ]
        rows.append(
            [name, str(r["received_429"]), f"{r['answered_pct']:g}%", f"{r['p99_ms']:.0f}", *shares]
        )
    return table(
        ["contender", "429s", "answered", "p99 ms", *(f"{d} share" for d in deployments)], rows
    )


def groups_section(data: dict[str, Any]) -> list[str]:
    setup = data["setup"]
    quotas = "/".join(str(q) for q in setup["quotas_per_window"])
    lines = [
        "## Several deployments of one model",
        "",
        f"Three fake deployments with quotas of {quotas} requests per {setup['window_s']:g} s "
        f"window (429 past it), {setup['rate_per_min']} requests per minute open loop for "
        f"{setup['duration_s']:g} s per contender and shape. *429s*: served by the fakes. "
        "*share*: each deployment's share of the answered requests (its share of the capacity).",
        "",
    ]
    seed = setup["bursty_seed"]
    for shape, title in (
        ("paced", "Paced: one call every 60 ms."),
        ("bursty", f"Bursty: Poisson arrivals of the same mean rate (seed {seed})."),
    ):
        lines += [title, "", *_shape_table(data[shape])]
    return lines
