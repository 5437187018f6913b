"""Vendor adapters: one per wire protocol (and the static and in-process last resorts),
one surface.

Each adapter is made when a client is built, and builds the SDK client that client
needs (sync or async, never both needlessly; ``import failover`` stays cheap because
the SDKs load only then), always with ``max_retries=0`` because failover owns every
retry, and translates requests, answers and errors (``_errors`` maps every vendor
failure onto ``_core.decisions``; ``chunks`` checks what comes back).

May import: ``_core``, ``_config``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import httpx2
    from openai.types.chat import ChatCompletion, ChatCompletionChunk
    from openai.types.responses import Response

    from .._config.policy import Policy, Target
    from .._core.decisions import Failure

__all__ = ["Adapter", "NativeResponses", "make_adapter"]


class Adapter(Protocol):
    """What the router needs from a provider: calls, streams and error mapping."""

    def create(self, params: dict[str, Any], timeout: httpx2.Timeout) -> ChatCompletion: ...

    async def acreate(self, params: dict[str, Any], timeout: httpx2.Timeout) -> ChatCompletion: ...

    def stream(
        self,
        params: dict[str, Any],
        timeout: httpx2.Timeout,
    ) -> Generator[ChatCompletionChunk, None, None]: ...

    def astream(
        self, params: dict[str, Any], timeout: httpx2.Timeout
    ) -> AsyncGenerator[ChatCompletionChunk, None]: ...

    def failure(self, exc: BaseException) -> Failure | None: ...

    def preload(self, *, asynchronous: bool) -> None: ...

    def watch(self, on_headers: Callable[[Mapping[str, str]], None]) -> None: ...

    def close(self) -> None: ...

    async def aclose(self) -> None: ...


class NativeResponses(Protocol):
    """What an adapter of a target that serves the Responses API adds (``_openai.py``):
    ``Target.native_responses`` says which targets have it."""

    def respond(self, params: dict[str, Any], timeout: httpx2.Timeout) -> Response: ...

    async def arespond(self, params: dict[str, Any], timeout: httpx2.Timeout) -> Response: ...

    # Each item is an ``EventChunk`` (``responses_events.py``): it reads like a
    # ChatCompletionChunk to the chat streams' machinery and carries its event.
    def respond_stream(
        self, params: dict[str, Any], timeout: httpx2.Timeout
    ) -> Generator[Any, None, None]: ...

    def arespond_stream(
        self, params: dict[str, Any], timeout: httpx2.Timeout
    ) -> AsyncGenerator[Any, None]: ...


def make_adapter(target: Target, policy: Policy) -> Adapter:
    """The adapter for ``target``'s wire protocol (imports that vendor SDK now)."""
    if target.api == "static":
        from ._static import StaticAdapter

        return StaticAdapter(target, policy)
    if target.api == "local":
        from ._local import LocalAdapter

        return LocalAdapter(target, policy)
    if target.api == "anthropic":
        from ._anthropic import AnthropicAdapter

        return AnthropicAdapter(target, policy)
    if target.api == "bedrock":
        from ._clouds import BedrockAdapter

        return BedrockAdapter(target, policy)
    if target.api == "vertex":
        from ._clouds import VertexAdapter

        return VertexAdapter(target, policy)
    from ._openai import OpenAIAdapter

    return OpenAIAdapter(target, policy)
