"""Routing over real SDKs and real HTTP: Retry-After, breakers and deadlines."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

import pytest

import failover
from failover import AsyncFailover, DeadlineExceeded, ErrorKind, Failover, Outcome
from failover.testing import FakeProvider, Fault

from ._routing import P, S, outcomes, route
from .conftest import FAST, MESSAGES, target

# -- Retry-After -------------------------------------------------------------------


def _http_date(seconds_ahead: float) -> str:
    return format_datetime(datetime.now(UTC) + timedelta(seconds=seconds_ahead), usegmt=True)


@pytest.mark.parametrize(
    ("fault", "floor"),
    [
        pytest.param(Fault.rate_limit(retry_after=0.4), 0.4, id="seconds"),
        pytest.param(Fault.rate_limit(retry_after_ms=400), 0.4, id="ms"),
        # An HTTP date is absolute: checked against the clock, not as a floor on the wait.
        pytest.param(Fault.rate_limit(retry_after=_http_date(2)), None, id="http-date"),
    ],
)
def test_retry_after_is_a_floor_on_the_wait(
    mode: str, primary: FakeProvider, fault: Fault, floor: float | None
) -> None:
    if floor is None:  # the date form was computed at collection: rebuild it now
        fault = Fault.rate_limit(retry_after=_http_date(2))
        # The date has one-second resolution, and a loaded machine may take a while to
        # reach the router; whatever the delay, the retry must not come before the date.
        assert isinstance(fault.retry_after, str)
        not_before = parsedate_to_datetime(fault.retry_after).timestamp()
    primary.enqueue(fault)
    report = route(mode, [target(primary)])
    assert outcomes(report) == [(P, "failed", "rate_limit"), (P, "ok", None)]
    first, second = primary.requests
    if floor is None:
        wall = time.time() - time.monotonic()  # arrived_at is monotonic
        assert second.arrived_at + wall >= not_before - 0.01
        assert report.attempts[1].slept > 0
    else:
        assert report.attempts[1].slept >= floor
        assert second.arrived_at - first.arrived_at >= floor


def test_retry_after_beyond_the_deadline_fails_over_at_once(
    mode: str, primary: FakeProvider, secondary: FakeProvider
) -> None:
    primary.enqueue(Fault.rate_limit(retry_after=30))
    report = route(mode, [target(primary), target(secondary)], dataclasses.replace(FAST, timeout=5))
    assert outcomes(report) == [(P, "failed", "rate_limit"), (S, "ok", None)]
    assert report.attempts[1].slept == 0
    # The backup was asked right after the 429 (waiting would take the 5 s deadline).
    ((limited,), (answered,)) = (primary.requests, secondary.requests)
    assert answered.arrived_at - limited.arrived_at < 2.5


def test_rate_limited_target_cools_down_without_tripping_the_breaker(
    primary: FakeProvider, secondary: FakeProvider
) -> None:
    primary.enqueue(Fault.rate_limit(retry_after=30))
    with Failover([target(primary), target(secondary)], policy=FAST) as client:
        client.chat.completions.create(messages=MESSAGES)
        report = client.chat.completions.with_report.create(messages=MESSAGES)
        assert client.breaker_state(P) == "closed"
    assert report.attempts[0].outcome is Outcome.SKIPPED
    assert "cooling_down" in report.attempts[0].detail
    assert len(primary.requests) == 1


# -- breakers ------------------------------------------------------------------------


def test_breaker_opens_skips_probes_and_recovers(
    primary: FakeProvider, secondary: FakeProvider
) -> None:
    # A reset long enough that a slow machine's fourth call still finds it open.
    policy = dataclasses.replace(FAST, max_retries=0, breaker_fail_max=3, breaker_reset=1.5)
    primary.set_mode(Fault.status(503))
    with Failover([target(primary), target(secondary)], policy=policy) as client:
        for _ in range(3):
            client.chat.completions.create(messages=MESSAGES)
        assert client.breaker_state(P) == "open"
        skipped = client.chat.completions.with_report.create(messages=MESSAGES)
        assert len(primary.requests) == 3  # no network call while open
        assert skipped.attempts[0].outcome is Outcome.SKIPPED
        assert re.search(r"breaker_open, retry in [01]\.\d s", skipped.attempts[0].detail)
        primary.set_mode(None)
        time.sleep(1.55)
        probe = client.chat.completions.with_report.create(messages=MESSAGES)
        assert outcomes(probe) == [(P, "ok", None)]
        assert client.breaker_state(P) == "closed"


def test_4xx_do_not_trip_the_breaker(primary: FakeProvider, secondary: FakeProvider) -> None:
    policy = dataclasses.replace(FAST, breaker_fail_max=2, breaker_reset=0.05)
    primary.set_mode(Fault.status(404))
    with Failover([target(primary), target(secondary)], policy=policy) as client:
        for _ in range(3):
            client.chat.completions.create(messages=MESSAGES)
            time.sleep(0.06)  # let the 404 cool-down (breaker_reset) pass
        assert client.breaker_state(P) == "closed"
    assert len(primary.requests) == 3


async def test_half_open_lets_a_single_probe_through(
    primary: FakeProvider, secondary: FakeProvider
) -> None:
    policy = dataclasses.replace(FAST, max_retries=0, breaker_fail_max=1, breaker_reset=0.2)
    primary.set_mode(Fault.status(503))
    async with AsyncFailover([target(primary), target(secondary)], policy=policy) as client:
        await client.chat.completions.create(messages=MESSAGES)
        assert client.breaker_state(P) == "open"
        await asyncio.sleep(0.25)
        # The probe is slow enough that all ten calls are admitted while it is out.
        primary.set_mode(Fault.slow_first_byte(1.0))
        before = len(primary.requests)
        reports = await asyncio.gather(
            *(client.chat.completions.with_report.create(messages=MESSAGES) for _ in range(10))
        )
        assert len(primary.requests) - before == 1
        assert sum(r.target == P for r in reports) == 1
        assert client.breaker_state(P) == "closed"


# -- deadlines ---------------------------------------------------------------------


def test_attempt_timeout_then_overall_deadline(
    mode: str, primary: FakeProvider, secondary: FakeProvider
) -> None:
    primary.set_mode(Fault.hang())
    secondary.set_mode(Fault.hang())
    policy = dataclasses.replace(FAST, timeout=2.0, attempt_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded) as info:
        route(mode, [target(primary), target(secondary)], policy)
    elapsed = time.monotonic() - started
    assert 1.8 <= elapsed < 4.0
    kinds = {a.error for a in info.value.attempts if a.outcome is Outcome.FAILED}
    assert kinds == {ErrorKind.TIMEOUT}
    # Cut at 0.5 s each: an attempt the limit did not cut would run to the 2 s deadline.
    assert len(info.value.attempts) >= 3
    assert all(a.duration < 1.4 for a in info.value.attempts)


def test_per_call_timeout_overrides_the_policy(mode: str, primary: FakeProvider) -> None:
    primary.set_mode(Fault.hang())
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        route(mode, [target(primary)], timeout=0.6)
    assert time.monotonic() - started < 2.5


async def test_cancelling_the_caller_cancels_the_attempt_and_counts_nothing(
    primary: FakeProvider,
) -> None:
    primary.set_mode(Fault.hang())
    policy = dataclasses.replace(FAST, breaker_fail_max=1)
    seen: list[failover.Attempt] = []
    async with AsyncFailover([target(primary)], policy=policy, on_attempt=seen.append) as client:
        task = asyncio.create_task(client.chat.completions.create(messages=MESSAGES))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert client.breaker_state(P) == "closed"
    assert [a.outcome for a in seen] == [Outcome.CANCELLED]
