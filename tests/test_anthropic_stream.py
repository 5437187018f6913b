"""Anthropic's stream events to OpenAI chunks."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openai.types.chat import ChatCompletionChunk

from failover._adapters._anthropic_convert import AnthropicChunkConverter
from failover._adapters.chunks import is_content_chunk

from ._anthropic import ev

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
