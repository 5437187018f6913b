"""What every vendor adapter shares: lazily built sync/async SDK clients and their lifecycle."""

from __future__ import annotations

import threading
from types import ModuleType
from typing import Any, Generic, Protocol, TypeVar

import httpx2

from .._config import Policy, Target
from .._decisions import Failure
from ._errors import failure_from


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
