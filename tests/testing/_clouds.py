"""Call the fake clouds with the anthropic SDK's ``AnthropicBedrock`` and ``AnthropicVertex``
clients (sync or async), or raw; decode Bedrock event streams with botocore."""

from __future__ import annotations

import importlib
from typing import Any, Literal

import anthropic
import httpx2
from anthropic.types import Message, MessageParam

from failover.testing import FakeProvider, Reply, ToolCall

# botocore has no type hints; the anthropic SDK's Bedrock stream decoder uses this class.
EventStreamBuffer: Any = importlib.import_module("botocore.eventstream").EventStreamBuffer

Cloud = Literal["bedrock", "vertex"]
Client = anthropic.AnthropicBedrock | anthropic.AnthropicVertex
AsyncClient = anthropic.AsyncAnthropicBedrock | anthropic.AsyncAnthropicVertex

MESSAGES: list[MessageParam] = [{"role": "user", "content": "Say hello"}]
BEDROCK_MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
ARN = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4"
VERTEX_MODEL = "claude-sonnet-4-5@20250929"
CORAL = ":http://internal.amazon.com/coral/com.amazon.bedrock/"
FIRST_CHUNK = "Hello fr"  # the default reply's first 8-character chunk
TOOL_REPLY = Reply("Checking.", tool_calls=[ToolCall("get_weather", {"city": "Paris"})])


def model_for(cloud: Cloud) -> str:
    return BEDROCK_MODEL if cloud == "bedrock" else VERTEX_MODEL


def credentials(fake: FakeProvider) -> dict[str, Any]:
    """Dummy credentials: SigV4 is computed locally, and a Vertex token skips google-auth."""
    if fake.api == "bedrock":
        return {"aws_region": "us-east-1", "aws_access_key": "AKIDEXAMPLE", "aws_secret_key": "s"}
    return {"region": "us-east5", "project_id": "proj", "access_token": "tok"}


def client(fake: FakeProvider) -> Client:
    cls = anthropic.AnthropicBedrock if fake.api == "bedrock" else anthropic.AnthropicVertex
    return cls(base_url=fake.base_url, max_retries=0, timeout=5.0, **credentials(fake))


def async_client(fake: FakeProvider) -> AsyncClient:
    bedrock = fake.api == "bedrock"
    cls = anthropic.AsyncAnthropicBedrock if bedrock else anthropic.AsyncAnthropicVertex
    return cls(base_url=fake.base_url, max_retries=0, timeout=5.0, **credentials(fake))


def ask(fake: FakeProvider, *, stream: bool, model: str = "m") -> Message:
    with client(fake) as sdk:
        if not stream:
            return sdk.messages.create(model=model, max_tokens=64, messages=MESSAGES)
        with sdk.messages.stream(model=model, max_tokens=64, messages=MESSAGES) as events:
            return events.get_final_message()


async def ask_async(fake: FakeProvider, *, stream: bool, model: str = "m") -> Message:
    async with async_client(fake) as sdk:
        if not stream:
            return await sdk.messages.create(model=model, max_tokens=64, messages=MESSAGES)
        async with sdk.messages.stream(model=model, max_tokens=64, messages=MESSAGES) as events:
            return await events.get_final_message()


def post_bedrock(
    http: httpx2.Client,
    fake: FakeProvider,
    path: str = "/model/m/invoke-with-response-stream",
    body: dict[str, Any] | None = None,
    auth: str | None = "Bearer k",
) -> httpx2.Response:
    """A raw request to the Bedrock fake, bypassing the SDK."""
    body = (
        {"anthropic_version": "bedrock-2023-05-31", "messages": MESSAGES, "max_tokens": 9}
        if body is None
        else body
    )
    return http.post(fake.url + path, json=body, headers={"authorization": auth} if auth else {})


def frames(content: bytes) -> list[Any]:
    """botocore's decoding of an event stream fed 7 bytes at a time; it checks both CRCs."""
    buffer = EventStreamBuffer()
    for i in range(0, len(content), 7):
        buffer.add_data(content[i : i + 7])
    return list(buffer)


def stream_until_error(fake: FakeProvider) -> tuple[str, BaseException]:
    """Stream an answer that fails: the text that arrived and the exception."""
    text = ""
    with client(fake) as sdk:
        try:
            for event in sdk.messages.create(
                model="m", max_tokens=64, messages=MESSAGES, stream=True
            ):
                if event.type == "content_block_delta" and event.delta.type == "text_delta":
                    text += event.delta.text
        except Exception as exc:
            return text, exc
    raise AssertionError(f"the stream ended without an error after {text!r}")


def check_text(message: Message, model: str = "m") -> None:
    assert [b.type for b in message.content] == ["text"]
    assert message.content[0].type == "text" and message.content[0].text == Reply().text
    assert (message.stop_reason, message.model) == ("end_turn", model)
    assert message.usage.output_tokens == Reply().chunk_count()


def check_tool_call(message: Message) -> None:
    text, tool = message.content
    assert text.type == "text" and text.text == "Checking."
    assert tool.type == "tool_use" and (tool.name, tool.input) == ("get_weather", {"city": "Paris"})
    assert message.stop_reason == "tool_use"
