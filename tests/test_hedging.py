"""Hedged requests, counted at the fakes: a slow primary's call is raced on the backup
after the hedge delay, the first answer wins and the loser's connection is closed."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest

from failover import AsyncFailover, ConfigError, Failover, Outcome
from failover.testing import FakeProvider, Fault

from .conftest import FAST, MESSAGES, eventually, target

HEDGED = dataclasses.replace(FAST, max_retries=0, attempt_timeout=5.0, hedge_after=0.2)
# A hedged answer takes the 0.2 s delay and a bit; unhedged, the slow primary (3 s,
# within its 5 s attempt) answers itself. 2 s leaves room for a stalled thread.
HEDGED_WITHIN = 2.0


async def test_a_slow_primary_is_hedged_and_the_loser_cancelled(
    primary: FakeProvider, secondary: FakeProvider
) -> None:
    primary.set_mode(Fault.slow_first_byte(3.0))
    chain = [target(primary, "primary"), target(secondary, "backup")]
    async with AsyncFailover(chain, policy=HEDGED) as client:
        started = time.monotonic()
        report = await client.chat.completions.with_report.create(messages=MESSAGES)
        took = time.monotonic() - started
        assert report.target == "backup/model-x" and took < HEDGED_WITHIN
        outcomes = {a.target: a.outcome for a in report.attempts}
        assert outcomes == {"primary/model-x": Outcome.CANCELLED, "backup/model-x": Outcome.OK}
        # The fake sees the loser disconnect.
        await asyncio.to_thread(eventually, lambda: primary.active_connections == 0)
        assert client.breaker_state("primary/model-x") == "closed"  # not counted


async def test_a_slow_stream_is_hedged_until_its_first_token(
    primary: FakeProvider, secondary: FakeProvider
) -> None:
    primary.set_mode(Fault.slow_first_byte(3.0))
    chain = [target(primary, "primary"), target(secondary, "backup")]
    async with AsyncFailover(chain, policy=HEDGED) as client:
        started = time.monotonic()
        stream = await client.chat.completions.create(messages=MESSAGES, stream=True)
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        assert time.monotonic() - started < HEDGED_WITHIN and text == "secondary answer"
        outcomes = {a.target: a.outcome for a in stream.attempts}
        assert outcomes == {"primary/model-x": Outcome.CANCELLED, "backup/model-x": Outcome.OK}
        await asyncio.to_thread(eventually, lambda: primary.active_connections == 0)
        assert client.health()[0].state == "closed" and client.health()[1].state == "closed"


async def test_a_fast_answer_is_not_hedged(primary: FakeProvider, secondary: FakeProvider) -> None:
    chain = [target(primary, "primary"), target(secondary, "backup")]
    # A fast answer takes milliseconds; 2 s keeps a busy CI machine's stall from a hedge.
    patient = dataclasses.replace(HEDGED, hedge_after=2.0)
    async with AsyncFailover(chain, policy=patient) as client:
        for _ in range(5):
            report = await client.chat.completions.with_report.create(messages=MESSAGES)
            assert report.target == "primary/model-x" and len(report.attempts) == 1
    assert len(secondary.requests) == 0


async def test_with_hedging_off_nothing_changes(
    primary: FakeProvider, secondary: FakeProvider
) -> None:
    primary.set_mode(Fault.slow_first_byte(1.0))
    chain = [target(primary, "primary"), target(secondary, "backup")]
    async with AsyncFailover(chain, policy=dataclasses.replace(HEDGED, hedge_after=None)) as c:
        started = time.monotonic()
        report = await c.chat.completions.with_report.create(messages=MESSAGES)
        assert report.target == "primary/model-x" and time.monotonic() - started >= 1.0
    assert len(secondary.requests) == 0


async def test_when_both_fail_the_call_moves_on_past_the_twin(
    primary: FakeProvider, secondary: FakeProvider
) -> None:
    primary.set_mode(Fault.hang(2.0))  # times out after the hedge went to the backup
    secondary.set_mode(Fault.status(500))
    with FakeProvider("openai", reply="third answer") as third:
        chain = [target(primary, "primary"), target(secondary, "backup"), target(third, "third")]
        policy = dataclasses.replace(HEDGED, attempt_timeout=0.6)
        async with AsyncFailover(chain, policy=policy) as client:
            report = await client.chat.completions.with_report.create(messages=MESSAGES)
    assert report.target == "third/model-x"
    tried = [(a.target, a.outcome) for a in report.attempts]
    assert ("backup/model-x", Outcome.FAILED) in tried and tried[-1][1] is Outcome.OK
    assert len(secondary.requests) == 1  # the twin is not tried again after the race


def test_sync_calls_and_streams_are_hedged_from_worker_threads(
    primary: FakeProvider, secondary: FakeProvider
) -> None:
    primary.set_mode(Fault.slow_first_byte(3.0))
    chain = [target(primary, "primary"), target(secondary, "backup")]
    with Failover(chain, policy=HEDGED) as client:
        started = time.monotonic()
        report = client.chat.completions.with_report.create(messages=MESSAGES)
        assert report.target == "backup/model-x" and time.monotonic() - started < HEDGED_WITHIN
        started = time.monotonic()
        stream = client.chat.completions.create(messages=MESSAGES, stream=True)
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        assert text == "secondary answer" and time.monotonic() - started < HEDGED_WITHIN
        # Each loser's socket was shut down: the fake sees both disconnect, and neither
        # counts against the primary.
        eventually(lambda: primary.active_connections == 0)
        eventually(lambda: len(stream.attempts) == 2)
        assert {a.outcome for a in stream.attempts} == {Outcome.CANCELLED, Outcome.OK}
        assert client.breaker_state("primary/model-x") == "closed"
    assert len(primary.requests) == 2 and len(secondary.requests) == 2


def test_bad_hedge_settings_name_their_variable() -> None:
    for variable, value in (("FAILOVER_HEDGE_AFTER", "0"), ("FAILOVER_HEDGE_MAX", "x")):
        with pytest.raises(ConfigError) as info:
            Failover.from_env({"FAILOVER_CHAIN": "ollama/llama3.2", variable: value})
        assert info.value.variable == variable
    env = {"FAILOVER_CHAIN": "ollama/llama3.2", "FAILOVER_HEDGE_AFTER": "0.25"}
    with Failover.from_env(env) as client:
        assert client.policy.hedge_after == 0.25 and client.policy.hedge_max == 1
