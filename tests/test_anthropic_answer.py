"""Anthropic answers to OpenAI's: whole messages, and which chunks carry content."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from failover._adapters._anthropic_convert import STOP_REASONS, from_anthropic_message
from failover._adapters.chunks import is_content_chunk

from ._anthropic import message

# --- from_anthropic_message -------------------------------------------------------------


def test_text_message() -> None:
    before = int(time.time())
    result = from_anthropic_message(
        message([{"type": "text", "text": "Hel"}, {"type": "text", "text": "lo"}])
    )
    assert isinstance(result, ChatCompletion)
    assert (result.id, result.model, result.object) == ("msg_1", "claude-x", "chat.completion")
    assert before <= result.created <= int(time.time())
    choice = result.choices[0]
    assert (choice.index, choice.finish_reason) == (0, "stop")
    assert choice.message.role == "assistant"
    assert choice.message.content == "Hello"
    assert choice.message.tool_calls is None
    assert result.usage is not None
    assert (
        result.usage.prompt_tokens,
        result.usage.completion_tokens,
        result.usage.total_tokens,
    ) == (10, 5, 15)
    assert result.usage.prompt_tokens_details is None
    assert ChatCompletion.model_validate(result.model_dump()) == result


def test_tool_use_message() -> None:
    content = [
        {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "toolu_2", "name": "time", "input": {}},
    ]
    result = from_anthropic_message(message(content, stop="tool_use"))
    choice = result.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    calls = choice.message.tool_calls or []
    assert [(c.id, c.type) for c in calls] == [("toolu_1", "function"), ("toolu_2", "function")]
    assert [c.function.name for c in calls if c.type == "function"] == ["weather", "time"]
    assert [json.loads(c.function.arguments) for c in calls if c.type == "function"] == [
        {"city": "Paris"},
        {},
    ]
    assert ChatCompletion.model_validate(result.model_dump()) == result


def test_text_and_tool_use_and_thinking() -> None:
    content: list[dict[str, Any]] = [
        {"type": "thinking", "thinking": "hmm", "signature": "sig"},
        {"type": "text", "text": "Let me check."},
        {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"x": [1, 2]}},
    ]
    result = from_anthropic_message(message(content, stop="tool_use")).choices[0].message
    assert result.content == "Let me check."
    assert len(result.tool_calls or []) == 1


def test_empty_message_has_empty_string_content() -> None:
    assert from_anthropic_message(message([], stop="max_tokens")).choices[0].message.content == ""


def test_cache_tokens_are_folded_into_prompt_tokens() -> None:
    usage = from_anthropic_message(
        message(
            [{"type": "text", "text": "x"}],
            cache_read_input_tokens=100,
            cache_creation_input_tokens=20,
        )
    ).usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (130, 5, 135)
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 100


@pytest.mark.parametrize(
    ("stop", "finish"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("pause_turn", "stop"),
    ],
)
def test_stop_reasons(stop: str, finish: str) -> None:
    assert (
        from_anthropic_message(message([{"type": "text", "text": "x"}], stop=stop))
        .choices[0]
        .finish_reason
        == finish
    )
    assert STOP_REASONS[stop] == finish


def test_a_message_without_stop_reason_is_truncated() -> None:
    with pytest.raises(ValueError, match="truncated"):
        from_anthropic_message(message([{"type": "text", "text": "x"}], stop=None))


def test_stop_reasons_is_read_only_data() -> None:
    assert STOP_REASONS.get("something_new") is None
    with pytest.raises(TypeError):
        STOP_REASONS["end_turn"] = "length"  # type: ignore[index]


# --- is_content_chunk -------------------------------------------------------------------


def chunk(
    delta: dict[str, Any] | None, finish: str | None = None, usage: bool = False
) -> ChatCompletionChunk:
    data: dict[str, Any] = {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "m",
    }
    data["choices"] = (
        [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    )
    if usage:
        data["usage"] = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    return ChatCompletionChunk.model_validate(data)


@pytest.mark.parametrize(
    ("c", "expected"),
    [
        (chunk({"content": "x"}), True),
        (chunk({"role": "assistant", "content": "x"}), True),
        (chunk({"refusal": "I can't"}), True),
        (
            chunk(
                {
                    "tool_calls": [
                        {"index": 0, "id": "a", "type": "function", "function": {"name": "f"}}
                    ]
                }
            ),
            True,
        ),
        (chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{"}}]}), True),
        (chunk({"role": "assistant"}), False),
        (chunk({"role": "assistant", "content": ""}), False),
        (chunk({}), False),
        (chunk({"content": None}), False),
        (chunk({}, finish="stop"), False),
        (chunk(None, usage=True), False),
        (chunk({"tool_calls": [{"index": 0, "id": "a"}]}), False),
        (chunk({"tool_calls": [{"index": 0, "function": {"arguments": ""}}]}), False),
    ],
)
def test_is_content_chunk(c: ChatCompletionChunk, expected: bool) -> None:
    assert is_content_chunk(c) is expected
