"""OpenAI messages to Anthropic's: merging, images, prefill."""

from __future__ import annotations

import json
from typing import Any

import pytest

from failover._core.errors import UnsupportedParameter

from ._anthropic import PNG, USER, convert

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
