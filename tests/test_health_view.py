"""What an operator sees of targets' health: one log line per transition, the health
view in code (``client.health()``) and on the command line (``failover health``)."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import re
import time

import pytest

from failover import Attempt, Failover, Group, Outcome, RedisHealth, Target
from failover._cli.health import run_health
from failover._health.transitions import Answering
from failover._routing.call import Call
from failover._routing.privacy import Guard
from failover._routing.router import Router
from failover.testing import FakeProvider, Fault

from .conftest import FAST, MESSAGES, SECRET, eventually, target

P = "primary/model-x"
TRIPS = dataclasses.replace(FAST, max_retries=0, breaker_fail_max=2, breaker_reset=0.3)


def _lines(caplog: pytest.LogCaptureFixture, text: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if text in r.getMessage()]


def test_each_transition_is_logged_once_and_shown_in_the_health_view(
    primary: FakeProvider, secondary: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="failover")
    primary.set_mode(Fault.status(503))
    chain = [target(primary, "primary"), target(secondary, "backup")]
    # Open for 2 s: a slow machine's skipped calls still find it open, with no extra probe.
    trips = dataclasses.replace(TRIPS, breaker_reset=2.0)
    with Failover(chain, policy=trips) as client:
        assert [s.state for s in client.health()] == ["closed", "closed"]
        for _ in range(6):  # two failures trip it; the other calls skip it
            client.chat.completions.create(messages=MESSAGES)
        status = client.health()[0]
        assert (status.target, status.state, status.shared) == (P, "open", False)
        assert status.retry_at is not None and 0 < status.retry_at - time.time() <= 2.0
        assert status.last_error is not None and status.last_error.value == "server_error"
        assert status.last_error_at is not None and status.last_error_at <= time.time()
        opened = _lines(caplog, f"{P} breaker opened")
        assert len(opened) == 1 and opened[0].levelno == logging.WARNING
        assert len(_lines(caplog, "falling back: calls are answered by backup/model-x")) == 1
        primary.set_mode(None)
        time.sleep(status.retry_at - time.time() + 0.05)
        assert client.health()[0].state == "half-open"
        client.chat.completions.create(messages=MESSAGES)  # the probe succeeds
        assert client.health()[0].state == "closed"
    assert len(_lines(caplog, f"{P} breaker half-open")) == 1
    closed = _lines(caplog, f"{P} breaker closed")
    assert len(closed) == 1 and closed[0].levelno == logging.INFO


def test_a_rate_limit_logs_one_cool_down_and_shows_it(
    primary: FakeProvider, secondary: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="failover")
    primary.set_mode(Fault.rate_limit(retry_after=30))
    chain = [target(primary, "primary"), target(secondary, "backup")]
    started = time.time()
    with Failover(chain, policy=TRIPS) as client:
        for _ in range(3):
            client.chat.completions.create(messages=MESSAGES)
        status = client.health()[0]
    assert status.state == "cooling-down" and status.last_error is not None
    # 30 s from the 429, which came after ``started``; a slow machine's delay cannot pass it.
    assert status.retry_at is not None and started + 30 - 0.01 <= status.retry_at
    assert status.retry_at <= time.time() + 30
    assert len(_lines(caplog, f"{P} cooling down")) == 1
    assert len(primary.requests) == 1


def test_fleet_transitions_are_logged_by_each_process_once_and_marked_shared(
    redis_url: str,
    redis_prefix: str,
    primary: FakeProvider,
    secondary: FakeProvider,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="failover")
    primary.set_mode(Fault.status(503))
    chain = [target(primary, "primary"), target(secondary, "backup")]
    stores = [RedisHealth(redis_url, prefix=redis_prefix) for _ in range(2)]
    slow = dataclasses.replace(TRIPS, breaker_reset=10.0)  # still open when the CLI reads it
    with (
        Failover(chain, policy=slow, health=stores[0]) as a,
        Failover(chain, policy=slow, health=stores[1]) as b,
    ):
        for _ in range(2):
            a.chat.completions.create(messages=MESSAGES)
        eventually(lambda: b.health()[0].state == "open")
        assert b.health()[0].shared and b.health()[0].last_error is None  # b saw no call
        # The command's own client is one more process of the fleet, for the same target
        # (provider, base URL, model and key).
        env = {
            "FAILOVER_CHAIN": P,
            "FAILOVER_PROVIDER_PRIMARY_API": "openai",
            "FAILOVER_PROVIDER_PRIMARY_BASE_URL": primary.base_url,
            "FAILOVER_PROVIDER_PRIMARY_API_KEY": SECRET,
            "FAILOVER_REDIS_URL": redis_url,
            "FAILOVER_REDIS_PREFIX": redis_prefix,
        }
        sent = len(primary.requests)
        out = io.StringIO()
        assert run_health(env, out=out) == 0
        text = out.getvalue()
        assert "the fleet's health, read from Redis at redis://127.0.0.1:6379/0" in text
        assert re.search(rf"{P} +open +\d", text) and SECRET not in text
        out = io.StringIO()
        assert run_health(env, as_json=True, out=out) == 0
        (row,) = json.loads(out.getvalue())["targets"]
        assert (row["target"], row["state"], row["shared"]) == (P, "open", True)
        assert 0 < row["retry_in_s"] <= 10
        assert len(primary.requests) == sent  # nothing was sent to the provider
    for store in stores:
        store.close()
    opened = _lines(caplog, f"{P} breaker opened")
    assert len(opened) == 2 and all("(fleet-wide)" in r.getMessage() for r in opened)


def test_the_command_says_when_health_is_per_process(primary: FakeProvider) -> None:
    env = {
        "FAILOVER_CHAIN": "p/m",
        "FAILOVER_PROVIDER_P_API": "openai",
        "FAILOVER_PROVIDER_P_BASE_URL": primary.base_url,
    }
    out = io.StringIO()
    assert run_health(env, watch=True, interval=0.01, rounds=2, out=out) == 0
    assert out.getvalue().count("health lives in each process") == 2
    assert len(re.findall(r"p/m +closed", out.getvalue())) == 2
    assert run_health({"FAILOVER_CHAIN": "nope"}, out=io.StringIO()) == 3
    assert len(primary.requests) == 0


class _Call:
    """A call's answer to :meth:`Answering.answered`'s one question."""

    def __init__(self, fell_back: bool) -> None:
        self._fell_back = fell_back

    def fell_back(self, answered: Target) -> bool:
        return self._fell_back


CLEAN, FELL_BACK = _Call(False), _Call(True)


def test_a_flapping_answerer_is_logged_at_most_once_per_quiet_time_and_ends_true(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="failover")
    first, second = Target("openai", "a"), Target("anthropic", "b", api="anthropic")
    answering = Answering([first, second], quiet=0.3)
    answering.answered(first, CLEAN)  # no change: nothing said
    answering.answered(second, FELL_BACK)  # said at once
    for _ in range(3):  # flapping: counted, not said
        answering.answered(first, CLEAN)
        answering.answered(second, FELL_BACK)
    answering.answered(first, CLEAN)
    assert [r.getMessage() for r in caplog.records] == [
        "failover: falling back: calls are answered by anthropic/b, not openai/a"
    ]
    eventually(lambda: len(caplog.records) == 2)
    last = caplog.records[-1]
    assert last.levelno == logging.INFO
    assert (
        last.getMessage()
        == "failover: calls are answered by openai/a again (7 changes in the last 0.3 s)"
    )


def test_the_first_eligible_target_answering_is_no_fallback_until_it_fails(
    primary: FakeProvider, secondary: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="failover")
    with FakeProvider("openai", reply="cloud answer", name="cloud") as cloud:
        chain = [
            target(cloud, "cloud"),
            dataclasses.replace(target(primary, "onprem"), tags={"onprem"}),
            dataclasses.replace(target(secondary, "backup"), tags={"onprem"}),
        ]
        with Failover(chain, policy=TRIPS, require=["onprem"]) as client:
            for _ in range(3):
                report = client.chat.completions.with_report.create(messages=MESSAGES)
                assert report.target == "onprem/model-x"
            # The cloud target is kept from every call: that is the policy, not an outage.
            assert not _lines(caplog, "falling back") and not cloud.requests
            primary.set_mode(Fault.status(503))
            report = client.chat.completions.with_report.create(messages=MESSAGES)
            assert report.target == "backup/model-x"
            said = _lines(caplog, "falling back: calls are answered by backup/model-x")
            assert len(said) == 1 and said[0].levelno == logging.WARNING
            assert "not onprem/model-x" in said[0].getMessage()


def test_only_a_failure_at_an_earlier_place_makes_an_answer_a_fallback() -> None:
    a, b, c = (Target("openai", name, base_url="http://127.0.0.1:9") for name in "abc")
    plain = Router([a, b], FAST)
    grouped = Router([a, b, c], FAST, groups=((a, b), (c,)))
    try:

        def fell_back(
            router: Router, answered: Target, *attempts: Attempt, unhealthy: str = ""
        ) -> bool:
            call = Call(router, None, request={"messages": MESSAGES}, guard=Guard())
            for attempt in attempts:
                call.log(attempt)
            if unhealthy:
                call.unhealthy.add(unhealthy)
            return call.fell_back(answered)

        failed, ok = Outcome.FAILED, Outcome.OK
        # A retry on the target that answered, after a failure of its own: no fallback.
        assert not fell_back(plain, a, Attempt("openai/a", failed), Attempt("openai/a", ok))
        assert not fell_back(
            plain, b, Attempt("openai/a", Outcome.EXCLUDED), Attempt("openai/b", ok)
        )
        assert not fell_back(
            plain, b, Attempt("openai/a", Outcome.CANCELLED), Attempt("openai/b", ok)
        )
        assert fell_back(plain, b, Attempt("openai/a", failed), Attempt("openai/b", ok))
        assert fell_back(plain, b, Attempt("openai/b", ok), unhealthy="openai/a")
        # A later target's failure or skip (a hedge that lost) is no fallback for the first.
        assert not fell_back(plain, a, Attempt("openai/b", failed), Attempt("openai/a", ok))
        assert not fell_back(plain, a, Attempt("openai/a", ok), unhealthy="openai/b")
        # Within a group a sibling's failure is spreading; the next group is a fallback.
        assert not fell_back(grouped, b, Attempt("openai/a", failed), Attempt("openai/b", ok))
        assert not fell_back(grouped, b, Attempt("openai/b", ok), unhealthy="openai/a")
        assert fell_back(grouped, c, Attempt("openai/b", failed), Attempt("openai/c", ok))
    finally:
        plain.close()
        grouped.close()


def test_a_move_to_a_sibling_deployment_is_not_logged_as_falling_back(
    primary: FakeProvider, secondary: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="failover")
    with FakeProvider("openai", name="sibling") as sibling:
        primary.set_mode(Fault.status(503))
        group = Group(target(primary, "a"), target(sibling, "b"), weights=[1000, 1])
        with Failover([group, target(secondary, "backup")], policy=TRIPS) as client:
            for _ in range(3):
                assert client.chat.completions.with_report.create(messages=MESSAGES).target == (
                    "b/model-x"
                )
            assert not _lines(caplog, "falling back")
            sibling.set_mode(Fault.status(503))
            client.chat.completions.create(messages=MESSAGES)
            assert len(_lines(caplog, "falling back: calls are answered by backup/model-x")) == 1
