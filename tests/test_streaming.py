"""Streaming: invisible failover before the first content, honest errors after it."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import Iterator
from typing import Any, Literal

import pytest
from openai.types.chat import ChatCompletionChunk

from failover import (
    AllTargetsFailed,
    AsyncFailover,
    ErrorKind,
    Failover,
    Outcome,
    Policy,
    StreamInterrupted,
    Target,
)
from failover.testing import FakeProvider, Fault, Reply, ToolCall

from .conftest import FAST, MESSAGES, target

Api = Literal["openai", "anthropic"]
TEXT = "The quick brown fox jumps over the lazy dog."  # 8-char chunks: "The quic", "k brown "
REST = TEXT[16:]


@dataclasses.dataclass
class Result:
    chunks: list[ChatCompletionChunk]
    target: str | None
    attempts: list[Any]

    @property
    def text(self) -> str:
        return "".join(c.choices[0].delta.content or "" for c in self.chunks if c.choices)


def stream(mode: str, chain: list[Target], policy: Policy = FAST, **params: Any) -> Result:
    """Read a whole stream through a fresh client; StreamInterrupted propagates."""
    params.setdefault("messages", MESSAGES)
    if mode == "sync":
        with (
            Failover(chain, policy=policy) as client,
            client.chat.completions.create(stream=True, **params) as s,
        ):
            return Result(list(s), s.target.label if s.target else None, list(s.attempts))

    async def go() -> Result:
        async with AsyncFailover(chain, policy=policy) as client:
            s = await client.chat.completions.create(stream=True, **params)
            async with s:
                chunks = [c async for c in s]
            return Result(chunks, s.target.label if s.target else None, list(s.attempts))

    return asyncio.run(go())


@pytest.fixture(params=["openai", "anthropic"])
def pair(request: pytest.FixtureRequest) -> Iterator[tuple[FakeProvider, FakeProvider]]:
    """A primary of each wire format, with a backup of the other one."""
    api: Api = request.param
    other: Api = "anthropic" if api == "openai" else "openai"
    with (
        FakeProvider(api, reply=Reply(TEXT)) as first,
        FakeProvider(other, reply=Reply("backup answer")) as second,
    ):
        yield first, second


PRE_CONTENT = [
    pytest.param(Fault.status(503), id="status"),
    pytest.param(Fault.reset(), id="reset"),
    pytest.param(Fault.inband_error(after_chunks=0), id="inband-error"),
    pytest.param(Fault.no_terminator(after_chunks=0), id="ends-without-content"),
    pytest.param(Fault.cut(after_chunks=0), id="cut-before-content"),
]


@pytest.mark.parametrize("fault", PRE_CONTENT)
def test_failures_before_content_fail_over_invisibly(
    mode: str, pair: tuple[FakeProvider, FakeProvider], fault: Fault
) -> None:
    first, second = pair
    first.set_mode(fault)
    result = stream(mode, [target(first), target(second)], dataclasses.replace(FAST, max_retries=0))
    assert result.text == "backup answer"
    assert result.target == f"{second.api}/model-x"
    assert [a.outcome for a in result.attempts] == [Outcome.FAILED, Outcome.OK]
    assert result.chunks[0].choices[0].delta.role == "assistant"


def test_anthropic_inband_overloaded_with_status_200_is_retried(mode: str) -> None:
    with FakeProvider("anthropic", reply=Reply(TEXT)) as fake:
        fake.enqueue(Fault.inband_error(after_chunks=0))
        result = stream(mode, [target(fake)])
    assert result.text == TEXT
    assert [(a.outcome, a.error and a.error.value) for a in result.attempts] == [
        (Outcome.FAILED, "overloaded"),
        (Outcome.OK, None),
    ]


def test_first_token_timeout_fails_over(mode: str, pair: tuple[FakeProvider, FakeProvider]) -> None:
    first, second = pair
    first.set_mode(Fault.slow_first_byte(3.0))
    # Only the first-token cap may cut the primary, which would otherwise answer at 3 s
    # (its text, not the backup's): the attempt and the read timeout (the idle limit,
    # which also bounds the wait for headers) are longer than that.
    policy = dataclasses.replace(
        FAST, max_retries=0, attempt_timeout=10, stream_idle_timeout=10, first_token_timeout=0.4
    )
    started = time.monotonic()
    result = stream(mode, [target(first), target(second)], policy)
    assert result.text == "backup answer"
    assert result.attempts[0].error is ErrorKind.TIMEOUT
    assert time.monotonic() - started < 2.5  # normally 0.4 s and a bit; uncapped >= 3 s


MID_STREAM = [
    pytest.param(Fault.cut(after_chunks=2), id="cut"),
    pytest.param(Fault.inband_error(after_chunks=2), id="inband-error"),
    pytest.param(Fault.no_terminator(after_chunks=2), id="no-terminator"),
]


@pytest.mark.parametrize("fault", MID_STREAM)
def test_failures_after_content_raise_with_the_partial_text(
    mode: str, pair: tuple[FakeProvider, FakeProvider], fault: Fault
) -> None:
    first, second = pair
    first.set_mode(fault)
    with pytest.raises(StreamInterrupted) as info:
        stream(mode, [target(first), target(second)])
    assert info.value.partial_text == TEXT[:16]
    assert info.value.attempts[-1].error is ErrorKind.STREAM_CUT
    assert second.requests == []  # resume is off: nothing silent happens


def test_stall_after_content_hits_the_idle_timeout(
    mode: str, pair: tuple[FakeProvider, FakeProvider]
) -> None:
    first, second = pair
    first.set_mode(Fault.drip(3.0))  # the gap outlasts the limit by far more than a stall
    policy = dataclasses.replace(FAST, first_token_timeout=3.0, stream_idle_timeout=0.5)
    with pytest.raises(StreamInterrupted) as info:
        stream(mode, [target(first), target(second)], policy)
    assert TEXT.startswith(info.value.partial_text) and info.value.partial_text


def test_steady_chunks_outlast_the_idle_timeout_in_total_without_a_cut(
    mode: str, pair: tuple[FakeProvider, FakeProvider]
) -> None:
    # The idle limit is per gap, not per stream: gaps of 0.2 s against a 1.5 s limit
    # (room for a 1 s stall), and 10 gaps between the 11 chunks alone make 2 s: a limit
    # on the whole stream would cut it.
    first, second = pair
    first.set_reply(Reply(TEXT * 2))
    first.set_mode(Fault.drip(0.2))
    policy = dataclasses.replace(FAST, stream_idle_timeout=1.5)
    result = stream(mode, [target(first), target(second)], policy)
    assert result.text == TEXT * 2 and second.requests == []


def test_mid_stream_failures_count_against_the_breaker(primary: FakeProvider) -> None:
    primary.set_reply(Reply(TEXT))
    primary.set_mode(Fault.cut(after_chunks=1))
    policy = dataclasses.replace(FAST, breaker_fail_max=2)
    with Failover([target(primary)], policy=policy) as client:
        for _ in range(2):
            with pytest.raises(StreamInterrupted):
                list(client.chat.completions.create(stream=True, messages=MESSAGES))
        assert client.breaker_state(target(primary)) == "open"


def test_early_close_releases_the_connection(mode: str, primary: FakeProvider) -> None:
    primary.set_reply(Reply(TEXT * 20))
    primary.set_mode(Fault.drip(0.05))

    def wait_for_zero() -> int:
        deadline = time.monotonic() + 3
        while primary.active_connections and time.monotonic() < deadline:
            time.sleep(0.02)
        return primary.active_connections

    if mode == "sync":
        with Failover([target(primary)], policy=FAST) as client:
            s = client.chat.completions.create(stream=True, messages=MESSAGES)
            next(iter(s))
            next(iter(s))
            assert primary.active_connections == 1
            s.close()
            assert wait_for_zero() == 0
        return

    async def go() -> None:
        async with AsyncFailover([target(primary)], policy=FAST) as client:
            s = await client.chat.completions.create(stream=True, messages=MESSAGES)
            async with s:
                await anext(s)
                await anext(s)
                assert primary.active_connections == 1
            assert await asyncio.to_thread(wait_for_zero) == 0

    asyncio.run(go())


ARGS = {"city": "Paris", "units": "metric", "days": [1, 2, 3]}


@pytest.mark.parametrize("api", ["openai", "anthropic"])
def test_tool_call_deltas_reassemble(mode: str, api: Api) -> None:
    reply = Reply(
        text="",
        tool_calls=[
            ToolCall("get_weather", ARGS, id="call_1"),
            ToolCall("get_time", {"tz": "CET"}, id="call_2"),
        ],
        chunk_size=4,
    )
    with FakeProvider(api, reply=reply) as fake:
        result = stream(mode, [target(fake)], stream_options={"include_usage": True})
    calls: dict[int, dict[str, str]] = {}
    for chunk in result.chunks:
        for choice in chunk.choices:
            for delta in choice.delta.tool_calls or ():
                entry = calls.setdefault(delta.index, {"id": "", "name": "", "args": ""})
                entry["id"] += delta.id or ""
                entry["name"] += (delta.function and delta.function.name) or ""
                entry["args"] += (delta.function and delta.function.arguments) or ""
    assert sorted(calls) == [0, 1]
    assert (calls[0]["name"], json.loads(calls[0]["args"])) == ("get_weather", ARGS)
    assert (calls[1]["name"], json.loads(calls[1]["args"])) == ("get_time", {"tz": "CET"})
    assert calls[0]["id"] and calls[1]["id"] and calls[0]["id"] != calls[1]["id"]
    finishes = [c.finish_reason for ch in result.chunks for c in ch.choices if c.finish_reason]
    assert finishes == ["tool_calls"]
    assert result.chunks[-1].choices == [] and result.chunks[-1].usage is not None


# -- resume ------------------------------------------------------------------------------

RESUME = dataclasses.replace(FAST, stream_resume=True)


@pytest.mark.parametrize("backup_api", ["openai", "anthropic"])
def test_resume_continues_seamlessly(mode: str, backup_api: Api) -> None:
    with (
        FakeProvider("openai", reply=Reply(TEXT)) as first,
        FakeProvider(
            backup_api,
            reply=Reply(REST),
        ) as second,
    ):
        first.set_mode(Fault.cut(after_chunks=2))
        result = stream(mode, [target(first, "first"), target(second, "second")], RESUME)
        continuation = second.requests[0].body["messages"]
    assert result.text == TEXT
    assert [a.outcome for a in result.attempts] == [
        Outcome.OK,
        Outcome.FAILED,
        Outcome.OK,
        Outcome.RESUMED,
    ]
    assert result.attempts[-1].target == "second/model-x"
    if backup_api == "openai":
        assert continuation[-2] == {"role": "assistant", "content": TEXT[:16]}
        assert continuation[-1]["role"] == "user" and "Continue" in continuation[-1]["content"]
    else:  # Anthropic prefill; its API rejects a prefill ending in whitespace
        assert continuation[-1]["role"] == "assistant"
        assert TEXT[:16].rstrip() in json.dumps(continuation[-1]["content"])


def test_resume_drops_a_restarted_answer(mode: str) -> None:
    with (
        FakeProvider("openai", reply=Reply(TEXT)) as first,
        FakeProvider(
            "openai",
            reply=Reply(TEXT),  # the backup starts over from the beginning
        ) as second,
    ):
        first.set_mode(Fault.cut(after_chunks=2))
        result = stream(mode, [target(first, "first"), target(second, "second")], RESUME)
    assert result.text == TEXT


def test_resume_refuses_after_a_partial_tool_call(mode: str) -> None:
    reply = Reply(text="", tool_calls=[ToolCall("get_weather", ARGS)], chunk_size=4)
    with FakeProvider("openai", reply=reply) as first, FakeProvider("anthropic") as second:
        first.set_mode(Fault.cut(after_chunks=3))
        with pytest.raises(StreamInterrupted, match="partial tool call") as info:
            stream(mode, [target(first), target(second)], RESUME)
    assert info.value.partial_tool_calls[0]["name"] == "get_weather"
    assert second.requests == []


def test_a_stream_closed_unread_frees_the_half_open_probe(primary: FakeProvider) -> None:
    policy = dataclasses.replace(FAST, max_retries=0, breaker_fail_max=1, breaker_reset=0.1)
    primary.set_mode(Fault.status(503))
    with Failover([target(primary)], policy=policy) as client:
        with pytest.raises(AllTargetsFailed):
            client.chat.completions.create(messages=MESSAGES)
        primary.set_mode(None)
        time.sleep(0.15)
        client.chat.completions.create(messages=MESSAGES, stream=True).close()  # the probe
        answer = client.chat.completions.create(messages=MESSAGES)  # not skipped for good
        assert answer.choices[0].message.content
        assert client.breaker_state(target(primary)) == "closed"


def test_a_stream_that_ends_empty_fails_over(
    mode: str, pair: tuple[FakeProvider, FakeProvider]
) -> None:
    first, second = pair
    first.set_mode(Fault.empty_choices())
    result = stream(mode, [target(first), target(second)], dataclasses.replace(FAST, max_retries=0))
    assert result.text == "backup answer"


def test_keepalives_do_not_stretch_the_first_token_window(
    mode: str, pair: tuple[FakeProvider, FakeProvider]
) -> None:
    first, second = pair
    first.set_mode(Fault.keepalive(5.0))  # beats every 0.1 s reset any HTTP read timeout
    # The attempt may last 10 s: only the first-token window can cut the primary, which
    # would otherwise answer at 5 s (its text, not the backup's).
    policy = dataclasses.replace(FAST, max_retries=0, attempt_timeout=10, first_token_timeout=0.5)
    started = time.monotonic()
    result = stream(mode, [target(first), target(second)], policy)
    assert result.text == "backup answer"
    assert result.attempts[0].error is ErrorKind.TIMEOUT
    assert time.monotonic() - started < 3.0  # normally 0.5 s and a bit; stretched >= 5 s
