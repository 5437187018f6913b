"""Partial outages, counted at the fakes: a failure-rate breaker that opens where a count
of consecutive failures never would, and a retry budget that keeps retries from
multiplying the load on a failing provider."""

from __future__ import annotations

import dataclasses
import math

import pytest

from failover import ConfigError, Failover, Outcome, Policy, RedisHealth
from failover.testing import FakeProvider, Fault, Phase, Reply, Schedule

from .conftest import FAST, MESSAGES, target

P = "primary/model-x"


_FFSFS = (Fault.status(503), Fault.status(503), Reply("ok"), Fault.status(503), Reply("ok"))


def _half_failing(fake: FakeProvider, seed: int = 3) -> None:
    fake.set_schedule(Schedule([Phase(math.inf, Fault.status(503), 0.5)], seed=seed))


def test_a_retry_budget_keeps_a_half_failing_primary_under_1_3_calls_per_request(
    primary: FakeProvider, secondary: FakeProvider
) -> None:
    _half_failing(primary)
    # The failure-rate rule off, to see the budget alone (both are on by default).
    policy = dataclasses.replace(FAST, breaker_failure_ratio=0, breaker_fail_max=1000)
    chain = [target(primary, "primary"), target(secondary, "backup")]
    spent = 0
    with Failover(chain, policy=policy) as client:
        for _ in range(200):
            report = client.chat.completions.with_report.create(messages=MESSAGES)
            spent += any("retry budget spent" in a.detail for a in report.attempts)
    assert len(primary.requests) / 200 <= 1.3
    assert spent > 0  # the budget did the limiting, not luck
    without = dataclasses.replace(policy, retry_budget=None)
    primary.reset()
    _half_failing(primary)
    with Failover(chain, policy=without) as client:
        for _ in range(200):
            client.chat.completions.create(messages=MESSAGES)
    assert len(primary.requests) / 200 > 1.5  # what retries cost without a budget


def test_the_failure_rate_breaker_opens_where_consecutive_counting_never_would(
    primary: FakeProvider, secondary: FakeProvider
) -> None:
    # Failing 60% of its calls, never 5 in a row (never even 3): F F S F S, over and over.
    for _ in range(8):
        primary.enqueue(*_FFSFS)
    policy = dataclasses.replace(FAST, max_retries=0, breaker_fail_max=5, breaker_reset=60)
    chain = [target(primary, "primary"), target(secondary, "backup")]
    with Failover(chain, policy=policy) as client:
        for _ in range(40):
            client.chat.completions.create(messages=MESSAGES)
        assert client.breaker_state(P) == "open"
    # The window's minimum of 20 calls ends on a success; the next failure opens it.
    assert len(primary.requests) == 21
    off = dataclasses.replace(policy, breaker_failure_ratio=0)
    primary.reset()
    for _ in range(8):
        primary.enqueue(*_FFSFS)
    with Failover(chain, policy=off) as client:
        for _ in range(40):
            client.chat.completions.create(messages=MESSAGES)
        assert client.breaker_state(P) == "closed"
    assert len(primary.requests) == 40


def test_a_budget_spent_says_so_in_the_attempt_log(
    primary: FakeProvider, secondary: FakeProvider
) -> None:
    primary.set_mode(Fault.status(503))
    policy = dataclasses.replace(FAST, breaker_fail_max=1000, breaker_failure_ratio=0)
    chain = [target(primary, "primary"), target(secondary, "backup")]
    with Failover(chain, policy=policy) as client:
        reports = [client.chat.completions.with_report.create(messages=MESSAGES) for _ in range(8)]
    # A retry may go while retries + 1 <= 0.2 x first attempts + 10 (the floor: 1/s over
    # 10 s): the first five calls retry twice, the sixth once, then 0.2 per call remains.
    last = reports[-1].attempts
    assert [a.outcome for a in last] == [Outcome.FAILED, Outcome.SKIPPED, Outcome.OK]
    assert last[1].target == P and last[1].detail.startswith("retry budget spent")
    assert len(primary.requests) == 8 + 11


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FAILOVER_BREAKER_FAILURE_RATIO", "1.5"),
        ("FAILOVER_BREAKER_MIN_CALLS", "0"),
        ("FAILOVER_BREAKER_WINDOW", "0"),
        ("FAILOVER_RETRY_BUDGET", "lots"),
    ],
)
def test_bad_settings_name_their_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        Failover.from_env({"FAILOVER_CHAIN": "ollama/llama3.2", variable: value})
    assert info.value.variable == variable


def test_the_budget_can_be_turned_off_from_the_environment() -> None:
    env = {"FAILOVER_CHAIN": "ollama/llama3.2", "FAILOVER_RETRY_BUDGET": "off"}
    with Failover.from_env(env) as client:
        assert client.policy.retry_budget is None
    assert Policy().retry_budget == 0.2 and Policy().breaker_failure_ratio == 0.5


def test_the_failure_rate_window_counts_the_whole_fleet(
    redis_url: str, redis_prefix: str, primary: FakeProvider, secondary: FakeProvider
) -> None:
    for _ in range(30):
        primary.enqueue(Fault.status(503), Fault.status(503), Reply("ok"))
    policy = dataclasses.replace(FAST, max_retries=0, breaker_fail_max=3, breaker_reset=60)
    chain = [target(primary, "primary"), target(secondary, "backup")]
    stores = [RedisHealth(redis_url, prefix=redis_prefix) for _ in range(2)]
    with (
        Failover(chain, policy=policy, health=stores[0]) as a,
        Failover(chain, policy=policy, health=stores[1]) as b,
    ):
        for _ in range(30):  # two processes taking turns: neither sees 20 calls alone
            a.chat.completions.create(messages=MESSAGES)
            b.chat.completions.create(messages=MESSAGES)
        assert a.breaker_state(P) == "open" and b.breaker_state(P) == "open"
    for store in stores:
        store.close()
    # The fleet's window reached its 20 calls; alone, each process would need 20 of its
    # own (40 in all). A success or two may still be on its way to Redis at the trip.
    assert 20 <= len(primary.requests) <= 23
