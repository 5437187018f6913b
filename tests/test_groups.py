"""Groups of deployments: calls spread by weight and load, a sibling before the next group."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import time

import pytest

from failover import (
    AsyncFailover,
    ConfigError,
    Failover,
    Group,
    Target,
)
from failover._cli.doctor import run_doctor
from failover._cli.health import run_health
from failover._config.env import chain_from_env, config_from_env
from failover.testing import FakeProvider, Fault

from ._groups import ONE_TRY, fakes
from .conftest import MESSAGES, target

__all__ = ["fakes"]  # the fixture, from _groups


def test_calls_follow_the_weights(fakes: tuple[FakeProvider, ...]) -> None:
    a, b, c = fakes
    group = Group(target(a, "a"), target(b, "b"), target(c, "c"), weights=[2, 1, 1])
    with Failover([group], policy=ONE_TRY) as client:
        for _ in range(1000):
            client.chat.completions.create(messages=MESSAGES)
    for fake, share in ((a, 0.5), (b, 0.25), (c, 0.25)):
        assert abs(len(fake.requests) - 1000 * share) <= 0.1 * 1000 * share, fake.name


def test_a_target_whose_breaker_is_open_gets_nothing(fakes: tuple[FakeProvider, ...]) -> None:
    a, b, c = fakes
    a.set_mode(Fault.status(503))
    trips = dataclasses.replace(ONE_TRY, breaker_fail_max=1, breaker_reset=60.0)
    with Failover([Group(target(a, "a"), target(b, "b"), target(c, "c"))], policy=trips) as client:
        for _ in range(50):  # until a is drawn first once, and its failure opens it
            client.chat.completions.create(messages=MESSAGES)
            if a.requests:
                break
        assert client.health()[0].state == "open"
        for _ in range(100):
            report = client.chat.completions.with_report.create(messages=MESSAGES)
            assert report.target in ("b/model-x", "c/model-x")
        assert len(a.requests) == 1
    assert len(b.requests) > 30 and len(c.requests) > 30


def test_a_failure_moves_to_a_sibling_before_the_next_group(
    fakes: tuple[FakeProvider, ...],
) -> None:
    a, b, c = fakes
    a.set_mode(Fault.status(503))
    chain = [Group(target(a, "a"), target(b, "b")), target(c, "c")]
    with Failover(chain, policy=ONE_TRY) as client:
        reports = [client.chat.completions.with_report.create(messages=MESSAGES) for _ in range(20)]
    assert {r.target for r in reports} == {"b/model-x"}
    tried = {tuple((x.target, x.outcome.value) for x in r.attempts) for r in reports}
    assert tried == {(("b/model-x", "ok"),), (("a/model-x", "failed"), ("b/model-x", "ok"))}
    assert not c.requests


@pytest.mark.parametrize(
    "fault",
    [Fault.rate_limit(retry_after=4), Fault.status(429, retry_after=4, should_retry=True)],
    ids=["429", "429 with x-should-retry"],
)
def test_a_rate_limited_target_hands_the_call_to_a_sibling_at_once(
    fakes: tuple[FakeProvider, ...], fault: Fault
) -> None:
    a, b, _ = fakes
    a.set_mode(fault)
    # Retries are allowed and the deadline would fit the waits; a sibling answers now.
    retries = dataclasses.replace(ONE_TRY, max_retries=2, timeout=120.0)
    chain = [Group(target(a, "a"), target(b, "b"), weights=[1000, 1])]
    with Failover(chain, policy=retries) as client:
        started = time.monotonic()
        report = client.chat.completions.with_report.create(messages=MESSAGES)
        took = time.monotonic() - started
        assert client.health()[0].state == "cooling-down"
    assert report.target == "b/model-x" and took < 3.0
    assert len(a.requests) == 1


def test_a_hedge_goes_to_the_groups_second_choice(fakes: tuple[FakeProvider, ...]) -> None:
    a, b, c = fakes
    a.set_mode(Fault.slow_first_byte(1.0))
    # a is nearly always drawn first; its hedge goes to b, not to the next group's c.
    chain = [Group(target(a, "a"), target(b, "b"), weights=[1000, 1]), target(c, "c")]
    hedged = dataclasses.replace(ONE_TRY, hedge_after=0.1, attempt_timeout=5.0)
    with Failover(chain, policy=hedged) as client:
        report = client.chat.completions.with_report.create(messages=MESSAGES)
    assert report.target == "b/model-x"
    assert len(a.requests) == 1 and len(b.requests) == 1 and not c.requests


PATIENT = dataclasses.replace(ONE_TRY, attempt_timeout=10.0)  # for answers held back 2 s


async def test_calls_go_where_fewer_requests_are_in_flight(
    fakes: tuple[FakeProvider, ...],
) -> None:
    a, b, _ = fakes
    # a's answers take 2 s, longer than the whole loop even on a slow machine.
    a.set_mode(Fault.slow_first_byte(2.0))
    async with AsyncFailover([Group(target(a, "a"), target(b, "b"))], policy=PATIENT) as client:
        calls = []
        for _ in range(30):  # a call every 20 ms: a's slow answers pile up, b's do not
            calls.append(asyncio.create_task(client.chat.completions.create(messages=MESSAGES)))
            await asyncio.sleep(0.02)
        await asyncio.gather(*calls)
    assert len(a.requests) <= 5 and len(a.requests) + len(b.requests) == 30


KEYS = {
    "OPENAI_API_KEY": "sk-test-openai-0000",
    "OPENROUTER_API_KEY": "sk-or-test-0000",
    "ANTHROPIC_API_KEY": "sk-ant-test-0000",
}


def test_a_group_in_failover_chain_with_a_weight_from_the_environment() -> None:
    env = {
        **KEYS,
        "FAILOVER_CHAIN": "openai/gpt-5.4-mini | openrouter/openai/gpt-5.4-mini=gpt-5.4-mini,"
        "anthropic/claude-haiku-5-5",
        "FAILOVER_PROVIDER_OPENROUTER_WEIGHT": "3",
    }
    groups, _ = chain_from_env(env)
    assert [[t.label for t in g] for g in groups] == [
        ["openai/gpt-5.4-mini", "openrouter/openai/gpt-5.4-mini"],
        ["anthropic/claude-haiku-5-5"],
    ]
    assert [t.weight for t in groups[0]] == [1.0, 3.0]
    targets, _ = config_from_env(env)  # the chain's targets, in order
    assert [t.label for t in targets] == [t.label for g in groups for t in g]


@pytest.mark.parametrize(
    ("extra", "variable"),
    [
        ({"FAILOVER_CHAIN": "openai/a||openai/b"}, "FAILOVER_CHAIN"),
        ({"FAILOVER_CHAIN": "openai/a|"}, "FAILOVER_CHAIN"),
        (
            {"FAILOVER_CHAIN": "openai/a|static/busy", "FAILOVER_STATIC_MESSAGE": "busy"},
            "FAILOVER_CHAIN",
        ),
        ({"FAILOVER_PROVIDER_OPENAI_WEIGHT": "0"}, "FAILOVER_PROVIDER_OPENAI_WEIGHT"),
        ({"FAILOVER_PROVIDER_OPENAI_WEIGHT": "-1"}, "FAILOVER_PROVIDER_OPENAI_WEIGHT"),
        ({"FAILOVER_PROVIDER_OPENAI_WEIGHT": "half"}, "FAILOVER_PROVIDER_OPENAI_WEIGHT"),
    ],
)
def test_a_bad_group_or_weight_is_named(extra: dict[str, str], variable: str) -> None:
    env = {**KEYS, "FAILOVER_CHAIN": "openai/a|openrouter/a", **extra}
    with pytest.raises(ConfigError) as caught:
        Failover.from_env(env)
    assert caught.value.variable == variable


def test_groups_in_code_are_checked() -> None:
    with pytest.raises(ConfigError, match="2 targets was given 1 weights"):
        Group("openai/a", "openai/b", weights=[1])
    with pytest.raises(ConfigError, match=r"weight must be a number > 0") as caught:
        Target("openai", "a", weight=0)
    assert caught.value.variable == "weight"
    with pytest.raises(ConfigError, match="names openai/a twice"):
        Failover([Group("openai/a", "openai/a")], env=KEYS)
    for wrong in (["openai/a", "openai/b"], Group("openai/a")):
        with pytest.raises(ConfigError, match="a Group holds Targets or 'provider/model'"):
            Group(wrong)  # type: ignore[arg-type]
    with pytest.raises(ConfigError) as caught:
        Failover(["openai/a"], env=KEYS, embedding_chain=[Group("openai/e", "openrouter/e")])
    assert caught.value.variable == "embedding_chain"
    env = {**KEYS, "FAILOVER_CHAIN": "openai/a", "FAILOVER_EMBEDDING_CHAIN": "openai/e|openai/f"}
    with pytest.raises(ConfigError) as caught:
        Failover.from_env(env)
    assert caught.value.variable == "FAILOVER_EMBEDDING_CHAIN"


def test_the_health_view_shows_places_weights_and_requests_in_flight(
    fakes: tuple[FakeProvider, ...],
) -> None:
    a, b, c = fakes
    chain = [Group(target(a, "a"), target(b, "b"), weights=[3, 1]), target(c, "c")]
    with Failover(chain, policy=ONE_TRY) as client:
        client.chat.completions.create(messages=MESSAGES)
        view = [(s.target, s.place, s.weight, s.in_flight) for s in client.health()]
    assert view == [
        ("a/model-x", 1, 3.0, 0),
        ("b/model-x", 1, 1.0, 0),
        ("c/model-x", 2, 1.0, None),
    ]
    env = {"FAILOVER_CHAIN": "a/m|b/m,c/m", "FAILOVER_PROVIDER_A_WEIGHT": "3"}
    for name, fake in (("A", a), ("B", b), ("C", c)):
        env[f"FAILOVER_PROVIDER_{name}_API"] = "openai"
        env[f"FAILOVER_PROVIDER_{name}_BASE_URL"] = fake.base_url
    out = io.StringIO()
    assert run_health(env, out=out) == 0
    lines = out.getvalue().splitlines()
    header = "target state retry in failures last error place weight headroom"
    assert lines[3].split() == header.split()
    # This process has made no calls: no headers have said what is left.
    assert [line.split()[-3:] for line in lines[4:]] == [
        ["1", "3", "-"],
        ["1", "1", "-"],
        ["2", "1", "-"],
    ]


async def test_requests_in_flight_are_counted_and_even_out(
    fakes: tuple[FakeProvider, ...],
) -> None:
    a, b, _ = fakes
    for fake in (a, b):  # none answers before the four are sent, even on a slow machine
        fake.set_mode(Fault.slow_first_byte(2.0))
    async with AsyncFailover([Group(target(a, "a"), target(b, "b"))], policy=PATIENT) as client:
        calls = []
        for _ in range(4):
            calls.append(asyncio.create_task(client.chat.completions.create(messages=MESSAGES)))
            await asyncio.sleep(0.02)
        assert [s.in_flight for s in client.health()] == [2, 2]
        await asyncio.gather(*calls)
        assert [s.in_flight for s in client.health()] == [0, 0]


def test_doctor_shows_the_groups_and_their_weights() -> None:
    env = {
        **KEYS,
        "FAILOVER_CHAIN": "openai/gpt-5.4-mini|openrouter/openai/gpt-5.4-mini=gpt-5.4-mini,"
        "anthropic/claude-haiku-5-5",
        "FAILOVER_PROVIDER_OPENAI_WEIGHT": "2",
    }
    out = io.StringIO()
    assert run_doctor(env, offline=True, out=out) == 0
    assert (
        "one place, calls spread by weight and load: openai/gpt-5.4-mini (weight 2), "
        "openrouter/openai/gpt-5.4-mini (weight 1)"
    ) in out.getvalue()
    out = io.StringIO()
    run_doctor(env, offline=True, as_json=True, out=out)
    rows = json.loads(out.getvalue())["targets"]
    assert [(r["place"], r["weight"]) for r in rows] == [(1, 2.0), (1, 1.0), (2, 1.0)]


def test_a_stream_is_in_flight_until_it_is_read_or_closed(
    fakes: tuple[FakeProvider, ...],
) -> None:
    a, b, _ = fakes
    with Failover([Group(target(a, "a"), target(b, "b"))], policy=ONE_TRY) as client:
        stream = client.chat.completions.create(messages=MESSAGES, stream=True)
        chunks = iter(stream)
        next(chunks)  # opened, and its first content read
        assert sorted(s.in_flight or 0 for s in client.health()) == [0, 1]
        for _ in chunks:
            pass
        assert [s.in_flight for s in client.health()] == [0, 0]
        stream = client.chat.completions.create(messages=MESSAGES, stream=True)
        next(iter(stream))
        stream.close()  # given up half-way
        assert [s.in_flight for s in client.health()] == [0, 0]


async def test_an_async_stream_is_in_flight_until_it_is_read(
    fakes: tuple[FakeProvider, ...],
) -> None:
    a, b, _ = fakes
    async with AsyncFailover([Group(target(a, "a"), target(b, "b"))], policy=ONE_TRY) as client:
        stream = await client.chat.completions.create(messages=MESSAGES, stream=True)
        chunks = aiter(stream)
        await anext(chunks)
        assert sorted(s.in_flight or 0 for s in client.health()) == [0, 1]
        async for _ in chunks:
            pass
        assert [s.in_flight for s in client.health()] == [0, 0]
