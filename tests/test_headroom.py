"""Headroom: a grouped deployment whose rate-limit headers say it has nothing left (or
too few tokens for a request) is passed over until their reset, in one process or a fleet."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import Literal

import pytest

from failover import AsyncFailover, Failover, Group, LocalHealth, RedisHealth, Target
from failover._health.headroom import Headroom, reset_seconds
from failover._routing.balance import Balancer, estimate
from failover.testing import FakeProvider

from ._groups import ONE_TRY, fakes
from .conftest import FAST, MESSAGES, eventually, target

__all__ = ["fakes"]  # the fixture, from _groups


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
            # The health view says what each deployment's headers said is left.
            assert [s.headroom for s in client.health()] == [{"requests": 0}, {}]
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


# One process of a fleet: calls through a client configured by the environment, and
# prints which target answered each.
_PROCESS = """
import sys
from failover import Failover
with Failover.from_env() as client:
    for _ in range(int(sys.argv[1])):
        report = client.chat.completions.with_report.create(
            messages=[{"role": "user", "content": "hi"}]
        )
        print(report.target)
"""


def test_two_processes_sharing_redis_respect_one_deployments_headroom(
    redis_url: str, redis_prefix: str, fakes: tuple[FakeProvider, ...]
) -> None:
    a, b, _ = fakes
    a.set_quota(2, per=30.0)
    env = {
        **os.environ,
        "FAILOVER_CHAIN": "a/model-x|b/model-x",
        "FAILOVER_REDIS_URL": redis_url,
        "FAILOVER_REDIS_PREFIX": redis_prefix,
        "FAILOVER_MAX_RETRIES": "0",
        "FAILOVER_BALANCE_SEED": "7",
        "FAILOVER_PROVIDER_A_WEIGHT": "1000",  # a, whenever it can be
    }
    for name, fake in (("A", a), ("B", b)):
        env |= {
            f"FAILOVER_PROVIDER_{name}_API": "openai",
            f"FAILOVER_PROVIDER_{name}_BASE_URL": fake.base_url,
            f"FAILOVER_PROVIDER_{name}_API_KEY": f"fake-{name}-key",
        }

    def process(calls: int) -> list[str]:
        done = subprocess.run(
            [sys.executable, "-c", _PROCESS, str(calls)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    # The first process's second answer says a has nothing left for 30 s ...
    assert process(2) == ["a/model-x"] * 2
    # ... and another process, which never heard from a, passes it over from its start.
    assert process(10) == ["b/model-x"] * 10
    assert len(a.requests) == 2 and all(r.fault is None for r in a.requests)


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


def test_within_a_window_the_fewest_said_left_stands() -> None:
    """Answers to concurrent calls can be read out of the order the provider counted
    them: an older "5 left" read after "3 left" must not raise the count again."""
    room = Headroom(LocalHealth().for_target(Target("openai", "m"), FAST))

    def say(left: int, reset: str) -> None:
        room.seen(
            {
                "x-ratelimit-remaining-requests": str(left),
                "x-ratelimit-reset-requests": reset,
                "x-ratelimit-remaining-tokens": str(left * 100),
                "x-ratelimit-reset-tokens": reset,
            }
        )

    say(3, "20s")
    say(5, "20s")  # read late: counted before the 3
    assert room.requests is not None and room.requests[0] == 3
    assert room.tokens["all"][0] == 300 and room.left["requests"][0] == 3
    assert room.spent(3, time.time()) and not room.spent(2, time.time())
    say(2, "19.5s")  # fewer, in the same window: taken
    assert room.requests[0] == 2
    say(50, "40s")  # a later window: taken whatever the count
    assert room.requests[0] == 50 and room.tokens["all"][0] == 5000


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


async def test_a_burst_sends_a_deployment_no_more_than_it_said_is_left() -> None:
    """Its headers said 2 requests are left: of a burst of 10 concurrent calls it gets 2
    and its sibling the rest, with no 429 (the count was read before the burst, so the
    calls already on their way are counted against it)."""
    with FakeProvider("openai", name="a") as a, FakeProvider("openai", name="b") as b:
        a.set_quota(3, per=5.0)
        group = Group(target(a, "a"), target(b, "b"), weights=[1000, 1])  # a, whenever it can
        async with AsyncFailover([group], policy=ONE_TRY) as client:
            await client.chat.completions.create(messages=MESSAGES)  # a: "2 left"
            a_before = len(a.requests)
            calls = [client.chat.completions.create(messages=MESSAGES) for _ in range(10)]
            await asyncio.gather(*calls)
    assert [r.fault for r in a.requests] == [None] * len(a.requests)  # no 429 at all
    assert a_before == 1 and len(a.requests) == 3 and len(b.requests) == 8
