"""A fleet sharing health through Redis: real worker processes, a real Redis, and a Redis
of the test's own that it kills and restarts."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from failover import Failover, Policy, RedisHealth
from failover.drill._fleet import FleetRun, fleet_policy, run_fleet
from failover.testing import FakeProvider, Fault

from .conftest import FAST, MESSAGES, Calls, target
from .own_redis import free_port, own_redis

WORKERS = 4
# No test here is about the Redis command timeout: with its 50 ms default, one late reply
# on a loaded machine sends a process to its local health for a second, where it makes
# its own breaker's worth of calls and says so in the log.
PATIENT = 2.0


# The workers' and tests' stores take it from the environment, as an application's would.
PATIENT_ENV = {"FAILOVER_REDIS_TIMEOUT": str(PATIENT)}


def _chain(primary: FakeProvider, backup: FakeProvider) -> list[dict[str, str]]:
    return [
        {"name": "primary", "api": primary.api, "base_url": primary.base_url},
        {"name": "backup", "api": backup.api, "base_url": backup.base_url},
    ]


def _fleet(
    primary: FakeProvider,
    backup: FakeProvider,
    redis_url: str,
    prefix: str,
    seconds: float,
    event: tuple[float, Callable[[], object]],
    policy: Policy | None = None,
) -> list[FleetRun]:
    """WORKERS processes for ``seconds``; ``event`` = (seconds after their start, action)."""
    timers: list[threading.Timer] = []

    def schedule(t0: float) -> None:
        timers.append(threading.Timer(t0 + event[0] - time.time(), event[1]))
        timers[0].start()

    runs = run_fleet(
        WORKERS,
        _chain(primary, backup),
        redis_url=redis_url,
        prefix=prefix,
        seconds=seconds,
        policy=policy,
        on_start=schedule,
        redis_env=PATIENT_ENV,
    )
    timers[0].join()
    return runs


def _faulted_at(fake: FakeProvider) -> list[float]:
    return sorted(r.arrived_at for r in fake.requests if r.fault is not None)


def test_a_dead_primary_gets_one_breakers_worth_of_calls_from_the_whole_fleet(
    redis_url: str, redis_prefix: str, primary: FakeProvider, secondary: FakeProvider
) -> None:
    # fail_max 3, and a reset (1.5 s) longer than a stalled worker's call may take to
    # arrive (1 s), so that a straggler is never taken for a probe.
    policy = dataclasses.replace(fleet_policy(), breaker_reset=1.5)
    primary.set_mode(Fault.status(503))
    revive = (3.5, lambda: primary.set_mode(None))
    runs = _fleet(primary, secondary, redis_url, redis_prefix, 4.5, revive, policy)
    assert sum(r.failed for r in runs) == 0 and all(r.answered > 50 for r in runs), runs
    dead = _faulted_at(primary)
    # fail_max failures trip it; each other worker may have had one call in flight.
    tripped, stragglers = policy.breaker_fail_max, WORKERS - 1
    probes = [t for t in dead if t > dead[tripped - 1] + 1.0]
    assert len(dead) - len(probes) <= tripped + stragglers, dead
    # Then one probe per reset window for the whole fleet, never two in one window: each
    # is admitted a reset after the last failure's verdict, which came after it arrived.
    gaps = [b - a for a, b in zip([dead[tripped - 1], *probes], probes, strict=False)]
    assert all(gap >= policy.breaker_reset - 0.1 for gap in gaps), gaps
    assert 1 <= len(probes) <= 3
    assert len(dead) <= tripped + stragglers + 3  # the bound: at most 10


def test_a_rate_limit_keeps_the_whole_fleet_away_for_its_retry_after(
    redis_url: str, redis_prefix: str, primary: FakeProvider, secondary: FakeProvider
) -> None:
    limit = (0.5, lambda: primary.enqueue(Fault.rate_limit(retry_after=2)))
    # Long enough for calls after the cool-down even if the 429 is served 1 s late.
    runs = _fleet(primary, secondary, redis_url, redis_prefix, 4.0, limit)
    assert sum(r.failed for r in runs) == 0
    limited = next(r.arrived_at for r in primary.requests if r.fault is not None)
    # Calls already in flight when the 429 was served, or made before the worker heard
    # of it, may still land after it: 1 s for a loaded machine. The cool-down ends 2 s
    # after the 429 was read, so none is due before then; without sharing, three workers
    # calling in a loop would send dozens in between.
    during = [r for r in primary.requests if limited + 1.0 < r.arrived_at < limited + 1.95]
    after = [r for r in primary.requests if r.arrived_at > limited + 2.1]
    assert during == [] and after, (len(during), len(after))


def _wait(check: object, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.02)


def test_redis_killed_mid_run_fails_nothing_and_sharing_resumes(
    redis_url: str, primary: FakeProvider, secondary: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="failover")
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    policy = dataclasses.replace(FAST, max_retries=0, breaker_fail_max=3, breaker_reset=0.5)
    chain = [target(primary, "primary"), target(secondary, "backup")]
    label = chain[0].label
    call = Calls()

    with own_redis(port) as server:
        # 10x the default (see PATIENT); the killed Redis below refuses at once anyway.
        a_store, b_store = (RedisHealth(url, prefix="kill", timeout=0.5) for _ in range(2))
        with (
            Failover(chain, policy=policy, health=a_store) as a,
            Failover(chain, policy=policy, health=b_store) as b,
        ):
            primary.set_mode(Fault.status(503))
            for _ in range(3):
                call(a)
            _wait(lambda: b.breaker_state(label) != "closed")  # shared: b never failed
            server.kill()  # mid-run
            server.wait(5)
            for _ in range(40):
                call(a)
                call(b)
            # A call that waited on the dead Redis (retries, backoff) would take seconds.
            assert call.failures == 0 and call.slowest < 2.0, (call.failures, call.slowest)
            assert not a_store.connected
            # The local breakers took over: each process tripped on its own.
            assert a.breaker_state(label) == "open" and b.breaker_state(label) == "open"
            with own_redis(port):  # Redis is back, on the same address
                _wait(lambda: a_store.connected and b_store.connected)
                # The new Redis knows nothing: the views were reloaded, not kept.
                _wait(lambda: b.breaker_state(label) == "closed")
                for _ in range(6):
                    call(a)
                _wait(lambda: b.breaker_state(label) != "closed")  # shared again
                a_store.close()
                b_store.close()
            assert call.failures == 0
    messages = [r.getMessage() for r in caplog.records]
    # One warning per store for each transition, not one per call.
    assert sum("is unavailable" in m for m in messages) == 2
    assert sum("is back" in m for m in messages) == 2


def test_the_fleet_drill_compares_shared_and_per_process_health(
    redis_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "fleet.json"
    args = ["--processes", "3", "--redis", redis_url, "--seconds", "4", "--json", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "failover", "drill", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    shared, alone = json.loads(out.read_text())["rows"]
    assert shared["health"] == "shared through Redis" and alone["health"] == "each process alone"
    assert shared["failed"] == alone["failed"] == 0
    # 3 processes each trip their own breaker (9 calls) and probe on their own.
    assert shared["dead_primary_calls"] < alone["dead_primary_calls"]
    assert "calls to the dead primary" in done.stdout


@pytest.mark.parametrize(
    ("options", "trouble"),
    [
        (("--requirepass", "right-password"), "wrong password"),
        (("--maxmemory", "1mb", "--maxmemory-policy", "noeviction"), "out of memory"),
    ],
)
def test_a_misconfigured_or_full_redis_fails_nothing(
    redis_url: str,
    options: tuple[str, ...],
    trouble: str,
    primary: FakeProvider,
    secondary: FakeProvider,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="failover")
    port = free_port()
    password = ":wrong-password@" if "wrong" in trouble else ""
    url = f"redis://{password}127.0.0.1:{port}/0"
    policy = dataclasses.replace(FAST, max_retries=0, breaker_fail_max=3, breaker_reset=30.0)
    with own_redis(port, *options):
        if "memory" in trouble:  # fill it: every write is refused from now on
            import redis

            filler = redis.Redis(port=port)
            with contextlib.suppress(redis.ResponseError):
                for i in range(10_000):
                    filler.set(f"filler:{i}", "x" * 1024)
        store = RedisHealth(url, prefix="trouble")
        primary.set_mode(Fault.status(503))
        chain = [target(primary, "primary"), target(secondary, "backup")]
        with Failover(chain, policy=policy, health=store) as client:
            started = time.monotonic()
            for _ in range(10):
                client.chat.completions.create(messages=MESSAGES)  # raises on failure
            assert time.monotonic() - started < 5.0
            assert client.breaker_state(chain[0].label) == "open"  # the local breaker did it
        store.close()
    assert len(primary.requests) == 3
    warnings = [r.getMessage() for r in caplog.records if "is unavailable" in r.getMessage()]
    assert len(warnings) == 1, warnings
    assert "wrong-password" not in warnings[0]
