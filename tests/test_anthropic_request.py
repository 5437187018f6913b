"""OpenAI requests to Anthropic's: parameters, what is refused, tools."""

from __future__ import annotations

from typing import Any

import pytest

from failover._adapters._anthropic_convert import to_anthropic_request
from failover._core.errors import RequestRejected, UnsupportedParameter

from ._anthropic import PNG, USER, convert

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
