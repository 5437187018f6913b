"""Groups of deployments: calls spread by weight and load, a sibling before the next group."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import Literal

import pytest

from failover import (
    AsyncFailover,
    ConfigError,
    Failover,
    Group,
    LocalHealth,
    RedisHealth,
    Target,
)
from failover._cli.doctor import run_doctor
from failover._cli.health import run_health
from failover._config.env import chain_from_env, config_from_env
from failover._health.headroom import Headroom, reset_seconds
from failover._routing.balance import Balancer, estimate
from failover.testing import FakeProvider, Fault

from .conftest import FAST, MESSAGES, eventually, target

# No retry in place, breakers that do not open by accident, and repeatable draws.
ONE_TRY = dataclasses.replace(
    FAST, max_retries=0, breaker_fail_max=1000, breaker_failure_ratio=0.0, balance_seed=7
)


@pytest.fixture
def fakes() -> Iterator[tuple[FakeProvider, FakeProvider, FakeProvider]]:
    with ExitStack() as stack:
        made = [stack.enter_context(FakeProvider("openai", reply=n, name=n)) for n in "abc"]
        yield made[0], made[1], made[2]


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


async def test_calls_go_where_fewer_requests_are_in_flight(
    fakes: tuple[FakeProvider, ...],
) -> None:
    a, b, _ = fakes
    a.set_mode(Fault.slow_first_byte(0.5))
    async with AsyncFailover([Group(target(a, "a"), target(b, "b"))], policy=ONE_TRY) as client:
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
        "FAILOVER_CHAIN": "openai/gpt-5.4-mini | openrouter/openai/gpt-5.4-mini,"
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
    header = "target state retry in failures last error place weight"
    assert lines[3].split() == header.split()
    assert [line.split()[-2:] for line in lines[4:]] == [["1", "3"], ["1", "1"], ["2", "1"]]


async def test_requests_in_flight_are_counted_and_even_out(
    fakes: tuple[FakeProvider, ...],
) -> None:
    a, b, _ = fakes
    for fake in (a, b):
        fake.set_mode(Fault.slow_first_byte(0.5))
    async with AsyncFailover([Group(target(a, "a"), target(b, "b"))], policy=ONE_TRY) as client:
        calls = []
        for _ in range(4):
            calls.append(asyncio.create_task(client.chat.completions.create(messages=MESSAGES)))
            await asyncio.sleep(0.02)
        assert [s.in_flight for s in client.health()] == [2, 2]
        await asyncio.gather(*calls)
        assert [s.in_flight for s in client.health()] == [0, 0]


@pytest.mark.parametrize("api", ["openai", "anthropic"])
async def test_a_deployment_with_no_requests_left_is_passed_over_until_its_reset(
    api: Literal["openai", "anthropic"],
) -> None:
    with FakeProvider(api, name="a") as a, FakeProvider(api, name="b") as b:
        a.set_quota(3, per=2.0)  # its headers say what is left; a 4th request would get 429
        group = Group(target(a, "a"), target(b, "b"), weights=[1000, 1])  # a, whenever it can
        async with AsyncFailover([group], policy=ONE_TRY) as client:
            for _ in range(20):
                await client.chat.completions.create(messages=MESSAGES)
            assert [r.fault for r in a.requests] == [None] * len(a.requests)  # no 429 at all
            assert len(a.requests) >= 3 and len(b.requests) >= 20 - len(a.requests) - 3
            before = len(a.requests)
            await asyncio.sleep(2.1)  # past the reset its headers announced
            await client.chat.completions.create(messages=MESSAGES)
            assert len(a.requests) == before + 1


@pytest.mark.parametrize("api", ["openai", "anthropic"])
def test_a_blocking_client_reads_headroom_too(api: Literal["openai", "anthropic"]) -> None:
    with FakeProvider(api, name="a") as a, FakeProvider(api, name="b") as b:
        a.set_quota(2, per=30.0)
        group = Group(target(a, "a"), target(b, "b"), weights=[1000, 1])
        with Failover([group], policy=ONE_TRY) as client:
            for _ in range(10):
                client.chat.completions.create(messages=MESSAGES)
    assert (len(a.requests), len(b.requests)) == (2, 8)
    assert all(r.fault is None for r in a.requests)


def test_headroom_reads_each_vendors_headers_and_ignores_nonsense() -> None:
    now = time.time()
    assert reset_seconds("6m0s", now) == 360.0
    assert reset_seconds("1h2m3.5s", now) == 3723.5
    assert reset_seconds("12ms", now) == pytest.approx(0.012)
    soon = datetime.fromtimestamp(now + 30, UTC).isoformat()
    assert reset_seconds(soon, now) == pytest.approx(30, abs=0.01)
    for nonsense in ("", "soon", "-5s", "2026-12-03T10:00:00"):  # the last: no time zone
        assert reset_seconds(nonsense, now) is None
    said_nothing_left = {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "20s"}
    for said in (
        {"x-ratelimit-remaining-requests": "5", "x-ratelimit-reset-requests": "20s"},
        {"x-ratelimit-remaining-requests": "-1", "x-ratelimit-reset-requests": "1s"},  # Azure
        {"x-ratelimit-remaining-requests": "0"},  # Azure: no reset said
        {"x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "0s"},
        {"anthropic-ratelimit-tokens-remaining": "0", "anthropic-ratelimit-tokens-reset": "x"},
        {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "10ms"},  # soon
        said_nothing_left,
        {
            "anthropic-ratelimit-output-tokens-remaining": "0",
            "anthropic-ratelimit-output-tokens-reset": soon,
        },
    ):
        health = LocalHealth().for_target(Target("openai", "m"), FAST)
        Headroom(health).seen(said)
        verdict = health.peek()
        if said in (said_nothing_left,) or "anthropic-ratelimit-output-tokens-reset" in said:
            assert not verdict.allowed and verdict.reason == "cooling_down", said
            assert verdict.retry_at > time.time() + 15
        else:
            assert verdict.allowed, said


def test_a_deployment_out_of_headroom_is_passed_over_by_the_whole_fleet(
    redis_url: str, redis_prefix: str, fakes: tuple[FakeProvider, ...]
) -> None:
    a, b, _ = fakes
    a.set_quota(2, per=30.0)
    chain = [Group(target(a, "a"), target(b, "b"), weights=[1000, 1])]
    with ExitStack() as stack:
        # Two stores with connections of their own: as two processes of a fleet would be.
        stores = [RedisHealth(redis_url, prefix=redis_prefix) for _ in range(2)]
        for store in stores:
            stack.callback(store.close)
        one = stack.enter_context(Failover(chain, policy=ONE_TRY, health=stores[0]))
        two = stack.enter_context(Failover(chain, policy=ONE_TRY, health=stores[1]))
        for _ in range(2):  # the second answer's headers say a has nothing left
            assert one.chat.completions.with_report.create(messages=MESSAGES).target == "a/model-x"
        eventually(lambda: two.health()[0].state == "cooling-down")
        for _ in range(10):
            assert two.chat.completions.with_report.create(messages=MESSAGES).target == "b/model-x"
    assert len(a.requests) == 2 and all(r.fault is None for r in a.requests)


def test_doctor_shows_the_groups_and_their_weights() -> None:
    env = {
        **KEYS,
        "FAILOVER_CHAIN": "openai/gpt-5.4-mini|openrouter/openai/gpt-5.4-mini,"
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


def test_a_deployment_with_too_few_tokens_left_gets_only_small_requests(
    fakes: tuple[FakeProvider, ...],
) -> None:
    a, b, _ = fakes
    a.set_quota(100, per=30.0, tokens=200)  # the fake counts prompt words and answer chunks
    long = [{"role": "user", "content": " ".join(["word"] * 120)}]
    group = Group(target(a, "a"), target(b, "b"), weights=[1000, 1])
    with Failover([group], policy=ONE_TRY) as client:
        first = client.chat.completions.with_report.create(messages=long)  # a: ~75 tokens left
        second = client.chat.completions.with_report.create(messages=long)  # too big for a now
        small = client.chat.completions.with_report.create(messages=MESSAGES)  # fits in a
    assert (first.target, second.target, small.target) == ("a/model-x", "b/model-x", "a/model-x")
    assert [r.fault for r in a.requests] == [None, None]  # no 429: a never got the big one


def test_a_requests_estimate_counts_its_messages_and_its_longest_answer() -> None:
    messages = [{"role": "user", "content": "x" * 400}]
    prompt, answer = estimate({"messages": messages})
    assert 100 <= prompt <= 110 and answer == 0
    assert estimate({"messages": messages, "max_tokens": 500}) == (prompt, 500)
    assert estimate({"messages": messages, "max_completion_tokens": 70}) == (prompt, 70)


def test_when_every_target_is_short_of_tokens_the_weights_still_decide() -> None:
    light, heavy = Target("openai", "a", weight=1), Target("openai", "b", weight=1000)
    health = {t.key: LocalHealth().for_target(t, FAST) for t in (light, heavy)}
    room = {t.key: Headroom(health[t.key]) for t in (light, heavy)}
    for r in room.values():  # 10 tokens left for half a minute: short for any real request
        r.seen({"x-ratelimit-remaining-tokens": "10", "x-ratelimit-reset-tokens": "30s"})
    balancer = Balancer(((light, heavy),), health, room, seed=3)
    request = {"messages": [{"role": "user", "content": "x" * 400}]}
    firsts = [balancer.order(request)[0] for _ in range(50)]
    assert firsts.count(heavy) >= 45  # not the declared order: the first is the light one
