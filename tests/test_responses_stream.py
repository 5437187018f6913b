"""``client.responses`` streamed: the compliance cases' streams on three chains (OpenAI
native; OpenAI down, then Anthropic; OpenAI down, then a chat-only server), every event
validated by openai's ``ResponseStreamEvent`` union and the spec's order; failover
before the first content, ``error`` then ``response.failed`` after it; openai's own
stream helper on top."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pydantic
import pytest
from openai.types.responses import ResponseStreamEvent

from failover import AsyncFailover, Failover, StreamInterrupted, Target
from failover.testing import FakeProvider, Fault, Reply, ToolCall, check_event_order

from .conftest import SECRET
from .test_responses import POLICY, WEATHER, _native

EVENTS: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(ResponseStreamEvent)
TEXT = "a streamed answer, in several chunks"


@pytest.fixture
def fakes() -> Iterator[dict[str, FakeProvider]]:
    with (
        FakeProvider("openai", reply=Reply(TEXT, chunk_size=6), name="openai") as native,
        FakeProvider("anthropic", reply=Reply(TEXT, chunk_size=6), name="claude") as claude,
        FakeProvider(
            "openai", reply=Reply(TEXT, chunk_size=6), name="chat", responses="none"
        ) as chat,
    ):
        yield {"openai": native, "claude": claude, "chat": chat}


@pytest.fixture(params=["native", "to-anthropic", "to-chat-only"])
def chain(
    request: pytest.FixtureRequest, fakes: dict[str, FakeProvider]
) -> tuple[list[Target], FakeProvider]:
    """(chain, the fake that answers); OpenAI is down in the chains that fall over."""
    claude, chat = fakes["claude"], fakes["chat"]
    backup = {
        "native": _claude(claude),
        "to-anthropic": _claude(claude),
        "to-chat-only": Target("chat", "chat-model", base_url=chat.base_url, api_key=SECRET),
    }[request.param]
    if request.param == "native":
        return [_native(fakes["openai"]), backup], fakes["openai"]
    fakes["openai"].set_mode(Fault.status(503))
    return [_native(fakes["openai"]), backup], claude if backup.api == "anthropic" else chat


def _claude(fake: FakeProvider) -> Target:
    return Target(
        "anthropic", "claude-sonnet-5-5", api="anthropic", base_url=fake.base_url, api_key=SECRET
    )


def _checked(events: list[Any], *, complete: bool = True) -> list[Any]:
    """``events`` after openai's own union validated each one, in the spec's order."""
    for event in events:
        assert EVENTS.validate_python(event.model_dump()).type == event.type
    check_event_order(events, complete=complete)
    return events


def test_a_text_stream_keeps_the_spec_order(chain: tuple[list[Target], FakeProvider]) -> None:
    targets, answering = chain
    with Failover(targets, policy=POLICY) as client:
        stream = client.responses.create(input="Tell me something", stream=True)
        events = _checked(list(stream))
        assert stream.target is not None and stream.attempts[-1].target == stream.target.label
    assert answering.requests[-1].stream
    done = events[-1]
    assert done.type == "response.completed" and done.response.output_text == TEXT
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == TEXT
    assert done.response.usage is not None and done.response.usage.output_tokens > 0
    assert {e.response.id for e in events if hasattr(e, "response")} == {done.response.id}


def test_a_tool_call_stream(chain: tuple[list[Target], FakeProvider]) -> None:
    targets, answering = chain
    answering.set_reply(Reply(text="", tool_calls=[ToolCall("get_weather", {"city": "Paris"})]))
    with Failover(targets, policy=POLICY) as client:
        events = _checked(
            list(client.responses.create(input="Weather in Paris?", tools=[WEATHER], stream=True))
        )
    kinds = [e.type for e in events]
    assert "response.function_call_arguments.delta" in kinds
    done = next(e for e in events if e.type == "response.function_call_arguments.done")
    assert done.arguments.replace(" ", "") == '{"city":"Paris"}'
    call = events[-1].response.output[-1]
    assert call.type == "function_call" and call.name == "get_weather" and call.call_id


def test_openai_stream_helper_gives_the_final_and_parsed_response(
    chain: tuple[list[Target], FakeProvider],
) -> None:
    class City(pydantic.BaseModel):
        name: str
        population: int

    targets, answering = chain
    with Failover(targets, policy=POLICY) as client:
        with client.responses.stream(input="Hi") as stream:
            deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
            assert stream.get_final_response().output_text == TEXT == "".join(deltas)
        answering.set_reply(Reply('{"name": "Paris", "population": 2100000}', chunk_size=5))
        with client.responses.stream(input="Describe Paris", text_format=City) as stream:
            final = stream.get_final_response()
    assert final.output_parsed == City(name="Paris", population=2100000)
    assert "population" in str(answering.requests[-1].body)  # the schema went, in its shape


@pytest.mark.parametrize(
    "fault", [Fault.status(503), Fault.inband_error(after_chunks=0), Fault.cut(after_chunks=0)]
)
def test_a_failure_before_the_first_content_fails_over(
    fakes: dict[str, FakeProvider], fault: Fault
) -> None:
    claude = fakes["claude"]
    chain = [
        _native(fakes["openai"]),
        _claude(claude),
    ]
    fakes["openai"].set_mode(fault)
    with Failover(chain, policy=POLICY) as client:
        stream = client.responses.create(input="Hi", stream=True)
        events = _checked(list(stream))
    assert events[-1].response.output_text == TEXT and len(claude.requests) == 1
    assert [a.target for a in stream.attempts] == [
        "openai/gpt-5.4-mini",
        "anthropic/claude-sonnet-5-5",
    ]


@pytest.mark.parametrize("where", ["native", "converted"])
def test_a_failure_after_content_is_an_error_event_then_response_failed(
    fakes: dict[str, FakeProvider], where: str
) -> None:
    """Never a silent end: the events say it, then StreamInterrupted carries the log."""
    native, claude = fakes["openai"], fakes["claude"]
    anthropic = _claude(claude)
    chain = [_native(native), anthropic] if where == "native" else [anthropic, _native(native)]
    (native if where == "native" else claude).set_mode(Fault.inband_error(after_chunks=2))
    events: list[Any] = []
    with Failover(chain, policy=POLICY) as client, pytest.raises(StreamInterrupted) as broke:
        for event in client.responses.create(input="Hi", stream=True):
            events.append(event)
    _checked(events)
    assert [e.type for e in events[-2:]] == ["error", "response.failed"]
    failed = events[-1].response
    assert failed.status == "failed" and failed.error is not None
    assert broke.value.attempts and broke.value.partial_text == TEXT[:12]
    if where == "converted":  # what was said before the cut is in the failed response
        assert failed.output[-1].content[0].text == TEXT[:12]
    assert len(fakes["claude" if where == "native" else "openai"].requests) == 0


def test_an_open_responses_server_streams_natively() -> None:
    with FakeProvider("openai", reply=Reply(TEXT, chunk_size=6), responses="open") as server:
        target = Target("vllm", "qwen3", base_url=server.base_url, api_key=SECRET)
        assert target.native_responses
        with Failover([target], policy=POLICY) as client:
            events = _checked(list(client.responses.create(input="Hi", stream=True)))
    assert events[-1].response.output_text == TEXT
    assert server.requests[-1].path == "/v1/responses"


def test_async_streams_fall_over_and_feed_the_helper(fakes: dict[str, FakeProvider]) -> None:
    claude = fakes["claude"]
    chain = [
        _native(fakes["openai"]),
        _claude(claude),
    ]
    fakes["openai"].set_mode(Fault.status(503))

    async def run() -> tuple[list[Any], str]:
        async with AsyncFailover(chain, policy=POLICY) as client:
            stream = await client.responses.create(input="Hi", stream=True)
            events = [event async for event in stream]
            async with client.responses.stream(input="Hi") as helper:
                final = await helper.get_final_response()
            return events, final.output_text

    events, text = asyncio.run(run())
    assert _checked(events)[-1].response.output_text == TEXT == text


def test_async_failure_after_content(fakes: dict[str, FakeProvider]) -> None:
    fakes["openai"].set_mode(Fault.inband_error(after_chunks=2))

    async def run() -> list[Any]:
        seen: list[Any] = []
        async with AsyncFailover([_native(fakes["openai"])], policy=POLICY) as client:
            stream = await client.responses.create(input="Hi", stream=True)
            with pytest.raises(StreamInterrupted):
                async for event in stream:
                    seen.append(event)
        return seen

    events = _checked(asyncio.run(run()))
    assert [e.type for e in events[-2:]] == ["error", "response.failed"]
