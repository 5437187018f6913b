"""``client.responses``: OpenAI's Responses API over the chain.

A target that serves ``/v1/responses`` (``Target.native_responses``) gets the request as
given; any other gets it as a chat request and answers through ``_responses/``, so
every target answers with openai's own ``Response``. Like ``chat.completions``, there
is no ``model=``: each target names its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast, overload

from .._core.attempts import Report, WithReport
from .._core.errors import UnsupportedParameter
from .._responses.from_chat import response_from_chat
from .._responses.to_chat import to_chat
from .._routing.drive import run_async, run_sync
from .._routing.privacy import Guard
from .._telemetry import otel as telemetry
from .conversation import Conversation
from .responses_stream import AsyncResponseEvents, ResponseEvents

if TYPE_CHECKING:
    import httpx2
    from openai.lib.streaming.responses import (
        AsyncResponseStreamManager,
        ResponseStreamManager,
    )
    from openai.types.responses import ParsedResponse, Response

    from .._adapters import Adapter, NativeResponses
    from .._config.policy import Target
    from .._responses.state import Transcripts
    from .._routing.router import Router

__all__ = ["AsyncResponses", "Responses"]

M = TypeVar("M")  # the Pydantic model of ``parse``
Finish = Callable[["Response"], "Response"]


def _prepare(params: dict[str, Any]) -> dict[str, Any]:
    if "model" in params:
        raise UnsupportedParameter(
            "parameter 'model' is not accepted: each target in the chain names its own model"
        )
    if "input" not in params:
        raise UnsupportedParameter("parameter 'input' is required")
    if params.get("stream"):  # only create() streams: the stream has its own log
        raise UnsupportedParameter(
            "with_report and parse do not stream: create(stream=True) returns a stream "
            "whose .attempts and .target say the same"
        )
    return params


def _helper_options(params: dict[str, Any], text_format: Any) -> dict[str, Any]:
    """What openai's stream helper needs to know of the request (``omit``: nothing)."""
    from openai import omit

    return {
        "text_format": omit if text_format is None else text_format,
        "input_tools": params.get("tools") or omit,
        "starting_after": None,
    }


def _shaped(
    params: dict[str, Any], shape: type[Any] | None
) -> tuple[dict[str, Any], Finish | None]:
    """The request, and what to do with the answer: None to keep it, or a function that
    parses its text into ``shape`` (openai's own helpers, as its ``parse`` uses them)."""
    if shape is None:
        return params, None
    from openai.lib._parsing._responses import type_to_text_format_param

    from . import structured

    text = {**(params.get("text") or {}), "format": type_to_text_format_param(shape)}
    return {**params, "text": text}, lambda answer: structured.parsed_response(answer, shape)


def _send(
    target: Target, adapter: Adapter, sent: dict[str, Any], timeout: httpx2.Timeout
) -> Response:
    if target.native_responses:
        return cast("NativeResponses", adapter).respond(sent, timeout)
    return response_from_chat(adapter.create(to_chat(sent), timeout), sent)


async def _asend(
    target: Target, adapter: Adapter, sent: dict[str, Any], timeout: httpx2.Timeout
) -> Response:
    if target.native_responses:
        return await cast("NativeResponses", adapter).arespond(sent, timeout)
    return response_from_chat(await adapter.acreate(to_chat(sent), timeout), sent)


class Responses:
    """``client.responses``: ``create``, ``parse`` and ``with_report``."""

    def __init__(self, router: Router, guard: Guard, transcripts: Transcripts) -> None:
        self._router = router
        self._guard = guard
        self._transcripts = transcripts
        self.with_report: WithReport[Report[Response]] = WithReport(self._report)

    @overload
    def create(
        self, *, stream: Literal[True], timeout: float | None = ..., **params: Any
    ) -> ResponseEvents: ...
    @overload
    def create(
        self, *, stream: Literal[False] = ..., timeout: float | None = ..., **params: Any
    ) -> Response: ...
    def create(self, *, stream: bool = False, timeout: float | None = None, **params: Any) -> Any:
        """Like ``openai``'s ``responses.create`` without ``model``; ``timeout`` overrides
        ``FAILOVER_TIMEOUT`` for this call. With ``stream=True``, a stream of openai's
        ``ResponseStreamEvent`` (``responses_stream.py``)."""
        if stream:
            conversation = Conversation.open(self._transcripts, _prepare(params))
            call = conversation.call(self._router, self._guard, timeout, stream=True)
            return ResponseEvents(self._router, call, timeout, (conversation, self._transcripts))
        return self._report(timeout=timeout, **params).response

    @overload
    def stream(
        self, *, text_format: None = ..., timeout: float | None = ..., **params: Any
    ) -> ResponseStreamManager[Any]: ...
    @overload
    def stream(
        self, *, text_format: type[M], timeout: float | None = ..., **params: Any
    ) -> ResponseStreamManager[M]: ...
    def stream(
        self, *, text_format: type[M] | None = None, timeout: float | None = None, **params: Any
    ) -> ResponseStreamManager[M]:
        """Like ``openai``'s ``responses.stream``: a context manager giving openai's own
        ``ResponseStream`` (``get_final_response()``, ``output_parsed`` with
        ``text_format``) over this client's stream."""
        from openai.lib.streaming.responses import ResponseStreamManager

        request, _ = _shaped(_prepare(params), text_format)
        return ResponseStreamManager(
            lambda: self.create(stream=True, timeout=timeout, **request),  # type: ignore[arg-type,return-value]
            **_helper_options(request, text_format),
        )

    def parse(
        self, *, text_format: type[M], timeout: float | None = None, **params: Any
    ) -> ParsedResponse[M]:
        """Like ``openai``'s ``responses.parse``: ``output_parsed`` is an instance of
        ``text_format``, whichever target answered. An answer that does not validate is
        that target's failure."""
        report = self._report(timeout=timeout, shape=text_format, **params)
        return cast("ParsedResponse[M]", report.response)

    def _report(
        self,
        *,
        timeout: float | None = None,
        shape: type[Any] | None = None,
        **params: Any,
    ) -> Report[Response]:
        conversation = Conversation.open(self._transcripts, _prepare(params))
        request, finish = _shaped(conversation.request, shape)
        call = conversation.call(self._router, self._guard, timeout, request)

        def attempt(t: Target, adapter: Adapter, sent: dict[str, Any]) -> Response:
            timeout = call.http_timeout(call.attempt_seconds())
            answer = _send(t, adapter, conversation.for_target(t, sent), timeout)
            return answer if finish is None else finish(answer)

        with telemetry.Watch(call.started, call.attempts, self._router.groups) as watch:
            answer, target = run_sync(call, attempt)
            watch.answer = conversation.answered(self._transcripts, target, answer)
        self._router.answering.answered(target, call)
        return Report(watch.answer, target.label, tuple(call.attempts))


class AsyncResponses:
    """The asyncio twin of :class:`Responses`."""

    def __init__(self, router: Router, guard: Guard, transcripts: Transcripts) -> None:
        self._router = router
        self._guard = guard
        self._transcripts = transcripts
        self.with_report: WithReport[Awaitable[Report[Response]]] = WithReport(self._report)

    @overload
    async def create(
        self, *, stream: Literal[True], timeout: float | None = ..., **params: Any
    ) -> AsyncResponseEvents: ...
    @overload
    async def create(
        self, *, stream: Literal[False] = ..., timeout: float | None = ..., **params: Any
    ) -> Response: ...
    async def create(
        self, *, stream: bool = False, timeout: float | None = None, **params: Any
    ) -> Any:
        """Like ``openai``'s async ``responses.create`` without ``model``."""
        if stream:
            conversation = await Conversation.aopen(self._transcripts, _prepare(params))
            call = conversation.call(self._router, self._guard, timeout, stream=True)
            kept = (conversation, self._transcripts)
            return await AsyncResponseEvents(self._router, call, timeout, kept)._start()
        return (await self._report(timeout=timeout, **params)).response

    @overload
    def stream(
        self, *, text_format: None = ..., timeout: float | None = ..., **params: Any
    ) -> AsyncResponseStreamManager[Any]: ...
    @overload
    def stream(
        self, *, text_format: type[M], timeout: float | None = ..., **params: Any
    ) -> AsyncResponseStreamManager[M]: ...
    def stream(
        self, *, text_format: type[M] | None = None, timeout: float | None = None, **params: Any
    ) -> AsyncResponseStreamManager[M]:
        """The asyncio twin of :meth:`Responses.stream` (``async with``)."""
        from openai.lib.streaming.responses import AsyncResponseStreamManager

        request, _ = _shaped(_prepare(params), text_format)
        return AsyncResponseStreamManager(
            self.create(stream=True, timeout=timeout, **request),  # type: ignore[arg-type]
            **_helper_options(request, text_format),
        )

    async def parse(
        self, *, text_format: type[M], timeout: float | None = None, **params: Any
    ) -> ParsedResponse[M]:
        """The asyncio twin of :meth:`Responses.parse`."""
        report = await self._report(timeout=timeout, shape=text_format, **params)
        return cast("ParsedResponse[M]", report.response)

    async def _report(
        self,
        *,
        timeout: float | None = None,
        shape: type[Any] | None = None,
        **params: Any,
    ) -> Report[Response]:
        conversation = await Conversation.aopen(self._transcripts, _prepare(params))
        request, finish = _shaped(conversation.request, shape)
        call = conversation.call(self._router, self._guard, timeout, request)

        async def attempt(t: Target, adapter: Adapter, sent: dict[str, Any]) -> Response:
            timeout = call.http_timeout(call.attempt_seconds())
            answer = await _asend(t, adapter, conversation.for_target(t, sent), timeout)
            return answer if finish is None else finish(answer)

        with telemetry.Watch(call.started, call.attempts, self._router.groups) as watch:
            answer, target = await run_async(call, attempt)
            watch.answer = conversation.answered(self._transcripts, target, answer)
        self._router.answering.answered(target, call)
        return Report(watch.answer, target.label, tuple(call.attempts))
