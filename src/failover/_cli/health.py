"""``failover health``: every target's state for the configured chain, sending nothing.

With ``FAILOVER_REDIS_URL`` set the states are the fleet's, read from Redis. Without it
health lives in each process, and this command's own process has made no calls, so it
says so rather than print a reassuring table of "closed".
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict
from typing import TextIO

from .._core.errors import ConfigError
from .._health.store import TargetStatus

__all__ = ["run_health"]


def run_health(
    env: Mapping[str, str] | None = None,
    *,
    as_json: bool = False,
    watch: bool = False,
    interval: float = 1.0,
    rounds: int | None = None,
    out: TextIO | None = None,
) -> int:
    """Print the health view; with ``watch``, again every ``interval`` seconds (for
    ``rounds`` rounds, or until interrupted). Exit status 0, or 3 for a bad configuration."""
    env = os.environ if env is None else env
    out = out or sys.stdout
    # The table says what the transitions' log lines would (a state learned at start).
    quiet, level = logging.getLogger("failover"), logging.getLogger("failover").level
    quiet.setLevel(logging.ERROR)
    try:
        return _run(env, as_json, watch, interval, rounds, out)
    finally:
        quiet.setLevel(level)


def _run(
    env: Mapping[str, str],
    as_json: bool,
    watch: bool,
    interval: float,
    rounds: int | None,
    out: TextIO,
) -> int:
    from .._client import Failover

    try:
        client = Failover.from_env(env)
    except ConfigError as exc:
        print(f"configuration invalid ({exc.variable}): {exc}", file=out)
        return 3
    where = _where(env)
    done = 0
    with client:
        try:
            while True:
                statuses = client.health()
                text = _as_json(statuses, where) if as_json else _as_text(statuses, where)
                if watch and not as_json and out.isatty():
                    out.write("\x1b[H\x1b[2J")  # redraw in place, like watch(1)
                print(text, file=out, flush=True)
                done += 1
                if not watch or (rounds is not None and done >= rounds):
                    return 0
                time.sleep(interval)
        except KeyboardInterrupt:
            return 0


def _where(env: Mapping[str, str]) -> str | None:
    from .._health.redis_where import RedisWhere

    where = RedisWhere.from_env(env)
    return None if where is None else where.describe()


def _as_json(statuses: list[TargetStatus], where: str | None) -> str:
    now = time.time()
    rows = []
    for s in statuses:
        row = asdict(s)
        row["retry_in_s"] = round(max(s.retry_at - now, 0.0), 3) if s.retry_at else None
        rows.append(row)
    return json.dumps({"redis": where, "at": now, "targets": rows}, indent=2)


def _as_text(statuses: list[TargetStatus], where: str | None) -> str:
    now = time.time()
    if where is None:
        lines = [
            "health lives in each process (FAILOVER_REDIS_URL is not set): this command's",
            "process has made no calls, so it can only show the chain. In code, call",
            "client.health() in the application's own process.",
        ]
    elif any(not s.shared for s in statuses):
        lines = [f"Redis at {where} is not answering: these are this process's states only."]
    else:
        lines = [f"the fleet's health, read from Redis at {where}:"]
    # A chain with groups (FAILOVER_CHAIN's '|') also shows each target's place, weight,
    # and what its rate-limit headers said is left.
    grouped = any(s.in_flight is not None for s in statuses)
    rows: list[tuple[str, ...]] = [("target", "state", "retry in", "failures", "last error")]
    if grouped:
        rows[0] += ("place", "weight", "headroom")
    for s in statuses:
        retry = f"{s.retry_at - now:.1f} s" if s.retry_at and s.retry_at > now else "-"
        error = s.last_error.value if s.last_error else "-"
        row: tuple[str, ...] = (s.target, s.state, retry, str(s.failures), error)
        room = ", ".join(f"{kind} {left}" for kind, left in (s.headroom or {}).items()) or "-"
        rows.append(row + ((str(s.place), f"{s.weight:g}", room) if grouped else ()))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines += [
        "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    return "\n".join(lines)
