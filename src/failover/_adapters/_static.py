"""The static last resort: a fixed, honest answer when every provider is down.

It never touches the network, so it cannot fail: it has no SDK, no client and no
failure to map. Its answers are ordinary openai objects, so callers need no special
case; the attempt log marks them degraded.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from typing import Any

import httpx2
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.completion_usage import CompletionUsage

from .._config.policy import Policy, Target
from .._core.decisions import Failure

__all__ = ["StaticAdapter"]

_ZERO = CompletionUsage(prompt_tokens=0, completion_tokens=0, total_tokens=0)


class StaticAdapter:
    """Answers ``Target.static_message`` for ``static/<name>``; params are ignored."""

    def __init__(self, target: Target, policy: Policy) -> None:
        assert target.static_message is not None
        self.target = target
        self._text = target.static_message

    def _identity(self) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-static-{uuid.uuid4().hex[:16]}",
            "created": int(time.time()),
            "model": self.target.label,
        }

    def create(self, params: dict[str, Any], timeout: httpx2.Timeout) -> ChatCompletion:
        return ChatCompletion.model_validate(
            {
                **self._identity(),
                "object": "chat.completion",
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": self._text},
                    }
                ],
                "usage": _ZERO.model_dump(),
            }
        )

    async def acreate(self, params: dict[str, Any], timeout: httpx2.Timeout) -> ChatCompletion:
        return self.create(params, timeout)

    def _chunks(self, params: dict[str, Any]) -> list[ChatCompletionChunk]:
        identity = {**self._identity(), "object": "chat.completion.chunk"}
        deltas: list[tuple[dict[str, Any], str | None]] = [
            ({"role": "assistant", "content": ""}, None),
            ({"content": self._text}, None),
            ({}, "stop"),
        ]
        chunks = [
            ChatCompletionChunk.model_validate(
                {**identity, "choices": [{"index": 0, "delta": d, "finish_reason": why}]}
            )
            for d, why in deltas
        ]
        if (params.get("stream_options") or {}).get("include_usage"):
            usage = {**identity, "choices": [], "usage": _ZERO.model_dump()}
            chunks.append(ChatCompletionChunk.model_validate(usage))
        return chunks

    def stream(
        self, params: dict[str, Any], timeout: httpx2.Timeout
    ) -> Generator[ChatCompletionChunk, None, None]:
        yield from self._chunks(params)

    async def astream(
        self, params: dict[str, Any], timeout: httpx2.Timeout
    ) -> AsyncGenerator[ChatCompletionChunk, None]:
        for chunk in self._chunks(params):
            yield chunk

    def failure(self, exc: BaseException) -> Failure | None:
        return None  # nothing here can fail the way a provider does

    def watch(self, on_headers: Callable[[Mapping[str, str]], None]) -> None:
        """Nothing to watch: no HTTP, no rate-limit headers."""

    def preload(self, *, asynchronous: bool) -> None:
        pass

    def close(self) -> None:
        pass

    async def aclose(self) -> None:
        pass
