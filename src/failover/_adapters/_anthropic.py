"""Anthropic's Messages API behind the OpenAI chat-completions shape."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from typing import Any

import anthropic
import httpx2
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from .._config.policy import Policy, Target
from ._anthropic_convert import (
    AnthropicChunkConverter,
    from_anthropic_message,
    to_anthropic_request,
)
from ._base import SdkAdapter, close_sdk_stream, next_event
from ._bounded_io import bounded_http_client
from ._errors import reading_answer
from .chunks import checked_completion

# Per-call options that are not part of the request body and pass straight through.
_PASSTHROUGH = ("extra_headers", "extra_query", "extra_body")


class AnthropicAdapter(SdkAdapter[anthropic.Anthropic, anthropic.AsyncAnthropic]):
    """Translates the request, calls ``messages.create``, translates the answer back."""

    sdk = anthropic

    def __init__(self, target: Target, policy: Policy) -> None:
        super().__init__(target, policy)
        self._default_max_tokens = policy.default_max_tokens

    def _client_kwargs(self) -> dict[str, Any]:
        return {
            "api_key": self.target.api_key,
            "base_url": self.target.base_url,
            "max_retries": 0,
            "timeout": self._timeout,
        }

    def _make_sync(self) -> anthropic.Anthropic:
        return anthropic.Anthropic(
            **self._client_kwargs(), http_client=self._watched(bounded_http_client(anthropic))
        )

    def _make_async(self) -> anthropic.AsyncAnthropic:
        return anthropic.AsyncAnthropic(**self._client_kwargs(), **self._async_http())

    def _warm(self, client: anthropic.Anthropic | anthropic.AsyncAnthropic) -> None:
        _ = client.messages
        # anthropic loads OpenTelemetry's propagators on its first request, through a
        # cached private helper; best effort, since a warm-up must never fail a client.
        tracing = getattr(anthropic, "_tracing", None)
        injector = getattr(tracing, "trace_context_injector", None)
        if callable(injector):
            injector()

    def _request(self, params: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        body = {k: v for k, v in params.items() if k not in _PASSTHROUGH}
        options = body.pop("stream_options", None) or {}
        request = to_anthropic_request(
            body, model=self.target.model, default_max_tokens=self._default_max_tokens
        )
        request.update({k: params[k] for k in _PASSTHROUGH if k in params})
        return request, bool(options.get("include_usage"))

    def create(self, params: dict[str, Any], timeout: httpx2.Timeout) -> ChatCompletion:
        request, _ = self._request(params)
        message = self._sync.messages.create(**request, timeout=timeout)
        with reading_answer():
            return checked_completion(from_anthropic_message(message))

    async def acreate(self, params: dict[str, Any], timeout: httpx2.Timeout) -> ChatCompletion:
        request, _ = self._request(params)
        message = await self._async.messages.create(**request, timeout=timeout)
        with reading_answer():
            return checked_completion(from_anthropic_message(message))

    def stream(
        self,
        params: dict[str, Any],
        timeout: httpx2.Timeout,
    ) -> Generator[ChatCompletionChunk, None, None]:
        request, include_usage = self._request(params)
        converter = AnthropicChunkConverter(include_usage=include_usage)
        with self._sync.messages.create(**request, stream=True, timeout=timeout) as events:
            for event in events:
                with reading_answer():
                    chunks = converter.feed(event)
                yield from chunks

    async def astream(
        self, params: dict[str, Any], timeout: httpx2.Timeout
    ) -> AsyncGenerator[ChatCompletionChunk, None]:
        request, include_usage = self._request(params)
        converter = AnthropicChunkConverter(include_usage=include_usage)
        events = await self._async.messages.create(**request, stream=True, timeout=timeout)
        try:
            while (event := await next_event(events)) is not None:
                with reading_answer():
                    chunks = converter.feed(event)
                for chunk in chunks:
                    yield chunk
        finally:
            await close_sdk_stream(events)
