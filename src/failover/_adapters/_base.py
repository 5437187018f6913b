"""What every vendor adapter shares: lazily built sync/async SDK clients and their lifecycle."""

from __future__ import annotations

from functools import cached_property
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

    def _make_sync(self) -> S:
        raise NotImplementedError

    def _make_async(self) -> A:
        raise NotImplementedError

    @cached_property
    def _sync(self) -> S:
        return self._make_sync()

    @cached_property
    def _async(self) -> A:
        return self._make_async()

    def failure(self, exc: BaseException) -> Failure | None:
        return failure_from(exc, self.sdk, self.target.api_key)

    def preload(self) -> None:
        """Build both clients now (the SDK was imported with the adapter's module)."""
        _ = self._sync, self._async

    def close(self) -> None:
        if "_sync" in self.__dict__:
            self._sync.close()

    async def aclose(self) -> None:
        if "_async" in self.__dict__:
            await self._async.close()
