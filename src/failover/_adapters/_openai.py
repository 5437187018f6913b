"""OpenAI and every OpenAI-compatible endpoint (Azure, Ollama, vLLM, Groq, ...)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from typing import Any

import httpx2
import openai
from openai.types import CreateEmbeddingResponse
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.responses import Response

from ._base import SdkAdapter, close_sdk_stream, next_event
from ._bounded_io import bounded_http_client
from ._errors import malformed_answer
from .chunks import checked_chunk, checked_completion, checked_embeddings, checked_response
from .responses_events import EventChunk, EventReader

# Local servers (Ollama, vLLM) take no key, but the SDK refuses to start without one.
_NO_KEY = "no-key-needed"


class OpenAIAdapter(SdkAdapter[openai.OpenAI, openai.AsyncOpenAI]):
    """Calls ``chat.completions.create`` on the target; answers need no translation."""

    sdk = openai

    def _client_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "api_key": self.target.api_key or _NO_KEY,
            "max_retries": 0,
            "timeout": self._timeout,
        }
        if self.target.azure:
            kwargs["azure_endpoint"] = self.target.base_url
            kwargs["api_version"] = self.target.api_version
        else:
            kwargs["base_url"] = self.target.base_url
        return kwargs

    def _make_sync(self) -> openai.OpenAI:
        cls = openai.AzureOpenAI if self.target.azure else openai.OpenAI
        return cls(**self._client_kwargs(), http_client=self._watched(bounded_http_client(openai)))

    def _make_async(self) -> openai.AsyncOpenAI:
        cls = openai.AsyncAzureOpenAI if self.target.azure else openai.AsyncOpenAI
        return cls(**self._client_kwargs(), **self._async_http())

    def _warm(self, client: openai.OpenAI | openai.AsyncOpenAI) -> None:
        _ = client.chat.completions

    def create(self, params: dict[str, Any], timeout: httpx2.Timeout) -> ChatCompletion:
        answer = self._sync.chat.completions.create(
            model=self.target.model, **params, timeout=timeout
        )
        return checked_completion(answer)

    async def acreate(self, params: dict[str, Any], timeout: httpx2.Timeout) -> ChatCompletion:
        answer = await self._async.chat.completions.create(
            model=self.target.model, **params, timeout=timeout
        )
        return checked_completion(answer)

    def stream(
        self,
        params: dict[str, Any],
        timeout: httpx2.Timeout,
    ) -> Generator[ChatCompletionChunk, None, None]:
        with self._sync.chat.completions.create(
            model=self.target.model, **params, stream=True, timeout=timeout
        ) as events:
            for chunk in events:
                yield checked_chunk(chunk)

    async def astream(
        self, params: dict[str, Any], timeout: httpx2.Timeout
    ) -> AsyncGenerator[ChatCompletionChunk, None]:
        events = await self._async.chat.completions.create(
            model=self.target.model, **params, stream=True, timeout=timeout
        )
        try:
            while (chunk := await next_event(events)) is not None:
                yield checked_chunk(chunk)
        finally:
            await close_sdk_stream(events)

    # -- the Responses API, where the target serves it (``_api/responses.py``) ----------
    def respond(self, params: dict[str, Any], timeout: httpx2.Timeout) -> Response:
        answer = self._sync.responses.create(model=self.target.model, **params, timeout=timeout)
        return checked_response(answer)

    def respond_stream(
        self, params: dict[str, Any], timeout: httpx2.Timeout
    ) -> Generator[EventChunk, None, None]:
        reader = EventReader()
        with self._sync.responses.create(
            model=self.target.model, **params, stream=True, timeout=timeout
        ) as events:
            for event in events:
                yield reader.chunk(event)

    async def arespond_stream(
        self, params: dict[str, Any], timeout: httpx2.Timeout
    ) -> AsyncGenerator[EventChunk, None]:
        reader = EventReader()
        events = await self._async.responses.create(
            model=self.target.model, **params, stream=True, timeout=timeout
        )
        try:
            while (event := await next_event(events)) is not None:
                yield reader.chunk(event)
        finally:
            await close_sdk_stream(events)

    async def arespond(self, params: dict[str, Any], timeout: httpx2.Timeout) -> Response:
        answer = await self._async.responses.create(
            model=self.target.model, **params, timeout=timeout
        )
        return checked_response(answer)

    # -- embeddings (``_api/embeddings.py``) ------------------------------------------------
    # The openai SDK decodes base64 vectors itself and raises a bare ValueError ("No
    # embedding data received") on an answer without them: a bad answer, not a bad request.
    def embed(self, params: dict[str, Any], timeout: httpx2.Timeout) -> CreateEmbeddingResponse:
        try:
            answer = self._sync.embeddings.create(
                model=self.target.model, **params, timeout=timeout
            )
        except ValueError as exc:
            raise malformed_answer(f"unreadable embeddings: {exc}") from exc
        return checked_embeddings(answer, params)

    async def aembed(
        self, params: dict[str, Any], timeout: httpx2.Timeout
    ) -> CreateEmbeddingResponse:
        try:
            answer = await self._async.embeddings.create(
                model=self.target.model, **params, timeout=timeout
            )
        except ValueError as exc:
            raise malformed_answer(f"unreadable embeddings: {exc}") from exc
        return checked_embeddings(answer, params)
