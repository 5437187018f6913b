"""``client.chat.completions``: the OpenAI-shaped chat call, plain or streamed.

Imported when a client is built (``_client.py``), not with ``import failover``, so it
imports the routing machinery at its top: an import statement inside a function costs
about half a microsecond on every call that runs it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast, overload

from .._core.attempts import Report, WithReport
from .._core.errors import UnsupportedParameter
from .._routing.call import Call
from .._routing.drive import run_async, run_sync
from .._routing.privacy import Guard
from .._telemetry import otel as telemetry
from .async_stream import AsyncChatStream
from .stream import ChatStream

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletion, ParsedChatCompletion

    from .._adapters import Adapter
    from .._config.policy import Target
    from .._routing.router import Router

__all__ = ["AsyncChat", "AsyncCompletions", "Chat", "Completions"]

M = TypeVar("M")  # the Pydantic model of ``parse``


def _prepare(params: dict[str, Any]) -> dict[str, Any]:
    if "model" in params:
        raise UnsupportedParameter(
            "parameter 'model' is not accepted: each target in the chain names its own model"
        )
    if "messages" not in params:
        raise UnsupportedParameter("parameter 'messages' is required")
    return params


def _shaped(
    params: dict[str, Any], shape: type[Any] | None
) -> tuple[dict[str, Any], Callable[[ChatCompletion], ChatCompletion] | None]:
    """The request, and what to do with the answer: None to keep it as it came, or a
    function that parses it into ``shape``."""
    if shape is None:
        return params, None
    from . import structured

    request = {**params, "response_format": structured.response_format_for(shape)}
    return request, lambda answer: structured.parsed(answer, shape)


class Completions:
    def __init__(self, router: Router, guard: Guard) -> None:
        self._router = router
        self._guard = guard
        self.with_report: WithReport[Report[ChatCompletion]] = WithReport(self._report)

    @overload
    def create(
        self, *, stream: Literal[True], timeout: float | None = ..., **params: Any
    ) -> ChatStream: ...
    @overload
    def create(
        self, *, stream: Literal[False] = ..., timeout: float | None = ..., **params: Any
    ) -> ChatCompletion: ...
    def create(self, *, stream: bool = False, timeout: float | None = None, **params: Any) -> Any:
        """Like ``openai``'s ``create`` without ``model``; ``timeout`` overrides
        ``FAILOVER_TIMEOUT`` for this call. With ``stream=True`` returns a ChatStream."""
        if stream:
            request = _prepare(params)
            call = Call(
                self._router, timeout, request=request, guard=self._guard, defer_verdict=True
            )
            return ChatStream(self._router, call, timeout)
        return self._report(timeout=timeout, **params).response

    def parse(
        self, *, response_format: type[M], timeout: float | None = None, **params: Any
    ) -> ParsedChatCompletion[M]:
        """Like ``openai``'s ``parse``: ``response_format`` is a Pydantic model, and the
        answer's ``message.parsed`` an instance of it, whichever target answered. An
        answer that does not validate is that target's failure (``_api/structured.py``)."""
        report = self._report(timeout=timeout, shape=response_format, **params)
        return cast("ParsedChatCompletion[M]", report.response)

    def _report(
        self, *, timeout: float | None = None, shape: type[Any] | None = None, **params: Any
    ) -> Report[ChatCompletion]:
        request, finish = _shaped(_prepare(params), shape)
        call = Call(self._router, timeout, request=request, guard=self._guard)

        def attempt(t: Target, adapter: Adapter, sent: dict[str, Any]) -> ChatCompletion:
            answer = adapter.create(sent, call.http_timeout(call.attempt_seconds()))
            return answer if finish is None else finish(answer)

        with telemetry.Watch(call.started, call.attempts, self._router.groups) as watch:
            watch.answer, target = run_sync(call, attempt)
        self._router.answering.answered(target, call)
        return Report(watch.answer, target.label, tuple(call.attempts))


class AsyncCompletions:
    def __init__(self, router: Router, guard: Guard) -> None:
        self._router = router
        self._guard = guard
        self.with_report: WithReport[Awaitable[Report[ChatCompletion]]] = WithReport(self._report)

    @overload
    async def create(
        self, *, stream: Literal[True], timeout: float | None = ..., **params: Any
    ) -> AsyncChatStream: ...
    @overload
    async def create(
        self, *, stream: Literal[False] = ..., timeout: float | None = ..., **params: Any
    ) -> ChatCompletion: ...
    async def create(
        self, *, stream: bool = False, timeout: float | None = None, **params: Any
    ) -> Any:
        """Like ``openai``'s async ``create`` without ``model``; see :class:`Failover`."""
        if stream:
            request = _prepare(params)
            call = Call(
                self._router, timeout, request=request, guard=self._guard, defer_verdict=True
            )
            return await AsyncChatStream(self._router, call, timeout)._start()
        return (await self._report(timeout=timeout, **params)).response

    async def parse(
        self, *, response_format: type[M], timeout: float | None = None, **params: Any
    ) -> ParsedChatCompletion[M]:
        """The asyncio twin of :meth:`Completions.parse`."""
        report = await self._report(timeout=timeout, shape=response_format, **params)
        return cast("ParsedChatCompletion[M]", report.response)

    async def _report(
        self, *, timeout: float | None = None, shape: type[Any] | None = None, **params: Any
    ) -> Report[ChatCompletion]:
        request, finish = _shaped(_prepare(params), shape)
        call = Call(self._router, timeout, request=request, guard=self._guard)

        async def attempt(adapter: Any, sent: dict[str, Any]) -> ChatCompletion:
            answer = await adapter.acreate(sent, call.http_timeout(call.attempt_seconds()))
            return answer if finish is None else finish(answer)

        with telemetry.Watch(call.started, call.attempts, self._router.groups) as watch:
            watch.answer, target = await run_async(
                call, lambda t, adapter, sent: attempt(adapter, sent)
            )
        self._router.answering.answered(target, call)
        return Report(watch.answer, target.label, tuple(call.attempts))


class Chat:
    def __init__(self, completions: Completions) -> None:
        self.completions = completions


class AsyncChat:
    def __init__(self, completions: AsyncCompletions) -> None:
        self.completions = completions
