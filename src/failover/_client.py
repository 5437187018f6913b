"""The routing clients: one OpenAI-shaped interface over the whole chain."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, overload

from ._attempts import AttemptHook, Report
from ._config import Policy, Target
from ._env import config_from_env, policy_from_env, targets_from
from ._exceptions import UnsupportedParameter

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletion

    from ._async_stream import AsyncChatStream
    from ._health import HealthStore
    from ._router import Router
    from ._stream import ChatStream

# The routing machinery (httpx2, tenacity, pybreaker, the SDKs) is imported when a client
# is built, not with this module: ``from failover import Failover`` stays cheap.

__all__ = ["AsyncFailover", "Failover"]

R = TypeVar("R")


def _prepare(params: dict[str, Any]) -> dict[str, Any]:
    if "model" in params:
        raise UnsupportedParameter(
            "parameter 'model' is not accepted: each target in the chain names its own model"
        )
    if "messages" not in params:
        raise UnsupportedParameter("parameter 'messages' is required")
    return params


class _ClientBase:
    _asynchronous = False

    def __init__(
        self,
        chain: Sequence[Target | str],
        *,
        policy: Policy | None = None,
        on_attempt: AttemptHook | None = None,
        env: Mapping[str, str] | None = None,
        health: HealthStore | None = None,
    ) -> None:
        """Route over ``chain`` (Targets or ``provider/model`` strings, read with ``env``).

        ``policy`` defaults to the ``FAILOVER_*`` variables in ``env`` (or the process
        environment). ``on_attempt`` is called with every :class:`Attempt` as it is logged.
        ``health`` is where breakers and cool-downs live: by default in this process, or
        in Redis when ``FAILOVER_REDIS_URL`` is set; pass ``RedisHealth(...)`` to share
        one store between clients. The vendor SDKs the chain needs are imported and
        their clients built here, so that the first request costs what any other does.
        """
        from . import _drive  # noqa: F401 - load the routing machinery now, not in a request
        from ._env import health_from_env
        from ._router import Router

        targets = targets_from(chain, env)
        policy = policy or policy_from_env(_env(env))
        # A store the client made from the environment is the client's to close.
        self._own_health = health is None
        store = health if health is not None else health_from_env(env)
        self._router = Router(
            targets, policy, on_attempt, asynchronous=self._asynchronous, health=store
        )
        self._health = store

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, on_attempt: AttemptHook | None = None
    ) -> Any:
        """Build from ``FAILOVER_CHAIN`` and the other variables; see the README."""
        targets, policy = config_from_env(env)
        return cls(targets, policy=policy, on_attempt=on_attempt, env=env)

    @property
    def targets(self) -> tuple[Target, ...]:
        return self._router.targets

    @property
    def policy(self) -> Policy:
        return self._router.policy

    def preload(self) -> None:
        """Kept for compatibility: building the client now imports and builds everything
        its chain needs, so there is nothing left to preload."""

    def breaker_state(self, target: Target | str) -> str:
        """``closed``, ``open`` or ``half-open`` for a target (or its label)."""
        for candidate in self.targets:
            if target in (candidate, candidate.label):
                return self._router.health[candidate.key].state
        raise KeyError(f"no target {target!r} in this client's chain")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({[t.label for t in self.targets]!r})"


def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


class Failover(_ClientBase):
    """Blocking client. ``client.chat.completions.create(...)`` returns openai types.

    >>> client = Failover(["openai/gpt-4o-mini", "anthropic/claude-haiku-4-5"])
    >>> answer = client.chat.completions.create(messages=[{"role": "user", "content": "Hi"}])
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.chat = _Chat(_Completions(self._router))

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, on_attempt: AttemptHook | None = None
    ) -> Failover:
        client: Failover = super().from_env(env, on_attempt=on_attempt)
        return client

    def close(self) -> None:
        """Close the vendor clients' connection pools (and a health store it made)."""
        self._router.close()
        if self._own_health:
            self._health.close()

    def __enter__(self) -> Failover:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncFailover(_ClientBase):
    """The asyncio client: the same surface as :class:`Failover`, awaited."""

    _asynchronous = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.chat = _AsyncChat(_AsyncCompletions(self._router))

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, on_attempt: AttemptHook | None = None
    ) -> AsyncFailover:
        client: AsyncFailover = super().from_env(env, on_attempt=on_attempt)
        return client

    async def aclose(self) -> None:
        """Close the vendor clients' connection pools (and a health store it made)."""
        import asyncio

        await self._router.aclose()
        await self._health.settle()  # this loop's last failures reach the fleet
        if self._own_health:
            # Off the loop: the store's listener thread may take a moment to stop.
            await asyncio.to_thread(self._health.close)

    async def __aenter__(self) -> AsyncFailover:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class _WithReport(Generic[R]):
    """``completions.with_report.create(...)``: the answer together with its attempt log."""

    def __init__(self, create: Callable[..., R]) -> None:
        self.create = create


class _Completions:
    def __init__(self, router: Router) -> None:
        self._router = router
        self.with_report: _WithReport[Report[ChatCompletion]] = _WithReport(self._report)

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

            call = Call(self._router, timeout, defer_verdict=True)
            return ChatStream(self._router, call, _prepare(params), timeout)
        return self._report(timeout=timeout, **params).response

    def _report(self, *, timeout: float | None = None, **params: Any) -> Report[ChatCompletion]:
        from ._call import Call
        from ._drive import run_sync

        params = _prepare(params)
        call = Call(self._router, timeout)
        answer, target = run_sync(
            call,
            lambda t, adapter: adapter.create(params, call.http_timeout(call.attempt_seconds())),
        )
        return Report(answer, target.label, tuple(call.attempts))


class _AsyncCompletions:
    def __init__(self, router: Router) -> None:
        self._router = router
        self.with_report: _WithReport[Awaitable[Report[ChatCompletion]]] = _WithReport(self._report)

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

            call = Call(self._router, timeout, defer_verdict=True)
            return await AsyncChatStream(self._router, call, _prepare(params), timeout)._start()
        return (await self._report(timeout=timeout, **params)).response

    async def _report(
        self, *, timeout: float | None = None, **params: Any
    ) -> Report[ChatCompletion]:
        from ._call import Call
        from ._drive import run_async

        params = _prepare(params)
        call = Call(self._router, timeout)
        answer, target = await run_async(
            call,
            lambda t, adapter: adapter.acreate(params, call.http_timeout(call.attempt_seconds())),
        )
        return Report(answer, target.label, tuple(call.attempts))


class _Chat:
    def __init__(self, completions: _Completions) -> None:
        self.completions = completions


class _AsyncChat:
    def __init__(self, completions: _AsyncCompletions) -> None:
        self.completions = completions
