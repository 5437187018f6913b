"""The routing clients: one OpenAI-shaped interface over the whole chain."""

from __future__ import annotations

import copy
import os
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, overload

from . import _telemetry as telemetry
from ._attempts import AttemptHook, Report
from ._config import Policy, Target, clean_tags
from ._env import REQUIRE_ENV, config_from_env, policy_from_env, requirement_from_env, targets_from
from ._exceptions import UnsupportedParameter
from ._privacy import BeforeSend, Guard

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletion

    from ._async_stream import AsyncChatStream
    from ._health import HealthStore, TargetStatus
    from ._router import Router
    from ._stream import ChatStream

# The routing machinery (httpx2, tenacity, pybreaker, the SDKs) is imported when a client
# is built, not with this module: ``from failover import Failover`` stays cheap.

__all__ = ["AsyncFailover", "Failover"]

R = TypeVar("R")
Client = TypeVar("Client", bound="_ClientBase")
_UNSET: Any = object()


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
        require: Iterable[str] | None = None,
        before_send: BeforeSend | None = None,
    ) -> None:
        """Route over ``chain`` (Targets or ``provider/model`` strings, read with ``env``).

        ``policy`` defaults to the ``FAILOVER_*`` variables in ``env`` (or the process
        environment). ``on_attempt`` is called with every :class:`Attempt` as it is logged.
        ``health`` is where breakers and cool-downs live: by default in this process, or
        in Redis when ``FAILOVER_REDIS_URL`` is set; pass ``RedisHealth(...)`` to share
        one store between clients. ``require`` (default: ``FAILOVER_REQUIRE``) lists tags
        that every target a call goes to must carry; ``before_send(target, params)`` may
        change the request for a target or raise to keep it from it (``_privacy.py``).
        The vendor SDKs the chain needs are imported and their clients built here, so
        that the first request costs what any other does.
        """
        from . import _drive  # noqa: F401 - load the routing machinery now, not in a request
        from ._env import health_from_env
        from ._router import Router

        targets = targets_from(chain, env)
        policy = policy or policy_from_env(_env(env))
        if require is None:
            self._guard = Guard(requirement_from_env(env), before_send, REQUIRE_ENV)
        else:
            self._guard = Guard(clean_tags(list(require), "require"), before_send)
        self._guard.check(targets)  # before a Redis store or a vendor client is made
        # A store the client made from the environment is the client's to close.
        self._own_health = health is None
        store = health if health is not None else health_from_env(env)
        self._router = Router(
            targets, policy, on_attempt, asynchronous=self._asynchronous, health=store
        )
        self._health = store
        self._derived = False

    def _bind(self) -> None:
        """(Re)make ``self.chat`` for this client's router and data policy."""
        raise NotImplementedError

    def with_options(
        self: Client, *, require: Iterable[str] = _UNSET, before_send: BeforeSend | None = _UNSET
    ) -> Client:
        """A client with its own ``require`` and/or ``before_send``, as openai's
        ``with_options`` makes one: it shares this client's connections and health, and
        closing it closes nothing (close the client it came from).

        >>> private = client.with_options(require=["zdr"])
        """
        guard = Guard(
            self._guard.require if require is _UNSET else clean_tags(list(require), "require"),
            self._guard.before_send if before_send is _UNSET else before_send,
            self._guard.source if require is _UNSET else "require",
        )
        guard.check(self.targets)
        derived = copy.copy(self)
        derived._guard, derived._derived = guard, True
        derived._bind()
        return derived

    @property
    def require(self) -> frozenset[str]:
        """The tags every target a call goes to must carry."""
        return self._guard.require

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        on_attempt: AttemptHook | None = None,
        before_send: BeforeSend | None = None,
    ) -> Any:
        """Build from ``FAILOVER_CHAIN`` and the other variables; see the README."""
        targets, policy = config_from_env(env)
        return cls(targets, policy=policy, on_attempt=on_attempt, env=env, before_send=before_send)

    @property
    def targets(self) -> tuple[Target, ...]:
        return self._router.targets

    @property
    def policy(self) -> Policy:
        return self._router.policy

    def preload(self) -> None:
        """Kept for compatibility: building the client now imports and builds everything
        its chain needs, so there is nothing left to preload."""

    def health(self) -> list[TargetStatus]:
        """Every target's health, in chain order; sends nothing.

        >>> [(s.target, s.state) for s in client.health()]
        [('openai/gpt-4o-mini', 'open'), ('anthropic/claude-haiku-4-5', 'closed')]
        """
        from ._health import TargetStatus

        found = []
        for t in self.targets:
            now = self._router.health[t.key].snapshot()
            failed = self._router.last_failure.get(t.label)
            found.append(
                TargetStatus(
                    t.label,
                    now.state,
                    now.failures,
                    now.retry_at,
                    failed.error if failed else None,
                    failed.ended if failed else None,
                    now.shared,
                )
            )
        return found

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
        self._bind()

    def _bind(self) -> None:
        self.chat = _Chat(_Completions(self._router, self._guard))

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        on_attempt: AttemptHook | None = None,
        before_send: BeforeSend | None = None,
    ) -> Failover:
        client: Failover = super().from_env(env, on_attempt=on_attempt, before_send=before_send)
        return client

    def close(self) -> None:
        """Close the vendor clients' connection pools (and a health store it made)."""
        if self._derived:
            return
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
        self._bind()

    def _bind(self) -> None:
        self.chat = _AsyncChat(_AsyncCompletions(self._router, self._guard))

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        on_attempt: AttemptHook | None = None,
        before_send: BeforeSend | None = None,
    ) -> AsyncFailover:
        client: AsyncFailover = super().from_env(
            env, on_attempt=on_attempt, before_send=before_send
        )
        return client

    async def aclose(self) -> None:
        """Close the vendor clients' connection pools (and a health store it made)."""
        import asyncio

        if self._derived:
            return
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
    def __init__(self, router: Router, guard: Guard) -> None:
        self._router = router
        self._guard = guard
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


class _AsyncCompletions:
    def __init__(self, router: Router, guard: Guard) -> None:
        self._router = router
        self._guard = guard
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


class _Chat:
    def __init__(self, completions: _Completions) -> None:
        self.completions = completions


class _AsyncChat:
    def __init__(self, completions: _AsyncCompletions) -> None:
        self.completions = completions
