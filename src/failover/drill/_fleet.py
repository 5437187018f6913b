"""The fleet drill: N worker processes, one chain, a primary that dies for a while.

``failover drill --processes N [--redis URL]`` runs it twice, with health shared through
Redis and with each process on its own, and prints the calls the dead primary received
from the whole fleet in each case. Each worker is ``python -m failover.drill._fleet``:
it reads its spec as JSON on stdin, calls in a loop from ``t0`` for ``seconds``, and
prints what happened as JSON on stdout.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from .._client import Failover, health_from_env
from .._config.policy import Policy, Target
from .._core.errors import FailoverError
from ..testing import Fault

__all__ = ["FleetRun", "dead_primary_run", "fleet_policy", "run_fleet", "run_fleet_drill"]

_MESSAGES = [{"role": "user", "content": "Status?"}]


def fleet_policy() -> Policy:
    """The issue's figures: 3 failures open a breaker for 1 s; no retries in place."""
    return Policy(
        max_retries=0,
        timeout=10.0,
        attempt_timeout=2.0,
        connect_timeout=0.5,
        breaker_fail_max=3,
        breaker_reset=1.0,
    )


@dataclass
class FleetRun:
    """What one worker saw: answered and failed calls, and its slowest call."""

    answered: int = 0
    failed: int = 0
    slowest_s: float = 0.0
    errors: list[str] = field(default_factory=list)


def run_fleet(
    processes: int,
    chain: list[dict[str, str]],
    *,
    redis_url: str | None,
    prefix: str,
    seconds: float,
    policy: Policy | None = None,
    on_start: Callable[[float], None] | None = None,
    command: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    redis_env: Mapping[str, str] | None = None,
) -> list[FleetRun]:
    """Start ``processes`` workers; once all are ready, they call together for
    ``seconds`` from ``t0`` (``time.time()``), which ``on_start`` receives first.
    ``chain`` items are ``{"name", "api", "base_url"}``. ``command`` runs another worker
    that speaks the same protocol (the benchmarks' LiteLLM worker). ``redis_env``
    (``FAILOVER_REDIS_*`` settings) names a Cluster or Sentinel instead of ``redis_url``,
    or a command timeout."""
    spec = {
        "chain": chain,
        "policy": asdict(policy or fleet_policy()),
        "redis_url": redis_url,
        "redis_env": dict(redis_env or {}),
        "prefix": prefix,
        "seconds": seconds,
    }
    workers = [
        subprocess.Popen(
            list(command or [sys.executable, "-m", "failover.drill._fleet"]),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=dict(env) if env is not None else None,
        )
        for _ in range(processes)
    ]
    try:
        for worker in workers:
            assert worker.stdin is not None and worker.stdout is not None
            worker.stdin.write(json.dumps(spec, default=sorted) + "\n")  # sets as lists
            worker.stdin.flush()
        for worker in workers:  # each builds its client (imports, Redis) before the start
            assert worker.stdout is not None
            if worker.stdout.readline().strip() != "ready":
                raise RuntimeError(f"fleet worker {worker.pid} did not start")
        t0 = time.time() + 0.2
        if on_start is not None:
            on_start(t0)
        for worker in workers:  # all of them first: communicate() waits for the end
            assert worker.stdin is not None
            worker.stdin.write(json.dumps({"t0": t0}) + "\n")
            worker.stdin.flush()
        runs = []
        for worker in workers:
            out, _ = worker.communicate(timeout=seconds + 60)
            runs.append(FleetRun(**json.loads(out.strip().splitlines()[-1])))
        return runs
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait(5)


def _work(spec: dict[str, Any]) -> FleetRun:
    chain = [
        Target(t["name"], "m", api=t["api"], base_url=t["base_url"], api_key="drill-not-a-key")
        for t in spec["chain"]
    ]
    # The URL, then the FAILOVER_REDIS_* settings over it (a Cluster, Sentinel, a timeout);
    # neither: each process alone.
    redis_env = {"FAILOVER_REDIS_URL": spec["redis_url"] or "", **spec["redis_env"]}
    health = health_from_env({**redis_env, "FAILOVER_REDIS_PREFIX": spec["prefix"]})
    run = FleetRun()
    with Failover(chain, policy=Policy(**spec["policy"]), health=health) as client:
        print("ready", flush=True)
        t0 = float(json.loads(sys.stdin.readline())["t0"])
        time.sleep(max(0.0, t0 - time.time()))
        end = t0 + spec["seconds"]
        while time.time() < end:
            started = time.monotonic()
            try:
                client.chat.completions.create(messages=_MESSAGES)
                run.answered += 1
            except FailoverError as exc:
                run.failed += 1
                run.errors = [*run.errors, str(exc).splitlines()[0]][-5:]
            run.slowest_s = max(run.slowest_s, time.monotonic() - started)
    health.close()
    return run


def main() -> int:
    print(json.dumps(asdict(_work(json.loads(sys.stdin.readline())))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())


def dead_primary_run(
    processes: int,
    *,
    redis_url: str | None,
    seconds: float,
    dead_for: float,
    policy: Policy,
    backup_api: Literal["openai", "anthropic"] = "anthropic",
    command: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    redis_env: Mapping[str, str] | None = None,
    on_start: Callable[[float], None] | None = None,
) -> dict[str, Any]:
    """One fleet run, primary then backup, against a primary that answers 503 for the
    first ``dead_for`` seconds; counts what the primary received while dead (from the
    fake's own log). ``command``/``env``: another worker; ``redis_env``: a Cluster or
    Sentinel (see :func:`run_fleet`); ``on_start`` also gets the start time."""
    from ..testing import FakeProvider

    with (
        FakeProvider("openai", name="primary") as primary,
        FakeProvider(backup_api, name="backup") as backup,
    ):
        chain = [
            {"name": "primary", "api": "openai", "base_url": primary.base_url},
            {"name": "backup", "api": backup_api, "base_url": backup.base_url},
        ]
        primary.set_mode(Fault.status(503))
        timers: list[threading.Timer] = []

        def revive(t0: float) -> None:
            timers.append(threading.Timer(t0 + dead_for - time.time(), primary.set_mode, (None,)))
            timers[-1].start()
            if on_start is not None:
                on_start(t0)

        runs = run_fleet(
            processes,
            chain,
            redis_url=redis_url,
            prefix=f"failover-drill-{uuid.uuid4().hex[:8]}",
            seconds=seconds,
            policy=policy,
            on_start=revive,
            command=command,
            env=env,
            redis_env=redis_env,
        )
        for timer in timers:
            timer.join()
        return {
            "dead_primary_calls": sum(1 for r in primary.requests if r.fault is not None),
            "answered": sum(r.answered for r in runs),
            "failed": sum(r.failed for r in runs),
            "slowest_s": round(max(r.slowest_s for r in runs), 3),
        }


def run_fleet_drill(
    processes: int, seconds: float, redis_url: str | None, json_path: str | None
) -> int:
    """``failover drill --processes N``: the fleet with shared health (if ``redis_url``)
    and with each process alone, against the same outage; exit 1 if a call failed."""

    policy = fleet_policy()
    dead_for = round(seconds * 0.6, 1)
    print(
        f"fleet drill: {processes} processes, primary dead for {dead_for:g} s of {seconds:g} s, "
        f"breakers open after {policy.breaker_fail_max} failures for {policy.breaker_reset:g} s"
    )
    modes: list[tuple[str, str | None]] = [("shared through Redis", redis_url)] if redis_url else []
    modes.append(("each process alone", None))
    rows = [
        {
            "health": label,
            **dead_primary_run(
                processes, redis_url=url, seconds=seconds, dead_for=dead_for, policy=policy
            ),
        }
        for label, url in modes
    ]
    head = f"{'health':<22} {'calls to the dead primary':>26} {'answered':>9} {'failed':>7}"
    print(head + f" {'slowest':>8}")
    for row in rows:
        print(
            f"{row['health']:<22} {row['dead_primary_calls']:>26} {row['answered']:>9} "
            f"{row['failed']:>7} {row['slowest_s']:>7.2f}s"
        )
    if not redis_url:
        print("(no --redis URL and no FAILOVER_REDIS_URL: the shared run was skipped)")
    if json_path:
        with open(json_path, "w") as out:
            json.dump({"processes": processes, "seconds": seconds, "rows": rows}, out, indent=2)
    return 1 if any(row["failed"] for row in rows) else 0
