"""The raw bytes on the wire, read without any SDK: event order, terminators, error bodies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from failover.testing import FakeProvider, Fault, Reply, ToolCall

from ._sdk import Api

BODY = {"model": "m", "messages": [{"role": "user", "content": "one two three"}], "max_tokens": 9}


@pytest.fixture
def http() -> Iterator[httpx2.Client]:
    with httpx2.Client(timeout=5.0) as client:
        yield client


def send(http: httpx2.Client, fake: FakeProvider, **extra: Any) -> httpx2.Response:
    path = "/v1/chat/completions" if fake.api == "openai" else "/v1/messages"
    return http.post(fake.url + path, json={**BODY, **extra})


def sse(text: str) -> list[tuple[str | None, str]]:
    """``(event name, data)`` for each server-sent event."""
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields.get("event"), fields["data"]))
    return events


def streamed_text(api: Api, text: str) -> str:
    """The text deltas of a raw stream, joined."""
    chunks = [json.loads(data) for _, data in sse(text) if data != "[DONE]"]
    if api == "openai":
        return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    return "".join(c["delta"].get("text", "") for c in chunks if c["type"] == "content_block_delta")


def test_openai_stream_shape(http: httpx2.Client) -> None:
    with FakeProvider("openai", reply=Reply("hi!", tool_calls=[ToolCall("f", {"a": 1})])) as fake:
        response = send(http, fake, stream=True, stream_options={"include_usage": True})
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    events = sse(response.text)
    assert all(name is None for name, _ in events)
    assert events[-1][1] == "[DONE]"
    chunks = [json.loads(data) for _, data in events[:-1]]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": "", "refusal": None}
    opening = chunks[2]["choices"][0]["delta"]["tool_calls"][0]
    assert opening["function"] == {"name": "f", "arguments": ""} and opening["id"]
    assert [c["choices"][0]["finish_reason"] for c in chunks[:-1]][-1] == "tool_calls"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["prompt_tokens"] == 3
    assert {c["model"] for c in chunks} == {"m"}


def test_anthropic_stream_shape(http: httpx2.Client) -> None:
    with FakeProvider("anthropic", reply=Reply("hi", tool_calls=[ToolCall("f", {})])) as fake:
        response = send(http, fake, stream=True)
    names = [name for name, _ in sse(response.text)]
    assert names == [
        "message_start",
        "ping",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert all(json.loads(data)["type"] == name for name, data in sse(response.text))


@pytest.mark.parametrize("api", ["openai", "anthropic"])
def test_cut_stream_has_no_chunked_terminator(http: httpx2.Client, api: Api) -> None:
    with FakeProvider(api) as fake:
        fake.enqueue(Fault.cut(after_chunks=1))
        with pytest.raises(httpx2.RemoteProtocolError, match="incomplete chunked read"):
            send(http, fake, stream=True)


@pytest.mark.parametrize(
    ("api", "terminator"), [("openai", "[DONE]"), ("anthropic", "message_stop")]
)
def test_no_terminator_stream_ends_cleanly_without_it(
    http: httpx2.Client, api: Api, terminator: str
) -> None:
    with FakeProvider(api) as fake:
        fake.enqueue(Fault.no_terminator(after_chunks=99))
        text = send(http, fake, stream=True).text  # a clean end: no error
    assert streamed_text(api, text) == "Hello from the fake provider."  # all content...
    assert terminator not in text  # ...but no terminator,
    assert '"finish_reason":"stop"' not in text and "message_delta" not in text  # nor finish


def test_inband_error_events(http: httpx2.Client) -> None:
    with FakeProvider("openai") as oai, FakeProvider("anthropic") as ant:
        oai.enqueue(Fault.inband_error(after_chunks=0))
        ant.enqueue(Fault.inband_error(after_chunks=0))
        openai_events = sse(send(http, oai, stream=True).text)
        anthropic_events = sse(send(http, ant, stream=True).text)
    assert json.loads(openai_events[-1][1])["error"]["type"] == "server_error"
    name, data = anthropic_events[-1]
    assert name == "error"
    assert json.loads(data)["error"] == {"type": "overloaded_error", "message": "Overloaded"}


@pytest.mark.parametrize("api", ["openai", "anthropic"])
def test_error_bodies_have_the_vendor_shape(http: httpx2.Client, api: Api) -> None:
    with FakeProvider(api) as fake:
        fake.enqueue(Fault.status(429, message="slow down"))
        response = send(http, fake, stream=True)
    assert response.headers["content-type"] == "application/json"  # JSON even for streams
    body = response.json()
    if api == "openai":
        assert body == {
            "error": {
                "message": "slow down",
                "type": "requests",
                "param": None,
                "code": "rate_limit_exceeded",
            }
        }
        assert response.headers["x-request-id"] == "req_fake000001"
    else:
        assert body["type"] == "error"
        assert body["error"] == {"type": "rate_limit_error", "message": "slow down"}
        assert response.headers["request-id"] == "req_fake000001"


def test_malformed_json_is_valid_http(http: httpx2.Client) -> None:
    with FakeProvider("openai") as fake:
        fake.enqueue(Fault.malformed_json())
        response = send(http, fake)
    assert response.status_code == 200
    assert int(response.headers["content-length"]) == len(response.content)
    with pytest.raises(json.JSONDecodeError):
        response.json()
