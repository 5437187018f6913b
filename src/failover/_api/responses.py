"""``client.responses``: OpenAI's Responses API over the chain.

A target that serves ``/v1/responses`` (``Target.native_responses``) gets the request as
given; any other gets it as a chat request and answers through ``_responses/``, so
every target answers with openai's own ``Response``. Like ``chat.completions``, there
is no ``model=``: each target names its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from .._core.attempts import Report, WithReport
from .._core.errors import UnsupportedParameter
from .._responses.from_chat import response_from_chat
from .._responses.to_chat import to_chat
from .._routing.call import Call
from .._routing.drive import run_async, run_sync
from .._routing.privacy import Guard
from .._telemetry import otel as telemetry

if TYPE_CHECKING:
    import httpx2
    from openai.types.responses import ParsedResponse, Response

    from .._adapters import Adapter
    from .._config.policy import Target
    from .._routing.router import Router

__all__ = ["AsyncResponses", "Responses"]

M = TypeVar("M")  # the Pydantic model of ``parse``
Finish = Callable[["Response"], "Response"]


def _prepare(params: dict[str, Any], stream: bool) -> dict[str, Any]:
    if "model" in params:
        raise UnsupportedParameter(
            "parameter 'model' is not accepted: each target in the chain names its own model"
        )
    if "input" not in params:
        raise UnsupportedParameter("parameter 'input' is required")
    if stream:
        raise UnsupportedParameter(
            "stream=True is not available on client.responses yet; call without it"
        )
    return params


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
        return cast("Response", adapter.respond(sent, timeout))  # type: ignore[attr-defined]
    return response_from_chat(adapter.create(to_chat(sent), timeout), sent)


async def _asend(
    target: Target, adapter: Adapter, sent: dict[str, Any], timeout: httpx2.Timeout
) -> Response:
    if target.native_responses:
        return cast("Response", await adapter.arespond(sent, timeout))  # type: ignore[attr-defined]
    return response_from_chat(await adapter.acreate(to_chat(sent), timeout), sent)


class Responses:
    """``client.responses``: ``create``, ``parse`` and ``with_report``."""

    def __init__(self, router: Router, guard: Guard) -> None:
        self._router = router
        self._guard = guard
        self.with_report: WithReport[Report[Response]] = WithReport(self._report)

    def create(
        self, *, stream: bool = False, timeout: float | None = None, **params: Any
    ) -> Response:
        """Like ``openai``'s ``responses.create`` without ``model``; ``timeout`` overrides
        ``FAILOVER_TIMEOUT`` for this call."""
        return self._report(timeout=timeout, stream=stream, **params).response

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
        stream: bool = False,
        **params: Any,
    ) -> Report[Response]:
        request, finish = _shaped(_prepare(params, stream), shape)
        call = Call(self._router, timeout, request=request, guard=self._guard)

        def attempt(t: Target, adapter: Adapter, sent: dict[str, Any]) -> Response:
            answer = _send(t, adapter, sent, call.http_timeout(call.attempt_seconds()))
            return answer if finish is None else finish(answer)

        with telemetry.Watch(call.started, call.attempts, self._router.groups) as watch:
            watch.answer, target = run_sync(call, attempt)
        self._router.answering.answered(target, call)
        return Report(watch.answer, target.label, tuple(call.attempts))


class AsyncResponses:
    """The asyncio twin of :class:`Responses`."""

    def __init__(self, router: Router, guard: Guard) -> None:
        self._router = router
        self._guard = guard
        self.with_report: WithReport[Awaitable[Report[Response]]] = WithReport(self._report)

    async def create(
        self, *, stream: bool = False, timeout: float | None = None, **params: Any
    ) -> Response:
        """Like ``openai``'s async ``responses.create`` without ``model``."""
        return (await self._report(timeout=timeout, stream=stream, **params)).response

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
        stream: bool = False,
        **params: Any,
    ) -> Report[Response]:
        request, finish = _shaped(_prepare(params, stream), shape)
        call = Call(self._router, timeout, request=request, guard=self._guard)

        async def attempt(t: Target, adapter: Adapter, sent: dict[str, Any]) -> Response:
            answer = await _asend(t, adapter, sent, call.http_timeout(call.attempt_seconds()))
            return answer if finish is None else finish(answer)

        with telemetry.Watch(call.started, call.attempts, self._router.groups) as watch:
            watch.answer, target = await run_async(call, attempt)
        self._router.answering.answered(target, call)
        return Report(watch.answer, target.label, tuple(call.attempts))
