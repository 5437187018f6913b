"""Drive the real openai and anthropic SDKs (sync or async, JSON or stream) at a fake.

``Caller.run()`` makes one chat call and returns an :class:`Outcome`: what arrived before
the call ended, and the exception it ended with (if any). Tests then assert on it, which
keeps every fault test one line of scripting and a few lines of expectations.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import anthropic
import httpx2
import openai

Api = Literal["openai", "anthropic"]
Flavor = Literal["sync", "async"]

E = TypeVar("E", bound=BaseException)

API_KEY = "sk-test-secret-key"
PROMPT = "Say hello to the fake provider"


@dataclass
class ToolSeen:
    id: str | None = None
    name: str = ""
    arguments: str = ""

    def parsed(self) -> Any:
        return json.loads(self.arguments)


@dataclass
class Outcome:
    """What one SDK call produced."""

    text: str = ""
    finish_reason: str | None = None
    model: str | None = None
    usage: tuple[int, int] | None = None  # (prompt/input, completion/output)
    tools: dict[int, ToolSeen] = field(default_factory=dict)
    chunks: int = 0  # streamed chunks/events the SDK yielded
    error: BaseException | None = None
    elapsed: float = 0.0

    def raised(self, kind: type[E]) -> E:
        """The error, asserted to be a ``kind`` (with a readable failure otherwise)."""
        assert isinstance(self.error, kind), f"expected {kind.__name__}, got {self.error!r}"
        return self.error

    def ok(self) -> Outcome:
        assert self.error is None, f"unexpected error {self.error!r}"
        return self


def sdk(api: str) -> Any:
    """The vendor SDK module, so tests can say ``sdk(api).RateLimitError``."""
    assert api in ("openai", "anthropic"), f"no plain SDK for {api!r}"
    return openai if api == "openai" else anthropic


@dataclass
class Caller:
    """One way to call a fake: vendor, sync/async, JSON/stream.

    ``api`` is a :attr:`FakeProvider.api`; only the plain openai and anthropic SDKs are
    driven here (the cloud clients are in ``test_fake_clouds.py``).
    """

    api: str
    flavor: Flavor
    stream: bool
    base_url: str
    timeout: float = 5.0

    def __post_init__(self) -> None:
        sdk(self.api)

    @property
    def family(self) -> Api:
        return "openai" if self.api == "openai" else "anthropic"

    def run(
        self,
        *,
        model: str | None = None,
        timeout: float | None = None,
        include_usage: bool = False,
        max_tokens: int = 64,
    ) -> Outcome:
        kwargs: dict[str, Any] = {
            "model": model or ("gpt-fake" if self.api == "openai" else "claude-fake"),
            "messages": [{"role": "user", "content": PROMPT}],
        }
        if self.api == "anthropic":
            kwargs["max_tokens"] = max_tokens
        if include_usage:
            kwargs["stream_options"] = {"include_usage": True}
        out = Outcome()
        started = time.monotonic()
        try:
            if self.flavor == "sync":
                self._sync(out, kwargs, timeout or self.timeout)
            else:
                asyncio.run(self._async(out, kwargs, timeout or self.timeout))
        except Exception as exc:
            out.error = exc
        out.elapsed = time.monotonic() - started
        return out

    # -- sync ----------------------------------------------------------------------------

    def _sync(self, out: Outcome, kwargs: dict[str, Any], timeout: float) -> None:
        with httpx2.Client() as http:
            if self.api == "openai":
                oai = openai.OpenAI(**self._options(http, timeout))
                if not self.stream:
                    return _openai_message(out, oai.chat.completions.create(**kwargs))
                with oai.chat.completions.create(**kwargs, stream=True) as chunks:
                    for chunk in chunks:
                        _openai_chunk(out, chunk)
            else:
                ant = anthropic.Anthropic(**self._options(http, timeout))
                if not self.stream:
                    return _anthropic_message(out, ant.messages.create(**kwargs))
                with ant.messages.create(**kwargs, stream=True) as events:
                    for event in events:
                        _anthropic_event(out, event)
        return None

    # -- async ---------------------------------------------------------------------------

    def _options(self, http: httpx2.Client | httpx2.AsyncClient, timeout: float) -> dict[str, Any]:
        """SDK client options: no SDK retries, so every fault surfaces as the SDK raises it."""
        return {
            "api_key": API_KEY,
            "base_url": self.base_url,
            "max_retries": 0,
            "timeout": timeout,
            "http_client": http,
        }

    async def _async(self, out: Outcome, kwargs: dict[str, Any], timeout: float) -> None:
        async with httpx2.AsyncClient() as http:
            if self.api == "openai":
                oai = openai.AsyncOpenAI(**self._options(http, timeout))
                if not self.stream:
                    return _openai_message(out, await oai.chat.completions.create(**kwargs))
                async with await oai.chat.completions.create(**kwargs, stream=True) as chunks:
                    async for chunk in chunks:
                        _openai_chunk(out, chunk)
            else:
                ant = anthropic.AsyncAnthropic(**self._options(http, timeout))
                if not self.stream:
                    return _anthropic_message(out, await ant.messages.create(**kwargs))
                async with await ant.messages.create(**kwargs, stream=True) as events:
                    async for event in events:
                        _anthropic_event(out, event)
        return None


# -- collecting what the SDKs parsed ---------------------------------------------------------


def _openai_message(out: Outcome, completion: Any) -> None:
    out.model = completion.model
    if completion.usage is not None:
        out.usage = (completion.usage.prompt_tokens, completion.usage.completion_tokens)
    for choice in completion.choices:
        out.text += choice.message.content or ""
        out.finish_reason = choice.finish_reason
        for i, call in enumerate(choice.message.tool_calls or []):
            out.tools[i] = ToolSeen(call.id, call.function.name, call.function.arguments)


def _openai_chunk(out: Outcome, chunk: Any) -> None:
    out.chunks += 1
    out.model = chunk.model
    if chunk.usage is not None:
        out.usage = (chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
    for choice in chunk.choices:
        out.text += choice.delta.content or ""
        out.finish_reason = choice.finish_reason or out.finish_reason
        for delta in choice.delta.tool_calls or []:
            seen = out.tools.setdefault(delta.index, ToolSeen())
            seen.id = delta.id or seen.id
            if delta.function is not None:
                seen.name += delta.function.name or ""
                seen.arguments += delta.function.arguments or ""


def _anthropic_message(out: Outcome, message: Any) -> None:
    out.model = message.model
    out.usage = (message.usage.input_tokens, message.usage.output_tokens)
    out.finish_reason = message.stop_reason
    for i, block in enumerate(b for b in message.content if b.type == "tool_use"):
        out.tools[i] = ToolSeen(block.id, block.name, json.dumps(block.input))
    out.text = "".join(b.text for b in message.content if b.type == "text")


def _anthropic_event(out: Outcome, event: Any) -> None:
    out.chunks += 1
    if event.type == "message_start":
        out.model = event.message.model
        out.usage = (event.message.usage.input_tokens, event.message.usage.output_tokens)
    elif event.type == "content_block_start" and event.content_block.type == "tool_use":
        block = event.content_block
        out.tools[len(out.tools)] = ToolSeen(block.id, block.name, "")
    elif event.type == "content_block_delta" and event.delta.type == "text_delta":
        out.text += event.delta.text
    elif event.type == "content_block_delta" and event.delta.type == "input_json_delta":
        out.tools[len(out.tools) - 1].arguments += event.delta.partial_json
    elif event.type == "message_delta":
        out.finish_reason = event.delta.stop_reason
        assert out.usage is not None
        out.usage = (out.usage[0], event.usage.output_tokens)
