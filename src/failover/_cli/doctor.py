"""``failover doctor``: check the configuration as the client reads it, then send one
tiny request to each target, and say in the exit status what was found.

Exit status (also in the README and ``failover doctor --help``):

== =====================================================================
0  the configuration is valid and every target answered (``--offline``: valid)
1  valid, but some targets did not answer: the chain works with less headroom
2  the command line itself was wrong (argparse's own status)
3  the configuration is invalid: the client would refuse to start
4  valid, but no target other than a static last resort answered
== =====================================================================
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any, TextIO

from .._config.policy import Policy, Target
from .._core.attempts import Attempt
from .._core.decisions import ErrorKind
from .._core.errors import FailoverError
from .._core.redact import redact
from .._health.redis_where import RedisWhere
from .._routing.param_policy import SAMPLING, supports
from .._version import __version__
from .doctor_config import ConfigCheck, Entry, Finding, check_config
from .text import table

__all__ = ["EXIT_DEGRADED", "EXIT_INVALID", "EXIT_NONE_USABLE", "EXIT_OK", "run_doctor"]

EXIT_OK, EXIT_DEGRADED, EXIT_INVALID, EXIT_NONE_USABLE = 0, 1, 3, 4

_VERDICTS = {
    ErrorKind.AUTH: "auth problem",
    ErrorKind.QUOTA: "reachable, out of quota",
    ErrorKind.NOT_FOUND: "reachable, model not found",
    ErrorKind.BAD_REQUEST: "reachable, probe rejected",
    ErrorKind.CONNECTION: "unreachable",
    ErrorKind.TIMEOUT: "unreachable (timeout)",
    ErrorKind.RATE_LIMIT: "reachable, rate limited",
}


@dataclass(frozen=True, slots=True)
class Probe:
    status: str
    usable: bool
    latency_ms: float | None = None
    detail: str = ""


def _verdict(attempts: tuple[Attempt, ...]) -> str:
    last = attempts[-1] if attempts else None
    if last is None or last.error is None:
        return "failed"
    return _VERDICTS.get(last.error, f"error: {last.error.value}")


def probe(target: Target, timeout: float) -> Probe:
    """One request of one token to ``target``, with no retries: can it answer at all?"""
    from .._client import Failover  # the vendor SDKs load only when something is probed
    from .._health.store import LocalHealth

    if target.degraded:
        return Probe("static answer", False, detail="answers a fixed text; nothing to probe")
    policy = Policy(max_retries=0, timeout=timeout, attempt_timeout=timeout)
    started = time.monotonic()
    # In-process health: a probe's failure must not count against the fleet's breakers.
    with Failover([target], policy=policy, health=LocalHealth()) as client:
        try:
            report = client.chat.completions.with_report.create(
                messages=[{"role": "user", "content": "Reply with OK."}], max_tokens=1
            )
        except FailoverError as exc:
            latency = (time.monotonic() - started) * 1000
            detail = exc.attempts[-1].detail if exc.attempts else str(exc).splitlines()[0]
            return Probe(_verdict(exc.attempts), False, latency, detail)
    latency = report.attempts[-1].duration * 1000
    return Probe("ok", True, latency, f"answered as {report.response.model}")


def _probes(check: ConfigCheck, timeout: float, offline: bool) -> list[Probe]:
    def one(entry: Entry) -> Probe:
        if entry.target is None:
            return Probe("not configured", False, detail="see the problems above")
        if offline:
            return Probe("not probed", not entry.target.degraded, detail="--offline")
        return probe(entry.target, timeout)

    if not check.entries:
        return []
    # Together, not one after another: a chain of dead targets costs one timeout, not N.
    with ThreadPoolExecutor(max_workers=len(check.entries)) as pool:
        return list(pool.map(one, check.entries))


def _ping_redis(redis_at: RedisWhere, check: ConfigCheck) -> None:
    """Shared health that cannot reach Redis still works, each process on its own: a
    warning, not an error."""
    where = redis_at.describe()
    try:
        client = redis_at.client({"socket_connect_timeout": 2.0, "socket_timeout": 2.0})
        try:
            client.ping()
        finally:
            client.close()
    except ImportError:
        check.findings.append(
            Finding("error", "FAILOVER_REDIS_URL", 'needs redis-py: pip install "failover[redis]"')
        )
    except Exception as exc:
        check.warn(
            "FAILOVER_REDIS_URL",
            f"Redis at {where} does not answer ({type(exc).__name__}); until it does, each "
            "process keeps its own provider health",
        )


def _exit_status(check: ConfigCheck, probes: list[Probe], offline: bool) -> tuple[int, str]:
    if not check.valid:
        return EXIT_INVALID, "configuration invalid: the client would refuse to start"
    real = [p for p, e in zip(probes, check.entries, strict=True) if not _static(e)]
    usable = sum(p.usable for p in real)
    if usable == 0:
        return EXIT_NONE_USABLE, "no target answered"
    if usable < len(real):
        return EXIT_DEGRADED, f"degraded: {usable} of {len(real)} targets answered"
    if offline:
        return EXIT_OK, "configuration valid (targets not probed: --offline)"
    return EXIT_OK, "ok: every target answered"


def _static(entry: Entry) -> bool:
    return entry.target is not None and entry.target.degraded


def run_doctor(
    env: Mapping[str, str] | None = None,
    *,
    timeout: float = 20.0,
    offline: bool = False,
    as_json: bool = False,
    out: TextIO = sys.stdout,
) -> int:
    """Check ``env`` (default ``os.environ``), print the findings, return the exit status.

    Keys are never printed: they are shown masked, and every line is scrubbed of them.
    """
    env = os.environ if env is None else env
    check = check_config(env)
    if check.redis is not None and not offline:
        _ping_redis(check.redis, check)
    probes = _probes(check, timeout, offline)
    status, summary = _exit_status(check, probes, offline)
    text = (_as_json if as_json else _as_text)(check, probes, status, summary)
    print(redact(text, *check.keys), file=out)
    return status


def _target_row(check: ConfigCheck, entry: Entry, p: Probe) -> dict[str, Any]:
    t = entry.target
    return {
        "item": entry.item,
        "target": t.label if t else entry.item,
        "place": check.places[check.entries.index(entry)],
        "weight": t.weight if t else None,
        "api": t.api if t else None,
        "base_url": t.base_url if t else None,
        "region": t.region if t else None,
        "project": t.project if t else None,
        "tags": sorted(t.tags) if t else [],
        "responses": _responses(t) if t else None,
        "supports": supports(t, check.policy.drop_params if check.policy else SAMPLING)
        if t
        else {},
        "excluded_by_require": check.excluded(t) or None,
        "key_variable": entry.key_variable,
        "key": entry.key_masked,
        "status": p.status,
        "usable": p.usable,
        "latency_ms": None if p.latency_ms is None else round(p.latency_ms, 1),
        "detail": p.detail,
    }


def _responses(target: Target) -> str:
    """How ``client.responses`` reaches ``target`` (``FAILOVER_PROVIDER_<NAME>_RESPONSES``)."""
    return "native" if target.native_responses else "converted to chat"


def _as_json(check: ConfigCheck, probes: list[Probe], status: int, summary: str) -> str:
    doc = {
        "version": __version__,
        "exit_status": status,
        "summary": summary,
        "valid": check.valid,
        "problems": [asdict(f) for f in check.findings],
        "require": sorted(check.require),
        "targets": [_target_row(check, e, p) for e, p in zip(check.entries, probes, strict=True)],
        "policy": asdict(check.policy) if check.policy else None,
    }
    return json.dumps(doc, indent=2, default=sorted)  # sets (drop_params) as lists


def _as_text(check: ConfigCheck, probes: list[Probe], status: int, summary: str) -> str:
    lines = []
    if check.findings:
        lines.append("problems:")
        lines += table([(f.level, f.variable, f.message) for f in check.findings])
        lines.append("")
    if check.entries:
        lines.append("targets, in FAILOVER_CHAIN order:")
        rows = [("target", "tags", "key", "status", "latency", "detail")]
        for entry, p in zip(check.entries, probes, strict=True):
            t = entry.target
            key = f"{entry.key_masked} ({entry.key_variable})" if entry.key_variable else "-"
            latency = "-" if p.latency_ms is None else f"{p.latency_ms:.0f} ms"
            tags = ",".join(sorted(t.tags)) if t and t.tags else "-"
            label = t.label if t else entry.item
            rows.append((label, tags, key, p.status, latency, p.detail))
        lines += table(rows)
        for group in check.groups():
            said = ", ".join(
                f"{e.target.label} (weight {e.target.weight:g})" if e.target else e.item
                for e in group
            )
            lines.append(f"one place, calls spread by weight and load: {said}")
        drop = check.policy.drop_params if check.policy else SAMPLING
        for entry in check.entries:
            features = supports(entry.target, drop) if entry.target else {}
            if features and "everything" not in features:
                said = "; ".join(f"{name} {value}" for name, value in features.items())
                lines.append(f"{entry.target.label if entry.target else entry.item}: {said}")
        said = "; ".join(
            f"{e.target.label} {_responses(e.target)}" for e in check.entries if e.target
        )
        lines.append(f"client.responses: {said}")
        if check.require:
            required = ",".join(sorted(check.require))
            left = [
                f"{e.target.label} ({check.excluded(e.target)})"
                for e in check.entries
                if check.excluded(e.target) and e.target is not None
            ]
            lines.append(
                f"FAILOVER_REQUIRE={required}: calls never go to "
                + (", ".join(left) if left else "no target: every one carries it")
            )
        lines.append("")
    lines.append(f"{summary} (exit status {status})")
    return "\n".join(lines)
