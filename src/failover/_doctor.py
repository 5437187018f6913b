"""``failover doctor``: one tiny request per configured target, and a plain table."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from typing import TextIO

from ._attempts import Attempt
from ._client import Failover
from ._config import Policy, resolve_target
from ._decisions import ErrorKind
from ._exceptions import ConfigError, FailoverError

_VERDICTS = {
    ErrorKind.AUTH: "auth problem",
    ErrorKind.QUOTA: "reachable, out of quota",
    ErrorKind.NOT_FOUND: "reachable, model not found",
    ErrorKind.BAD_REQUEST: "reachable, probe rejected",
    ErrorKind.CONNECTION: "unreachable",
    ErrorKind.TIMEOUT: "unreachable (timeout)",
    ErrorKind.RATE_LIMIT: "reachable, rate limited",
}


def _verdict(attempts: tuple[Attempt, ...]) -> str:
    last = attempts[-1] if attempts else None
    if last is None or last.error is None:
        return "failed"
    return _VERDICTS.get(last.error, f"error: {last.error.value}")


def check(item: str, env: Mapping[str, str], timeout: float) -> tuple[str, str, str, str]:
    """(target, verdict, latency, detail) for one ``provider/model`` chain item."""
    try:
        target = resolve_target(item, env, var="FAILOVER_CHAIN")
    except ConfigError as exc:
        return item, "not configured", "-", str(exc)
    policy = Policy(max_retries=0, timeout=timeout, attempt_timeout=timeout)
    started = time.monotonic()
    with Failover([target], policy=policy) as client:
        try:
            report = client.chat.completions.with_report.create(
                messages=[{"role": "user", "content": "Reply with OK."}], max_tokens=1
            )
        except FailoverError as exc:
            latency = f"{(time.monotonic() - started) * 1000:.0f} ms"
            detail = exc.attempts[-1].detail if exc.attempts else str(exc).splitlines()[0]
            return target.label, _verdict(exc.attempts), latency, detail[:80]
    latency = f"{report.attempts[-1].duration * 1000:.0f} ms"
    return target.label, "ok", latency, f"answered as {report.response.model}"


def run_doctor(
    env: Mapping[str, str] | None = None, *, timeout: float = 20.0, out: TextIO = sys.stdout
) -> int:
    """Check every ``FAILOVER_CHAIN`` target; exit status 0 only if all answered.

    Keys are never printed: details come from the attempt log, which is redacted.
    """
    env = os.environ if env is None else env
    items = [i.strip() for i in env.get("FAILOVER_CHAIN", "").split(",") if i.strip()]
    if not items:
        print(
            "FAILOVER_CHAIN is not set: nothing to check "
            "(e.g. FAILOVER_CHAIN=openai/gpt-4o-mini,anthropic/claude-haiku-4-5)",
            file=out,
        )
        return 2
    rows = [("target", "status", "latency", "detail")]
    rows += [check(item, env, timeout) for item in items]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print(
            "  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True)),
            row[3],
            file=out,
        )
    return 0 if all(row[1] == "ok" for row in rows[1:]) else 1
