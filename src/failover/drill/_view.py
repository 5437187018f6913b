"""The drill's live view and final table (rich)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from .._client import AsyncFailover
from ._stats import Stats, percentile

_STATE_STYLE = {"closed": "green", "open": "red", "half-open": "yellow"}


def live_view(
    stats: Stats, clients: Sequence[AsyncFailover], elapsed: float, total: float
) -> Group:
    """Per target: breaker, req/s, share served, errors, dead calls; overall numbers."""
    served = sum(t.served for t in stats.targets.values()) or 1
    table = Table(title=f"failover drill: {stats.phase}", title_justify="left")
    for column in ("target", "breaker", "req/s", "served", "share", "errors", "dead calls"):
        table.add_column(column, justify="left" if column in ("target", "errors") else "right")
    shown: set[str] = set()
    for client in clients:  # the drill's, then the storm's (whose backup is the drill's)
        for target in client.targets:
            if target.label in shown:
                continue
            shown.add(target.label)
            t = stats.targets[target.label]
            state = client.breaker_state(target)
            errors = ", ".join(f"{k} {v}" for k, v in t.errors.most_common(3)) or "-"
            table.add_row(
                target.label,
                Text(state, style=_STATE_STYLE.get(state, "")),
                f"{stats.rate(target.label):.1f}",
                str(t.served),
                f"{100 * t.served / served:.0f}%",
                errors,
                str(t.dead_calls),
            )
    ok = len(stats.latencies_ms)
    success = 100 * ok / stats.requests if stats.requests else 100.0
    line = Text(
        f"{elapsed:5.1f}/{total:.0f} s   requests {stats.requests}   success {success:.2f}%   "
        f"failed {stats.failed}   p50 {percentile(stats.latencies_ms, 50):.0f} ms   "
        f"p99 {percentile(stats.latencies_ms, 99):.0f} ms",
        style="bold green" if stats.failed == 0 else "bold red",
    )
    return Group(table, line)


def summary_table(summary: dict[str, Any]) -> Group:
    """The end-of-drill table: per phase and per target."""
    phases = Table(title="phases", title_justify="left")
    for column in ("phase", "succeeded", "failed", "p50 ms", "p99 ms"):
        phases.add_column(column, justify="left" if column == "phase" else "right")
    for p in summary["phases"]:
        phases.add_row(
            p["name"], str(p["succeeded"]), str(p["failed"]), str(p["p50_ms"]), str(p["p99_ms"])
        )
    targets = Table(title="targets", title_justify="left")
    for column in ("target", "calls", "served", "skipped", "dead calls", "errors"):
        targets.add_column(column, justify="left" if column in ("target", "errors") else "right")
    for label, t in summary["targets"].items():
        errors = ", ".join(f"{k} {v}" for k, v in t["errors"].items()) or "-"
        targets.add_row(
            label,
            str(t["calls"]),
            str(t["served"]),
            str(t["skipped"]),
            str(t["dead_calls"]),
            errors,
        )
    tables = [phases, targets]
    if "storm" in summary:
        storm = Table(title="rate-limit storm: one model, three quotas", title_justify="left")
        for column in ("deployment", "served", "share", "share of quota", "429s received"):
            storm.add_column(column, justify="left" if column == "deployment" else "right")
        for label, d in summary["storm"].items():
            storm.add_row(
                label,
                str(d["served"]),
                f"{100 * d['share']:.0f}%",
                f"{100 * d['capacity_share']:.0f}%",
                str(d["received_429"]),
            )
        tables.append(storm)
    verdict = Text(
        f"{summary['requests']} requests, {summary['succeeded']} succeeded, "
        f"{summary['failed']} failed ({summary['success_pct']}%), "
        f"p50 {summary['p50_ms']} ms, p99 {summary['p99_ms']} ms",
        style="bold green" if summary["failed"] == 0 else "bold red",
    )
    return Group(*tables, verdict)
