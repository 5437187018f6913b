"""``client.chat.completions``: the OpenAI-shaped chat call, plain or streamed."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Literal, overload

from . import _telemetry as telemetry
from ._attempts import Report, WithReport
from ._exceptions import UnsupportedParameter
from ._privacy import Guard

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletion

    from ._async_stream import AsyncChatStream
    from ._router import Router
    from ._stream import ChatStream

__all__ = ["AsyncChat", "AsyncCompletions", "Chat", "Completions"]


def _prepare(params: dict[str, Any]) -> dict[str, Any]:
    if "model" in params:
        raise UnsupportedParameter(
            "parameter 'model' is not accepted: each target in the chain names its own model"
        )
    if "messages" not in params:
        raise UnsupportedParameter("parameter 'messages' is required")
    return params


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
        from ._call import Call

        if stream:
            from ._stream import ChatStream

            request = _prepare(params)
            call = Call(
                self._router, timeout, request=request, guard=self._guard, defer_verdict=True
            )
            return ChatStream(self._router, call, timeout)
        return self._report(timeout=timeout, **params).response

    def _report(self, *, timeout: float | None = None, **params: Any) -> Report[ChatCompletion]:
        from ._call import Call
        from ._drive import run_sync

        call = Call(self._router, timeout, request=_prepare(params), guard=self._guard)
        with telemetry.Watch(call.started, call.attempts, self._router.targets) as watch:
            watch.answer, target = run_sync(
                call,
                lambda t, adapter, sent: adapter.create(
                    sent, call.http_timeout(call.attempt_seconds())
                ),
            )
        self._router.answering.answered(target)
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
        from ._call import Call

        if stream:
            from ._async_stream import AsyncChatStream

            request = _prepare(params)
            call = Call(
                self._router, timeout, request=request, guard=self._guard, defer_verdict=True
            )
            return await AsyncChatStream(self._router, call, timeout)._start()
        return (await self._report(timeout=timeout, **params)).response

    async def _report(
        self, *, timeout: float | None = None, **params: Any
    ) -> Report[ChatCompletion]:
        from ._call import Call
        from ._drive import run_async

        call = Call(self._router, timeout, request=_prepare(params), guard=self._guard)
        with telemetry.Watch(call.started, call.attempts, self._router.targets) as watch:
            watch.answer, target = await run_async(
                call,
                lambda t, adapter, sent: adapter.acreate(
                    sent, call.http_timeout(call.attempt_seconds())
                ),
            )
        self._router.answering.answered(target)
        return Report(watch.answer, target.label, tuple(call.attempts))


class Chat:
    def __init__(self, completions: Completions) -> None:
        self.completions = completions


class AsyncChat:
    def __init__(self, completions: AsyncCompletions) -> None:
        self.completions = completions
