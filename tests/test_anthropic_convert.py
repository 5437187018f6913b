"""Tests for the pure OpenAI <-> Anthropic conversions."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from anthropic.types import Message, RawMessageStreamEvent
from hypothesis import given
from hypothesis import strategies as st
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from pydantic import TypeAdapter

from failover._adapters._anthropic_convert import (
    STOP_REASONS,
    AnthropicChunkConverter,
    from_anthropic_message,
    to_anthropic_request,
)
from failover._chunks import is_content_chunk
from failover._exceptions import RequestRejected, UnsupportedParameter

EVENTS: TypeAdapter[RawMessageStreamEvent] = TypeAdapter(RawMessageStreamEvent)
USER = {"role": "user", "content": "hi"}
PNG = "data:image/png;base64,iVBORw0KGgo="


def convert(**params: Any) -> dict[str, Any]:
    params.setdefault("messages", [USER])
    return to_anthropic_request(params, model="claude-x")


def ev(data: dict[str, Any]) -> RawMessageStreamEvent:
    return EVENTS.validate_python(data)


def message(content: list[dict[str, Any]], stop: str | None = "end_turn", **usage: int) -> Message:
    return Message.model_validate(
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-x",
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 5, **usage},
        }
    )


# --- to_anthropic_request: basics -------------------------------------------------------


def test_minimal_request() -> None:
    assert convert() == {
        "model": "claude-x",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
        "max_tokens": 4096,
    }


def test_default_max_tokens_is_configurable() -> None:
    request = to_anthropic_request({"messages": [USER]}, model="m", default_max_tokens=77)
    assert request["max_tokens"] == 77


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"max_tokens": 100}, 100),
        ({"max_completion_tokens": 200}, 200),
        ({"max_tokens": 100, "max_completion_tokens": 200}, 200),
        ({"max_tokens": None, "max_completion_tokens": None}, 4096),
    ],
)
def test_max_tokens(params: dict[str, Any], expected: int) -> None:
    assert convert(**params)["max_tokens"] == expected


def test_sampling_stop_and_user() -> None:
    request = convert(temperature=0.3, top_p=0.9, stop="END", user="u-42")
    assert request["temperature"] == 0.3
    assert request["top_p"] == 0.9
    assert request["stop_sequences"] == ["END"]
    assert request["metadata"] == {"user_id": "u-42"}
    assert convert(stop=["a", "b"])["stop_sequences"] == ["a", "b"]
    assert convert(temperature=0)["temperature"] == 0


def test_absent_optional_parameters_are_omitted() -> None:
    request = convert(temperature=None, top_p=None, stop=None, user=None, tools=None)
    assert set(request) == {"model", "messages", "max_tokens"}


def test_system_and_developer_messages_are_joined_into_system() -> None:
    request = convert(
        messages=[
            {"role": "system", "content": "Be brief."},
            {
                "role": "developer",
                "content": [{"type": "text", "text": "Use "}, {"type": "text", "text": "French."}],
            },
            USER,
            {"role": "system", "content": "Late rule."},
        ]
    )
    assert request["system"] == "Be brief.\n\nUse French.\n\nLate rule."
    assert [m["role"] for m in request["messages"]] == ["user"]


def test_system_message_with_image_is_rejected() -> None:
    content = [{"type": "image_url", "image_url": {"url": PNG}}]
    with pytest.raises(UnsupportedParameter, match=r"messages\[0\]\.content"):
        convert(messages=[{"role": "system", "content": content}, USER])


# --- unsupported and neutral parameters -------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("n", 2),
        ("logprobs", True),
        ("top_logprobs", 3),
        ("logit_bias", {"50256": -100}),
        ("presence_penalty", 0.5),
        ("frequency_penalty", -1.0),
        ("response_format", {"type": "json_object"}),
        ("seed", 7),
        ("audio", {"voice": "alloy", "format": "wav"}),
        ("modalities", ["text", "audio"]),
        ("store", True),
        ("metadata", {"k": "v"}),
        ("service_tier", "flex"),
        ("reasoning_effort", "high"),
        ("functions", [{"name": "f"}]),
        ("temperature", 1.5),
        ("tool_choice", {"type": "allowed_tools", "allowed_tools": {}}),
        ("tool_choice", "sometimes"),
        ("tools", [{"type": "custom", "custom": {"name": "x"}}]),
        ("totally_unknown", 1),
    ],
)
def test_unsupported_parameter_is_named(name: str, value: Any) -> None:
    with pytest.raises(UnsupportedParameter) as info:
        convert(**{name: value})
    assert f"parameter {name!r}=" in str(info.value)
    assert "not supported by anthropic targets" in str(info.value)
    assert isinstance(info.value, RequestRejected)


def test_unsupported_message_shows_value() -> None:
    with pytest.raises(
        UnsupportedParameter, match=r"^parameter 'n'=2 is not supported by anthropic targets$"
    ):
        convert(n=2)


def test_long_values_are_truncated_in_message() -> None:
    with pytest.raises(UnsupportedParameter) as info:
        convert(logit_bias={str(i): 1 for i in range(100)})
    assert len(str(info.value)) < 140


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("n", 1),
        ("logprobs", False),
        ("top_logprobs", 0),
        ("logit_bias", {}),
        ("presence_penalty", 0.0),
        ("frequency_penalty", 0),
        ("response_format", {"type": "text"}),
        ("seed", None),
        ("audio", None),
        ("modalities", ["text"]),
        ("store", False),
        ("metadata", {}),
        ("service_tier", "auto"),
        ("stream_options", {"include_usage": True}),
        ("parallel_tool_calls", True),
        ("parallel_tool_calls", False),  # no tools: nothing to parallelise
        ("stop", []),
        ("totally_unknown", None),
    ],
)
def test_neutral_values_are_accepted_without_effect(name: str, value: Any) -> None:
    assert convert(**{name: value}) == convert()


# --- tools ------------------------------------------------------------------------------

WEATHER = {
    "type": "function",
    "function": {
        "name": "weather",
        "description": "Get the weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        "strict": True,
    },
}


def test_tools_are_converted() -> None:
    bare = {"type": "function", "function": {"name": "ping"}}
    assert convert(tools=[WEATHER, bare])["tools"] == [
        {
            "name": "weather",
            "description": "Get the weather",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
            "strict": True,
        },
        {"name": "ping", "input_schema": {"type": "object", "properties": {}}},
    ]


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", {"type": "auto"}),
        ("required", {"type": "any"}),
        ("none", {"type": "none"}),
        (
            {"type": "function", "function": {"name": "weather"}},
            {"type": "tool", "name": "weather"},
        ),
    ],
)
def test_tool_choice(choice: Any, expected: dict[str, Any]) -> None:
    assert convert(tools=[WEATHER], tool_choice=choice)["tool_choice"] == expected


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (None, {"type": "auto", "disable_parallel_tool_use": True}),
        ("auto", {"type": "auto", "disable_parallel_tool_use": True}),
        ("required", {"type": "any", "disable_parallel_tool_use": True}),
        (
            {"type": "function", "function": {"name": "weather"}},
            {"type": "tool", "name": "weather", "disable_parallel_tool_use": True},
        ),
        ("none", {"type": "none"}),
    ],
)
def test_parallel_tool_calls_false(choice: Any, expected: dict[str, Any]) -> None:
    request = convert(tools=[WEATHER], tool_choice=choice, parallel_tool_calls=False)
    assert request["tool_choice"] == expected


def test_no_tool_choice_by_default() -> None:
    assert "tool_choice" not in convert(tools=[WEATHER])
    assert "tool_choice" not in convert(tools=[WEATHER], parallel_tool_calls=True)


def test_tool_round_trip() -> None:
    messages = [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {
            "role": "assistant",
            "content": "Checking.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "weather", "arguments": '{"city": "Paris"}'},
                },
                {
                    "id": "call_2",
                    "type": "function",
                    "function": {"name": "weather", "arguments": ""},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
        {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "rain"}]},
        {"role": "user", "content": "Thanks, and London?"},
    ]
    assert convert(messages=messages, tools=[WEATHER])["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Weather in Paris and Rome?"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "call_1", "name": "weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "call_2", "name": "weather", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "call_1", "content": "sunny"},
                {
                    "type": "tool_result",
                    "tool_use_id": "call_2",
                    "content": [{"type": "text", "text": "rain"}],
                },
                {"type": "text", "text": "Thanks, and London?"},
            ],
        },
    ]


def test_assistant_with_only_tool_calls_has_no_text_block() -> None:
    call = {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    messages = [USER, {"role": "assistant", "content": None, "tool_calls": [call]}]
    assert convert(messages=messages)["messages"][1]["content"] == [
        {"type": "tool_use", "id": "c", "name": "f", "input": {}}
    ]


@pytest.mark.parametrize("arguments", ["{not json", "[1, 2]", '"text"'])
def test_tool_call_arguments_must_be_a_json_object(arguments: str) -> None:
    call = {"id": "c", "type": "function", "function": {"name": "f", "arguments": arguments}}
    with pytest.raises(UnsupportedParameter, match=r"messages\[1\]\.tool_calls"):
        convert(messages=[USER, {"role": "assistant", "tool_calls": [call]}, USER])


# --- messages: merging, images, prefill -------------------------------------------------


def test_consecutive_same_role_messages_are_merged_and_roles_alternate() -> None:
    messages = [
        {"role": "user", "content": "a"},
        {"role": "user", "content": [{"type": "text", "text": "b"}]},
        {"role": "assistant", "content": "c"},
        {"role": "assistant", "content": "d"},
        {"role": "user", "content": "e"},
    ]
    assert convert(messages=messages)["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
        {
            "role": "assistant",
            "content": [{"type": "text", "text": "c"}, {"type": "text", "text": "d"}],
        },
        {"role": "user", "content": [{"type": "text", "text": "e"}]},
    ]


def test_empty_text_is_dropped() -> None:
    messages = [
        USER,
        {"role": "assistant", "content": ""},
        {"role": "user", "content": [{"type": "text", "text": ""}]},
    ]
    assert convert(messages=messages)["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "hi"}]}
    ]


def test_image_parts() -> None:
    content = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": PNG, "detail": "low"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
    ]
    assert convert(messages=[{"role": "user", "content": content}])["messages"][0]["content"] == [
        {"type": "text", "text": "What is this?"},
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
        },
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
    ]


@pytest.mark.parametrize(
    "url",
    [
        "data:image/svg+xml;base64,PHN2Zz4=",
        "data:image/png,rawbytes",
        "data:image/png;base64",
        "ftp://example.com/a.png",
    ],
)
def test_unsupported_images_are_rejected(url: str) -> None:
    content = [{"type": "image_url", "image_url": {"url": url}}]
    with pytest.raises(UnsupportedParameter, match=r"messages\[0\]\.content\[\]\.image_url"):
        convert(messages=[{"role": "user", "content": content}])


def test_unsupported_content_part_is_rejected() -> None:
    content = [{"type": "input_audio", "input_audio": {"data": "x", "format": "wav"}}]
    with pytest.raises(UnsupportedParameter, match="input_audio"):
        convert(messages=[{"role": "user", "content": content}])


@pytest.mark.parametrize(
    ("msg", "name"),
    [
        ({"role": "user", "content": "x", "name": "bob"}, "messages[0].name"),
        ({"role": "assistant", "content": "x", "refusal": "no"}, "messages[0].refusal"),
        ({"role": "user", "content": "x", "tool_calls": []}, "messages[0].tool_calls"),
        ({"role": "function", "content": "x"}, "messages[0].role"),
    ],
)
def test_unsupported_message_fields_are_named(msg: dict[str, Any], name: str) -> None:
    with pytest.raises(UnsupportedParameter) as info:
        convert(messages=[msg])
    assert f"parameter {name!r}" in str(info.value)


def test_none_valued_message_fields_are_accepted() -> None:
    messages = [
        {"role": "user", "content": "x", "name": None},
        {"role": "assistant", "content": "y", "tool_calls": None, "refusal": None, "audio": None},
        {"role": "user", "content": "z"},
    ]
    assert [m["role"] for m in convert(messages=messages)["messages"]] == [
        "user",
        "assistant",
        "user",
    ]


def test_trailing_assistant_stays_last_as_prefill() -> None:
    messages = [
        {"role": "system", "content": "s"},
        USER,
        {"role": "assistant", "content": "The answer is "},
    ]
    request = convert(messages=messages)
    assert request["messages"][-1] == {
        "role": "assistant",
        "content": [{"type": "text", "text": "The answer is"}],
    }
    assert len(request["messages"]) == 2


def test_trailing_assistant_after_tool_results_stays_last() -> None:
    call = {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    messages = [
        USER,
        {"role": "assistant", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c", "content": "ok"},
        {"role": "assistant", "content": "Partial"},
    ]
    roles = [m["role"] for m in convert(messages=messages)["messages"]]
    assert roles == ["user", "assistant", "user", "assistant"]


def test_whitespace_is_kept_on_non_final_assistant_and_empty_prefill_is_dropped() -> None:
    messages = [
        USER,
        {"role": "assistant", "content": "a "},
        USER,
        {"role": "assistant", "content": "  "},
    ]
    out = convert(messages=messages)["messages"]
    assert out[1]["content"] == [{"type": "text", "text": "a "}]
    assert out[-1]["role"] == "user"


def test_input_is_not_mutated() -> None:
    messages = [USER, {"role": "user", "content": "again"}, {"role": "assistant", "content": "x "}]
    snapshot = json.dumps(messages)
    convert(messages=messages)
    assert json.dumps(messages) == snapshot


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


# --- streaming --------------------------------------------------------------------------

STREAM: list[dict[str, Any]] = [
    {
        "type": "message_start",
        "message": {
            "id": "msg_s",
            "type": "message",
            "role": "assistant",
            "model": "claude-s",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 25, "output_tokens": 1, "cache_read_input_tokens": 5},
        },
    },
    {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "thinking", "thinking": "", "signature": ""},
    },
    {
        "type": "content_block_delta",
        "index": 0,
        "delta": {"type": "thinking_delta", "thinking": "hmm"},
    },
    {
        "type": "content_block_delta",
        "index": 0,
        "delta": {"type": "signature_delta", "signature": "sig"},
    },
    {"type": "content_block_stop", "index": 0},
    {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
    {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": ""}},
    {
        "type": "content_block_delta",
        "index": 1,
        "delta": {"type": "text_delta", "text": "Checking "},
    },
    {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "both."}},
    {"type": "content_block_stop", "index": 1},
    {
        "type": "content_block_start",
        "index": 2,
        "content_block": {"type": "tool_use", "id": "toolu_a", "name": "weather", "input": {}},
    },
    {
        "type": "content_block_delta",
        "index": 2,
        "delta": {"type": "input_json_delta", "partial_json": ""},
    },
    {
        "type": "content_block_delta",
        "index": 2,
        "delta": {"type": "input_json_delta", "partial_json": '{"ci'},
    },
    {
        "type": "content_block_delta",
        "index": 2,
        "delta": {"type": "input_json_delta", "partial_json": 'ty": "Paris"}'},
    },
    {"type": "content_block_stop", "index": 2},
    {
        "type": "content_block_start",
        "index": 3,
        "content_block": {"type": "tool_use", "id": "toolu_b", "name": "time", "input": {}},
    },
    {
        "type": "content_block_delta",
        "index": 3,
        "delta": {"type": "input_json_delta", "partial_json": '{"tz": '},
    },
    {
        "type": "content_block_delta",
        "index": 3,
        "delta": {"type": "input_json_delta", "partial_json": '"CET"}'},
    },
    {"type": "content_block_stop", "index": 3},
    {
        "type": "message_delta",
        "delta": {"stop_reason": "tool_use", "stop_sequence": None},
        "usage": {"output_tokens": 42},
    },
    {"type": "message_stop"},
]


def run(
    events: list[dict[str, Any]], include_usage: bool
) -> tuple[AnthropicChunkConverter, list[ChatCompletionChunk]]:
    converter = AnthropicChunkConverter(include_usage=include_usage)
    return converter, [chunk for e in events for chunk in converter.feed(ev(e))]


def test_full_stream_with_text_and_two_tools() -> None:
    _, chunks = run(STREAM, include_usage=True)
    assert {(c.id, c.model, c.created, c.object) for c in chunks} == {
        ("msg_s", "claude-s", chunks[0].created, "chat.completion.chunk")
    }
    first = chunks[0].choices[0]
    assert first.delta.role == "assistant"
    assert first.delta.content is None
    assert first.finish_reason is None

    deltas = [c.choices[0].delta for c in chunks if c.choices]
    assert "".join(d.content or "" for d in deltas) == "Checking both."
    calls: dict[int, dict[str, str]] = {}
    for d in deltas:
        for call in d.tool_calls or []:
            entry = calls.setdefault(call.index, {"id": "", "name": "", "arguments": ""})
            if call.id is not None:
                assert entry["id"] == ""
                entry["id"] = call.id
                assert call.type == "function"
            assert call.function is not None
            entry["name"] += call.function.name or ""
            entry["arguments"] += call.function.arguments or ""
    assert sorted(calls) == [0, 1]
    assert (calls[0]["id"], calls[0]["name"]) == ("toolu_a", "weather")
    assert (calls[1]["id"], calls[1]["name"]) == ("toolu_b", "time")
    assert json.loads(calls[0]["arguments"]) == {"city": "Paris"}
    assert json.loads(calls[1]["arguments"]) == {"tz": "CET"}

    finishes = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finishes == ["tool_calls"]
    assert chunks[-2].choices[0].finish_reason == "tool_calls"
    assert chunks[-2].choices[0].delta.model_dump(exclude_none=True) == {}
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None
    assert (last.usage.prompt_tokens, last.usage.completion_tokens, last.usage.total_tokens) == (
        30,
        42,
        72,
    )
    assert all(c.usage is None for c in chunks[:-1])
    for chunk in chunks:
        assert ChatCompletionChunk.model_validate(chunk.model_dump()) == chunk


def test_chunk_count_and_no_empty_fragments() -> None:
    _, chunks = run(STREAM, include_usage=False)
    # role, 2 text, tool a: start + 2 args, tool b: start + 2 args, finish.
    # Thinking, signature and the empty text / input_json deltas produce nothing.
    assert len(chunks) == 10
    assert [is_content_chunk(c) for c in chunks] == [False] + [True] * 8 + [False]


def test_include_usage_off_emits_no_usage_chunk() -> None:
    converter, chunks = run(STREAM, include_usage=False)
    assert all(c.choices for c in chunks)
    assert all(c.usage is None for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    assert converter.usage is not None
    assert converter.usage.completion_tokens == 42


def test_finished_and_stopped_flags() -> None:
    converter = AnthropicChunkConverter(include_usage=True)
    seen = []
    for event in STREAM:
        converter.feed(ev(event))
        seen.append((event["type"], converter.finished, converter.stopped))
    assert seen[-3][1:] == (False, False)  # last content_block_stop
    assert seen[-2] == ("message_delta", True, False)
    assert seen[-1] == ("message_stop", True, True)


def test_stream_cut_off_before_stop_reason() -> None:
    converter, chunks = run(STREAM[:8], include_usage=True)
    assert not converter.finished
    assert not converter.stopped
    assert all(c.choices and c.choices[0].finish_reason is None for c in chunks)
    assert converter.usage is not None
    assert converter.usage.prompt_tokens == 30


@pytest.mark.parametrize(
    ("stop", "finish"),
    [
        ("end_turn", "stop"),
        ("max_tokens", "length"),
        ("refusal", "content_filter"),
        ("pause_turn", "stop"),
    ],
)
def test_stream_stop_reasons(stop: str, finish: str) -> None:
    events: list[dict[str, Any]] = [
        STREAM[0],
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop, "stop_sequence": None},
            "usage": {"output_tokens": 3},
        },
    ]
    converter, chunks = run(events, include_usage=False)
    assert chunks[-1].choices[0].finish_reason == finish
    assert converter.finished


def test_message_delta_without_stop_reason_only_updates_usage() -> None:
    events: list[dict[str, Any]] = [
        STREAM[0],
        {
            "type": "message_delta",
            "delta": {"stop_reason": None, "stop_sequence": None},
            "usage": {"output_tokens": 9},
        },
        {"type": "message_stop"},
    ]
    converter, chunks = run(events, include_usage=True)
    assert not converter.finished
    assert converter.stopped
    assert len(chunks) == 2
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 9


def test_text_in_content_block_start_is_emitted() -> None:
    start = {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "text", "text": "Hi"},
    }
    _, chunks = run([STREAM[0], start], include_usage=False)
    assert chunks[-1].choices[0].delta.content == "Hi"


def test_json_delta_for_unknown_block_is_ignored() -> None:
    converter = AnthropicChunkConverter(include_usage=False)
    converter.feed(ev(STREAM[0]))
    delta = {
        "type": "content_block_delta",
        "index": 7,
        "delta": {"type": "input_json_delta", "partial_json": "{}"},
    }
    assert converter.feed(ev(delta)) == []


@given(
    args=st.dictionaries(
        st.text(max_size=8),
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False)
        | st.text(max_size=10),
        max_size=6,
    ),
    text=st.lists(st.text(max_size=12), max_size=6),
    data=st.data(),
)
def test_fragments_reassemble(args: dict[str, Any], text: list[str], data: st.DataObject) -> None:
    encoded = json.dumps(args)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(encoded)), max_size=8)))
    pieces = [encoded[a:b] for a, b in zip([0, *cuts], [*cuts, len(encoded)], strict=True)]
    events: list[dict[str, Any]] = [
        STREAM[0],
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        *(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}}
            for t in text
        ),
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {"type": "tool_use", "id": "t", "name": "f", "input": {}},
        },
        *(
            {
                "type": "content_block_delta",
                "index": 1,
                "delta": {"type": "input_json_delta", "partial_json": p},
            }
            for p in pieces
        ),
    ]
    _, chunks = run(events, include_usage=False)
    deltas = [c.choices[0].delta for c in chunks]
    assert "".join(d.content or "" for d in deltas) == "".join(text)
    fragments = [
        tc.function.arguments or "" for d in deltas for tc in d.tool_calls or [] if tc.function
    ]
    assert {tc.index for d in deltas for tc in d.tool_calls or []} == {0}
    assert json.loads("".join(fragments)) == args


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
