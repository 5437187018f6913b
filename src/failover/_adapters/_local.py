"""A model inside this process (llama.cpp) behind the chat-completions shape.

``local/<model>`` needs no server and no network: the last resort when the network
itself is the outage. The request is checked against what llama.cpp can honour
(anything else is an ``UnsupportedParameter``, so the target is skipped and logged,
never silently approximated); answers are ordinary openai objects with usage and a
finish reason. The model, its lock and its worker thread live in ``_llama.py``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncGenerator, Callable, Generator, Iterable, Iterator, Mapping
from typing import Any

import httpx2
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from .._config.policy import Policy, Target
from .._core.deadline import attempt_scope, time_left
from .._core.decisions import Failure
from .._core.errors import UnsupportedParameter
from ._errors import ProviderFault, malformed_answer
from ._llama import Model, Stop, load
from .chunks import checked_completion

__all__ = ["LocalAdapter", "to_llama_request"]

# Passed to llama.cpp as they are.
_PASSED = frozenset(
    {"max_tokens", "temperature", "top_p", "stop", "seed", "presence_penalty", "frequency_penalty"}
)
# Meaningful only to a provider's servers (tracking, caching, HTTP), or handled here.
_IGNORED = frozenset(
    {
        "user",
        "metadata",
        "store",
        "safety_identifier",
        "prompt_cache_key",
        "extra_headers",
        "extra_query",
        "stream",
        "stream_options",
    }
)
_ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}

Pieces = Iterable[tuple[dict[str, Any], int]]


def _unsupported(what: str) -> UnsupportedParameter:
    return UnsupportedParameter(f"{what} is not supported by a local model (llama.cpp)")


def _message(message: Any) -> dict[str, str]:
    role = _ROLES.get(message.get("role", "")) if isinstance(message, dict) else None
    if role is None or message.get("tool_calls") or message.get("function_call"):
        shown = message.get("role") if isinstance(message, dict) else type(message).__name__
        raise _unsupported(f"a message of role {shown!r} (or with tool calls)")
    content = message.get("content")
    if isinstance(content, list):  # parts: only text can reach a text model
        if any(not isinstance(p, dict) or p.get("type") != "text" for p in content):
            raise _unsupported("a message part other than text")
        content = "\n".join(str(p.get("text", "")) for p in content)
    if not isinstance(content, str):
        raise _unsupported(f"a {role} message without text content")
    return {"role": role, "content": content}


def to_llama_request(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` (chat completions) as ``Llama.create_chat_completion`` arguments."""
    request: dict[str, Any] = {}
    for key, value in params.items():
        if value is None or key in _IGNORED:
            continue
        if key == "messages":
            request["messages"] = [_message(m) for m in value]
        elif key == "max_completion_tokens":
            request["max_tokens"] = value
        elif key in _PASSED:
            request[key] = value
        elif not ((key == "n" and value == 1) or (key == "extra_body" and not value)):
            raise _unsupported(f"parameter {key!r}")
    if not request.get("messages"):
        raise _unsupported("a request without messages")
    return request


class LocalAdapter:
    """Generates with the process's :class:`Model`, sync on the caller's thread, async
    on the model's worker thread."""

    def __init__(self, target: Target, policy: Policy) -> None:
        assert target.model_path is not None
        self.target = target
        # Adapters are made when the client is built: the model loads now, not in a call.
        self.model: Model = load(target.model_path)

    def watch(self, on_headers: Callable[[Mapping[str, str]], None]) -> None:
        """Nothing to watch: no HTTP, no rate-limit headers."""

    def preload(self, *, asynchronous: bool) -> None:
        pass  # loaded in __init__; it has no SDK client to build

    def failure(self, exc: BaseException) -> Failure | None:
        if isinstance(exc, ProviderFault):
            return exc.failure
        if isinstance(exc, TimeoutError | Stop):  # the attempt's time ran out meanwhile
            return Failure(transport="timeout", message="the local model ran out of time")
        return None

    # -- shaping llama's chunks as openai's ---------------------------------------
    def _chunk(self, raw: dict[str, Any], **extra: Any) -> ChatCompletionChunk:
        return ChatCompletionChunk.model_validate(
            {**raw, "model": self.target.model, "object": "chat.completion.chunk", **extra}
        )

    def _chunks(self, pieces: Pieces, include_usage: bool) -> Iterator[ChatCompletionChunk]:
        prompt, completion, last = 0, 0, None
        for raw, context in pieces:
            if last is None:
                prompt = context
            last = raw
            delta = raw["choices"][0]["delta"]
            completion += bool(delta.get("content"))  # llama's stream: one token a chunk
            yield self._chunk(raw)
        if include_usage and last is not None:
            yield self._chunk(last, choices=[], usage=_usage(prompt, completion))

    def _completion(self, pieces: Pieces) -> ChatCompletion:
        text: list[str] = []
        finish, first, usage = None, None, None
        for chunk in self._chunks(pieces, include_usage=True):
            first = first or chunk
            if chunk.usage is not None:
                usage = chunk.usage.model_dump()
            for choice in chunk.choices:
                text.append(choice.delta.content or "")
                finish = choice.finish_reason or finish
        if first is None:
            raise malformed_answer("the local model produced nothing")
        return checked_completion(
            ChatCompletion.model_validate(
                {
                    "id": first.id,
                    "created": first.created,
                    "model": self.target.model,
                    "object": "chat.completion",
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": finish,
                            "message": {"role": "assistant", "content": "".join(text)},
                        }
                    ],
                    "usage": usage,
                }
            )
        )

    # -- blocking -----------------------------------------------------------------
    def create(self, params: dict[str, Any], timeout: httpx2.Timeout) -> ChatCompletion:
        request = to_llama_request(params)  # an unsupported parameter skips the target
        until = _until(timeout, time_left())
        return self._completion(
            self.model.generate(request, until=until, idle=None, stopped=_hedge_lost())
        )

    def stream(
        self, params: dict[str, Any], timeout: httpx2.Timeout
    ) -> Generator[ChatCompletionChunk, None, None]:
        # This body runs at the first chunk asked for, inside the opener's bound.
        request, include_usage = to_llama_request(params), _include_usage(params)
        until = _until(timeout, time_left())
        pieces = self.model.generate(
            request, until=until, idle=_seconds(timeout), stopped=_hedge_lost()
        )
        yield from self._chunks(pieces, include_usage)

    # -- asyncio: the generation runs on the model's worker thread ------------------
    async def acreate(self, params: dict[str, Any], timeout: httpx2.Timeout) -> ChatCompletion:
        request, stop = to_llama_request(params), threading.Event()
        # The wait in the worker's queue counts: the time runs from now.
        pieces = self.model.generate(request, until=_until(timeout), idle=None, stopped=stop.is_set)
        job = self.model.worker.submit(self._completion, pieces)
        try:
            return await asyncio.wrap_future(job)
        finally:
            stop.set()  # a cancelled call stops the generation at its next token

    async def astream(
        self, params: dict[str, Any], timeout: httpx2.Timeout
    ) -> AsyncGenerator[ChatCompletionChunk, None]:
        request, include_usage = to_llama_request(params), _include_usage(params)
        stop = threading.Event()
        pieces = self.model.generate(
            request, until=_until(timeout), idle=_seconds(timeout), stopped=stop.is_set
        )
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[ChatCompletionChunk | BaseException | None] = asyncio.Queue()

        def put(item: ChatCompletionChunk | BaseException | None) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop closed: nobody is reading any more
                stop.set()

        def produce() -> None:
            try:
                for chunk in self._chunks(pieces, include_usage):
                    put(chunk)
                put(None)
            except BaseException as exc:
                put(exc)

        job = self.model.worker.submit(produce)
        try:
            while (item := await queue.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            job.cancel()  # not started yet: it never will

    def close(self) -> None:
        pass  # the model belongs to the process: other clients may use it

    async def aclose(self) -> None:
        pass


Stopped = Callable[[], bool]


def _hedge_lost() -> Stopped:
    """For a blocking attempt: whether a hedge called it off (``_core/deadline.py``'s ``Scope``)."""
    scope = attempt_scope()
    return (lambda: scope.cancelled) if scope is not None else (lambda: False)


def _seconds(timeout: httpx2.Timeout) -> float:
    return timeout.read if timeout.read is not None else float("inf")


def _until(timeout: httpx2.Timeout, bound: float | None = None) -> float:
    """When the wait for the model and the first token (or a call's whole generation)
    must end: the attempt's time from now, or a tighter bound the router set."""
    seconds = _seconds(timeout)
    return time.monotonic() + (seconds if bound is None else min(seconds, bound))


def _include_usage(params: dict[str, Any]) -> bool:
    return bool((params.get("stream_options") or {}).get("include_usage"))


def _usage(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
