"""Embeddings with failover, to the same model only: ``client.embeddings.create(...)``.

Vectors from two different models are not comparable, so failing over from one
embedding model to another silently corrupts a vector index. An embedding chain
(``FAILOVER_EMBEDDING_CHAIN``, or ``embedding_chain=`` in code) must therefore serve one
model on every target: the same ``model``, or for an Azure deployment the model it
``serves`` (``azure/<deployment>=<model>``). A chain that mixes models, or holds an
Anthropic target (it has no embeddings API) or a static answer, is refused before any
request. Each call then gets what a chat call gets: retries, breakers per target,
the deadline, the data policy, the attempt log and ``with_report``; a 400 or 413
(input too long, too many inputs) never fails over. Every answer is checked for one
vector per input, each of the requested ``dimensions``.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from .._config.env import EMBEDDING_CHAIN_ENV
from .._core.attempts import Report, WithReport
from .._core.errors import ConfigError, UnsupportedParameter
from .._routing.call import Call
from .._routing.drive import run_async, run_sync
from .._routing.privacy import Guard
from .._telemetry import otel as telemetry

if TYPE_CHECKING:
    from openai.types import CreateEmbeddingResponse

    from .._adapters._openai import OpenAIAdapter
    from .._routing.router import Router

__all__ = ["AsyncEmbeddings", "Embeddings"]


def _prepare(params: dict[str, Any]) -> dict[str, Any]:
    if "model" in params:
        raise UnsupportedParameter(
            "parameter 'model' is not accepted: each target in the embedding chain names it"
        )
    if "input" not in params:
        raise UnsupportedParameter("parameter 'input' is required")
    return params


def _openai(adapter: Any) -> OpenAIAdapter:
    return adapter  # type: ignore[no-any-return]  # checked_embedding_chain: openai only


class _Namespace:
    def __init__(self, router: Router | None, guard: Guard) -> None:
        self._router = router
        self._guard = guard

    def _routed(self) -> Router:
        if self._router is None:
            raise ConfigError(
                f"this client has no embedding chain: set {EMBEDDING_CHAIN_ENV} (e.g. "
                "openai/text-embedding-3-small,azure/<deployment>=text-embedding-3-small) "
                "or pass embedding_chain=[...]",
                variable=EMBEDDING_CHAIN_ENV,
            )
        return self._router


class Embeddings(_Namespace):
    """``client.embeddings``: ``create(input=..., dimensions=..., encoding_format=...)``."""

    def __init__(self, router: Router | None, guard: Guard) -> None:
        super().__init__(router, guard)
        self.with_report: WithReport[Report[CreateEmbeddingResponse]] = WithReport(self._report)

    def create(self, *, timeout: float | None = None, **params: Any) -> CreateEmbeddingResponse:
        """Like ``openai``'s ``embeddings.create`` without ``model``; returns openai's
        ``CreateEmbeddingResponse``."""
        return self._report(timeout=timeout, **params).response

    def _report(
        self, *, timeout: float | None = None, **params: Any
    ) -> Report[CreateEmbeddingResponse]:
        router = self._routed()
        call = Call(router, timeout, request=_prepare(params), guard=self._guard)
        with telemetry.Watch(call.started, call.attempts, router.groups, "embeddings") as w:
            w.answer, target = run_sync(
                call,
                lambda t, adapter, sent: _openai(adapter).embed(
                    sent, call.http_timeout(call.attempt_seconds())
                ),
            )
        return Report(w.answer, target.label, tuple(call.attempts))


class AsyncEmbeddings(_Namespace):
    """``client.embeddings`` of :class:`~failover.AsyncFailover`; ``create`` is awaited."""

    def __init__(self, router: Router | None, guard: Guard) -> None:
        super().__init__(router, guard)
        self.with_report: WithReport[Awaitable[Report[CreateEmbeddingResponse]]] = WithReport(
            self._report
        )

    async def create(
        self, *, timeout: float | None = None, **params: Any
    ) -> CreateEmbeddingResponse:
        return (await self._report(timeout=timeout, **params)).response

    async def _report(
        self, *, timeout: float | None = None, **params: Any
    ) -> Report[CreateEmbeddingResponse]:
        router = self._routed()
        call = Call(router, timeout, request=_prepare(params), guard=self._guard)
        with telemetry.Watch(call.started, call.attempts, router.groups, "embeddings") as w:
            w.answer, target = await run_async(
                call,
                lambda t, adapter, sent: _openai(adapter).aembed(
                    sent, call.http_timeout(call.attempt_seconds())
                ),
            )
        return Report(w.answer, target.label, tuple(call.attempts))
