"""What every vendor adapter shares: lazily built sync/async SDK clients and their lifecycle."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any, Generic, Protocol, TypeVar

import httpx2

from .._config.policy import Policy, Target
from .._core.decisions import Failure
from ._errors import failure_from


async def next_event(events: Any) -> Any:
    """The SDK async stream's next item, or None at its end.

    Adapters step an SDK ``AsyncStream`` with ``__anext__`` rather than ``async for``,
    which would wrap it in one more async generator left for the loop to finalize.
    """
    try:
        return await anext(events)
    except StopAsyncIteration:
        return None


async def close_sdk_stream(events: Any) -> None:
    """Close an SDK ``AsyncStream`` outside in, so that the event loop never has to.

    ``AsyncStream.close()`` only closes the HTTP response and leaves the SDK's chain of
    async generators (events, SSE decoding, httpx2 byte streams) suspended in a reference
    cycle. The garbage collector later finds them all at once and the loop closes them
    concurrently, racing ("aclose(): asynchronous generator is already running"; run
    against openai 3.57 alone, most runs of 30 abandoned streams report it). Closing the
    SDK's own iterator first lets each inner generator be released, and closed, in turn.
    ``_iterator`` is private to the Stainless SDKs (openai and anthropic alike); without
    it, this degrades to the plain close.
    """
    iterator = getattr(events, "_iterator", None)
    try:
        if iterator is not None and hasattr(iterator, "aclose"):
            await iterator.aclose()
    finally:
        await events.close()


class _Closable(Protocol):
    def close(self) -> Any: ...


S = TypeVar("S", bound=_Closable)
A = TypeVar("A", bound=_Closable)


class SdkAdapter(Generic[S, A]):
    """Builds ``S`` (sync) and ``A`` (async) SDK clients on first use, never both needlessly.

    Subclasses name their SDK module and implement ``_make_sync``/``_make_async``.
    """

    sdk: ModuleType

    def __init__(self, target: Target, policy: Policy) -> None:
        self.target = target
        # The call passes its own per-attempt timeout; this only backs it up.
        self._timeout = httpx2.Timeout(policy.attempt_timeout, connect=policy.connect_timeout)
        self._lock = threading.Lock()
        self._sync_client: S | None = None
        self._async_client: A | None = None
        self._on_headers: Callable[[Mapping[str, str]], None] | None = None

    def watch(self, on_headers: Callable[[Mapping[str, str]], None]) -> None:
        """Hand every response's headers to ``on_headers`` (a group's headroom,
        ``_health/headroom.py``). Called before the clients are built."""
        self._on_headers = on_headers

    def _watched(self, client: httpx2.Client) -> httpx2.Client:
        on = self._on_headers
        if on is not None:  # httpx2 calls it once the headers are in, streams included
            client.event_hooks["response"].append(lambda response: on(response.headers))
        return client

    def _async_http(self) -> dict[str, Any]:
        """The async client's ``http_client``, where headers are watched (else the SDK's
        default)."""
        on = self._on_headers
        if on is None:
            return {}

        async def seen(response: httpx2.Response) -> None:
            on(response.headers)

        return {"http_client": self.sdk.DefaultAsyncHttpxClient(event_hooks={"response": [seen]})}

    def _make_sync(self) -> S:
        raise NotImplementedError

    def _make_async(self) -> A:
        raise NotImplementedError

    @property
    def _sync(self) -> S:
        if self._sync_client is None:
            with self._lock:  # two threads must not build (and leak) two clients
                if self._sync_client is None:
                    self._sync_client = self._make_sync()
        return self._sync_client

    @property
    def _async(self) -> A:
        if self._async_client is None:
            with self._lock:
                if self._async_client is None:
                    self._async_client = self._make_async()
        return self._async_client

    def failure(self, exc: BaseException) -> Failure | None:
        return failure_from(exc, self.sdk, self.target.api_key)

    def preload(self, *, asynchronous: bool) -> None:
        """Build the client now and import what its first call would import lazily."""
        # The socket module encodes host names with this codec on the first connection.
        import encodings.idna  # noqa: F401

        self._warm(self._async if asynchronous else self._sync)

    def _warm(self, client: S | A) -> None:
        """Touch the SDK resources a call uses (they import their modules on first use)."""

    def close(self) -> None:
        if self._sync_client is not None:
            self._sync_client.close()

    async def aclose(self) -> None:
        self.close()  # an async app may have used a sync client too
        if self._async_client is not None:
            await self._async_client.close()
