"""Conversation state that survives failover: ``previous_response_id`` with failover's
own ids, a second turn that fails over with the whole transcript, the maker first
while it is healthy, expired state refused before any request, and a follow-up on
another worker through Redis."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from failover import AsyncFailover, ConversationExpired, Failover, RedisHealth, Target
from failover._api.conversation import Conversation
from failover._responses.state import Transcripts, Turn, maker_of, response_id
from failover.testing import FakeProvider, Fault

from .conftest import SECRET
from .test_responses import POLICY, _native


@pytest.fixture
def fakes() -> Iterator[tuple[FakeProvider, FakeProvider]]:
    with (
        FakeProvider("openai", reply="Paris is the capital.", name="openai") as native,
        FakeProvider("anthropic", reply="About 2 million.", name="claude") as claude,
    ):
        yield native, claude


def _chain(native: FakeProvider, claude: FakeProvider) -> list[Target]:
    anthropic = Target(
        "anthropic", "claude-sonnet-5-5", api="anthropic", base_url=claude.base_url, api_key=SECRET
    )
    return [_native(native), anthropic]


FIRST = "What is the capital of France?"
SECOND = "How many people live there?"


def test_a_second_turn_that_fails_over_carries_the_whole_transcript(
    fakes: tuple[FakeProvider, FakeProvider],
) -> None:
    native, claude = fakes
    with Failover(_chain(native, claude), policy=POLICY) as client:
        first = client.responses.create(input=FIRST, instructions="Be brief.")
        assert maker_of(first.id) == "openai/gpt-5.4-mini" and first.id.startswith("resp_fo_")
        native.set_mode(Fault.status(503))
        report = client.responses.with_report.create(input=SECOND, previous_response_id=first.id)
    second = report.response
    assert report.target == "anthropic/claude-sonnet-5-5"
    assert second.output_text == "About 2 million." and second.previous_response_id == first.id
    assert maker_of(second.id) == "anthropic/claude-sonnet-5-5"
    messages = claude.requests[-1].body["messages"]
    said = [(m["role"], str(m["content"])) for m in messages]
    assert said[0][0] == "user" and FIRST in said[0][1]
    assert said[1][0] == "assistant" and "Paris is the capital." in said[1][1]
    assert said[2][0] == "user" and SECOND in said[2][1] and len(said) == 3


def test_a_follow_up_goes_natively_to_the_maker_while_it_is_healthy(
    fakes: tuple[FakeProvider, FakeProvider],
) -> None:
    native, claude = fakes
    chain = _chain(native, claude)
    with Failover([chain[1], chain[0]], policy=POLICY) as client:  # Claude first in the chain
        claude.set_mode(Fault.status(503))
        first = client.responses.create(input=FIRST)  # answered by OpenAI
        claude.set_mode(None)
        second = client.responses.create(input=SECOND, previous_response_id=first.id)
    assert maker_of(second.id) == "openai/gpt-5.4-mini"  # the maker, though Claude is up
    body = native.requests[-1].body
    assert body["previous_response_id"].startswith("resp_fake")  # the vendor's own id
    assert body["input"] == [{"role": "user", "content": SECOND}]
    assert len(claude.requests) == 1  # only turn 1's failure


def test_a_chain_of_three_turns_keeps_every_turn(fakes: tuple[FakeProvider, FakeProvider]) -> None:
    native, claude = fakes
    with Failover(_chain(native, claude), policy=POLICY) as client:
        first = client.responses.create(input=FIRST)
        native.set_mode(Fault.status(503))
        second = client.responses.create(input=SECOND, previous_response_id=first.id)
        client.responses.create(input="And its river?", previous_response_id=second.id)
    said = str(claude.requests[-1].body["messages"])
    for part in (FIRST, "Paris is the capital.", SECOND, "About 2 million.", "And its river?"):
        assert part in said


def test_an_expired_or_unknown_id_fails_before_any_request(
    fakes: tuple[FakeProvider, FakeProvider],
) -> None:
    native, claude = fakes
    gone = response_id("openai/gpt-5.4-mini")
    with Failover(_chain(native, claude), policy=POLICY) as client:
        with pytest.raises(ConversationExpired, match=r"answered by openai/gpt-5\.4-mini"):
            client.responses.create(input=SECOND, previous_response_id=gone)
        quiet = client.responses.create(input=FIRST, store=False)
        with pytest.raises(ConversationExpired, match="store=False"):
            client.responses.create(input=SECOND, previous_response_id=quiet.id)
    assert len(native.requests) == 1 and not claude.requests  # only the store=False turn


def test_a_streamed_turn_is_kept_under_the_stream_id(
    fakes: tuple[FakeProvider, FakeProvider],
) -> None:
    native, claude = fakes
    with Failover(_chain(native, claude), policy=POLICY) as client:
        events = list(client.responses.create(input=FIRST, stream=True))
        rid = events[-1].response.id
        assert {e.response.id for e in events if hasattr(e, "response")} == {rid}
        native.set_mode(Fault.status(503))
        second = list(client.responses.create(input=SECOND, previous_response_id=rid, stream=True))
    assert second[-1].response.previous_response_id == rid
    assert "Paris is the capital." in str(claude.requests[-1].body["messages"])


def test_reasoning_never_goes_to_another_target() -> None:
    """A transcript with the maker's reasoning item: the maker may see it replayed, no
    other target does."""
    reasoning = {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "x"}
    answer = {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": "A"}],
    }
    turn = Turn("openai/gpt-5.4-mini", None, [{"role": "user", "content": "Q"}, reasoning, answer])
    transcripts = Transcripts()
    rid = response_id(turn.target)
    transcripts.keep(rid, turn)
    conversation = Conversation.open(transcripts, {"input": "Next", "previous_response_id": rid})
    maker = Target("openai", "gpt-5.4-mini", api_key=SECRET)
    other = Target("azure", "gpt-54", api_key=SECRET, base_url="https://x", azure=True)
    sent = conversation.request
    assert reasoning in conversation.for_target(maker, sent)["input"]
    assert reasoning not in conversation.for_target(other, sent)["input"]
    assert conversation.for_target(other, sent)["input"][-1] == {"role": "user", "content": "Next"}


def test_a_follow_up_on_another_worker_finds_the_transcript_in_redis(
    fakes: tuple[FakeProvider, FakeProvider], redis_url: str, redis_prefix: str
) -> None:
    native, claude = fakes
    chain = _chain(native, claude)
    one, two = (
        RedisHealth(redis_url, prefix=redis_prefix),
        RedisHealth(redis_url, prefix=redis_prefix),
    )
    try:
        with Failover(chain, policy=POLICY, health=one) as worker_one:
            first = worker_one.responses.create(input=FIRST)
        native.set_mode(Fault.status(503))

        async def follow_up() -> Any:
            async with AsyncFailover(chain, policy=POLICY, health=two) as worker_two:
                return await worker_two.responses.create(
                    input=SECOND, previous_response_id=first.id
                )

        second = asyncio.run(follow_up())
    finally:
        one.close()
        two.close()
    assert second.previous_response_id == first.id
    assert "Paris is the capital." in str(claude.requests[-1].body["messages"])
