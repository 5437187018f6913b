"""The deadline is wall clock: a server that trickles bytes cannot hold a call past it.

Each byte of a trickle resets an HTTP read timeout (tests/testing/test_sdk_faults.py shows
the raw SDKs waiting it out), so these tests prove the bound failover adds, sync and
async, for calls and for streams, with an attempt timeout of 1.5 s (4 s where only the
deadline may cut) and a deadline of 5 s.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Iterator
from typing import Any

import pytest

from failover import AsyncFailover, ErrorKind, Failover, FailoverError, Policy
from failover.testing import FakeProvider, Fault

from .conftest import FAST, MESSAGES, target

POLICY = dataclasses.replace(FAST, attempt_timeout=1.5, timeout=5.0, first_token_timeout=20.0)

# (what is asked, how the server drips it)
SLOW = [
    pytest.param(False, Fault.trickle(0.3), id="call-trickled-body"),
    pytest.param(True, Fault.trickle(0.3), id="stream-trickled-line"),
    pytest.param(True, Fault.keepalive(60.0), id="stream-keepalives"),
]


@dataclasses.dataclass
class Outcome:
    text: str | None
    error: FailoverError | None
    attempts: list[Any]
    elapsed: float
    cut_connections_left: int  # connections still open on the dripping server


def _wait_closed(fake: FakeProvider) -> int:
    """Open connections on ``fake`` once the client had a moment to drop them."""
    # A connection kept (pooled) instead of closed stays open for good, and the dripping
    # server keeps it for tens of seconds: 5 s only leaves room for a stalled thread.
    deadline = time.monotonic() + 5.0
    while fake.active_connections and time.monotonic() < deadline:
        time.sleep(0.01)
    return fake.active_connections


def _text(chunks: list[Any]) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def call(mode: str, fakes: list[FakeProvider], stream: bool, policy: Policy = POLICY) -> Outcome:
    """One call; the connections are counted while the client (and its pool) is alive."""
    chain = [target(fake, name=fake.name) for fake in fakes]

    def sync(client: Failover) -> tuple[str | None, list[Any]]:
        if stream:
            with client.chat.completions.create(messages=MESSAGES, stream=True) as s:
                return _text(list(s)), list(s.attempts)
        report = client.chat.completions.with_report.create(messages=MESSAGES)
        return report.response.choices[0].message.content, list(report.attempts)

    async def asynchronous(client: AsyncFailover) -> tuple[str | None, list[Any]]:
        if stream:
            s = await client.chat.completions.create(messages=MESSAGES, stream=True)
            async with s:
                return _text([c async for c in s]), list(s.attempts)
        report = await client.chat.completions.with_report.create(messages=MESSAGES)
        return report.response.choices[0].message.content, list(report.attempts)

    def outcome(elapsed: float, result: tuple[str | None, list[Any]] | FailoverError) -> Outcome:
        left = _wait_closed(fakes[0])
        if isinstance(result, FailoverError):
            return Outcome(None, result, list(result.attempts), elapsed, left)
        return Outcome(result[0], None, result[1], elapsed, left)

    result: tuple[str | None, list[Any]] | FailoverError
    if mode == "sync":
        with Failover(chain, policy=policy) as client:
            started = time.monotonic()
            try:
                result = sync(client)
            except FailoverError as exc:
                result = exc
            return outcome(time.monotonic() - started, result)

    async def go() -> Outcome:
        async with AsyncFailover(chain, policy=policy) as client:
            started = time.monotonic()
            try:
                answer: tuple[str | None, list[Any]] | FailoverError = await asynchronous(client)
            except FailoverError as exc:
                answer = exc
            # Timed here: the hop to a thread below is no part of the call.
            elapsed = time.monotonic() - started
            return await asyncio.to_thread(outcome, elapsed, answer)

    return asyncio.run(go())


@pytest.fixture
def fakes() -> Iterator[list[FakeProvider]]:
    with (
        FakeProvider("openai", reply="primary answer", name="primary") as first,
        FakeProvider("anthropic", reply="backup answer", name="backup") as second,
    ):
        yield [first, second]


@pytest.mark.parametrize(("stream", "fault"), SLOW)
def test_a_dripping_primary_fails_over_within_one_attempt_timeout(
    mode: str, fakes: list[FakeProvider], stream: bool, fault: Fault
) -> None:
    fakes[0].set_mode(fault)
    out = call(mode, fakes, stream)
    assert out.text == "backup answer", out.error
    # Normally 1.5 s and a bit. Uncut, the primary's attempt would run to the 5 s
    # deadline (and the backup's answer would never come): the bounds leave that out
    # and a stalled thread in.
    assert out.elapsed < 4.0
    first = out.attempts[0]
    assert (first.target, first.error) == ("primary/model-x", ErrorKind.TIMEOUT)
    assert 1.3 < first.duration < 3.5
    assert out.cut_connections_left == 0  # closed, not returned to the pool


@pytest.mark.parametrize(("stream", "fault"), SLOW)
def test_both_dripping_raise_before_the_deadline(
    mode: str, fakes: list[FakeProvider], stream: bool, fault: Fault
) -> None:
    for fake in fakes:
        fake.set_mode(fault)
    # A 4 s attempt: the primary's ends at 4 s, and only the deadline can cut the
    # backup's at 5 s. Without the deadline it would end at 8 s (then retries follow),
    # so the bound leaves 2 s for a loaded machine and still catches that.
    out = call(mode, fakes, stream, dataclasses.replace(POLICY, attempt_timeout=4.0))
    assert out.error is not None and out.text is None
    assert out.elapsed < 7.0
    assert {a.error for a in out.attempts} == {ErrorKind.TIMEOUT}
    assert [a.target for a in out.attempts][:2] == ["primary/model-x", "backup/model-x"]
    assert out.cut_connections_left == 0


def test_a_cut_attempt_counts_against_the_breaker(fakes: list[FakeProvider]) -> None:
    fakes[0].set_mode(Fault.trickle(0.3))
    policy = dataclasses.replace(POLICY, attempt_timeout=0.3, breaker_fail_max=2)
    with Failover([target(fakes[0], name="primary")], policy=policy) as client:
        with pytest.raises(FailoverError):
            client.chat.completions.create(messages=MESSAGES)
        assert client.breaker_state("primary/model-x") == "open"
