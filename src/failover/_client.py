"""The routing clients: one OpenAI-shaped interface over the whole chain."""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ._config.chains import Chain, Group, checked_embedding_chain, flat
from ._config.env import (
    REDIS_PREFIX_ENV,
    REQUIRE_ENV,
    chain_from_env,
    embedding_chain_from_env,
    groups_from,
    policy_from_env,
    requirement_from_env,
    targets_from,
)
from ._config.policy import Policy, Target, clean_tags
from ._core.attempts import AttemptHook
from ._routing.privacy import BeforeSend, Guard

if TYPE_CHECKING:
    from ._health.store import HealthStore, TargetStatus
    from ._routing.router import Router

# The routing machinery (httpx2, tenacity, pybreaker, the SDKs, and the calling surface
# in ``_api/``, which imports it) is imported when a client is built, not with this
# module: ``from failover import Failover`` stays cheap.

__all__ = ["AsyncFailover", "Failover"]

Client = TypeVar("Client", bound="_ClientBase")
_UNSET: Any = object()


class _ClientBase:
    _asynchronous = False

    def __init__(
        self,
        chain: Chain,
        *,
        policy: Policy | None = None,
        on_attempt: AttemptHook | None = None,
        env: Mapping[str, str] | None = None,
        health: HealthStore | None = None,
        require: Iterable[str] | None = None,
        before_send: BeforeSend | None = None,
        embedding_chain: Sequence[Target | str] | None = None,
    ) -> None:
        """Route over ``chain`` (Targets or ``provider/model`` strings, read with ``env``,
        and :class:`Group`s of them that share a place and spread calls among them).

        ``policy`` defaults to the ``FAILOVER_*`` variables in ``env`` (or the process
        environment). ``on_attempt`` is called with every :class:`Attempt` as it is logged.
        ``health`` is where breakers and cool-downs live: by default in this process, or
        in Redis when ``FAILOVER_REDIS_URL`` is set; pass ``RedisHealth(...)`` to share
        one store between clients. ``require`` (default: ``FAILOVER_REQUIRE``) lists tags
        that every target a call goes to must carry; ``before_send(target, params)`` may
        change the request for a target or raise to keep it from it (``_routing/privacy.py``).
        ``embedding_chain`` (default: ``FAILOVER_EMBEDDING_CHAIN`` with :meth:`from_env`)
        serves ``client.embeddings``, one model on every target (``_api/embeddings.py``).
        The vendor SDKs the chain needs are imported and their clients built here, so
        that the first request costs what any other does.
        """
        from ._routing.router import Router

        groups = groups_from(chain, env)
        targets = flat(groups)
        embedding = (
            None if not embedding_chain else targets_from(embedding_chain, env, "embedding_chain")
        )
        if embedding is not None:
            checked_embedding_chain(embedding, "embedding_chain")
        policy = policy or policy_from_env(_env(env))
        if require is None:
            self._guard = Guard(requirement_from_env(env), before_send, REQUIRE_ENV)
        else:
            self._guard = Guard(clean_tags(list(require), "require"), before_send)
        self._guard.check(targets)  # before a Redis store or a vendor client is made
        if embedding is not None:
            self._guard.check(embedding)
        # A store the client made from the environment is the client's to close.
        self._own_health = health is None
        store = health if health is not None else health_from_env(env)
        self._router = Router(
            targets,
            policy,
            on_attempt,
            asynchronous=self._asynchronous,
            health=store,
            groups=groups,
        )
        self._embedding_router = (
            None
            if embedding is None
            else Router(
                embedding, policy, on_attempt, asynchronous=self._asynchronous, health=store
            )
        )
        self._health = store
        self._derived = False
        # The Responses API's conversations (``_responses/state.py``): shared by clients
        # made with ``with_options``, and by the fleet when health is shared in Redis.
        from ._responses.state import Shared, Transcripts

        self._transcripts = Transcripts(store if isinstance(store, Shared) else None)

    def _bind(self) -> None:
        """(Re)make ``self.chat``, ``self.embeddings`` and ``self.responses`` for this
        client's data policy."""
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
        if self._embedding_router is not None:
            guard.check(self._embedding_router.targets)
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
        groups, policy = chain_from_env(env)
        embedding = embedding_chain_from_env(env)
        return cls(
            [Group(*g) if len(g) > 1 else g[0] for g in groups],
            policy=policy,
            on_attempt=on_attempt,
            env=env,
            before_send=before_send,
            embedding_chain=embedding,
        )

    @property
    def targets(self) -> tuple[Target, ...]:
        return self._router.targets

    @property
    def policy(self) -> Policy:
        return self._router.policy

    def preload(self) -> None:
        """Kept for compatibility: building the client now imports and builds everything
        its chain needs, so there is nothing left to preload."""

    def _routers(self) -> list[Router]:
        return [self._router, *([self._embedding_router] if self._embedding_router else [])]

    def health(self) -> list[TargetStatus]:
        """Every target's health (the chat chain, then the embedding chain); sends nothing.

        >>> [(s.target, s.state) for s in client.health()]
        [('openai/gpt-5.4-mini', 'open'), ('anthropic/claude-haiku-5-5', 'closed')]
        """
        from ._health.headroom import said
        from ._health.store import TargetStatus

        found, clock = [], time.time()
        for router in self._routers():
            in_flight = router.balancer.in_flight if router.balancer is not None else {}
            for place, group in enumerate(router.groups, 1):
                for t in group:
                    now = router.health[t.key].snapshot()
                    failed = router.last_failure.get(t.label)
                    found.append(
                        TargetStatus(
                            t.label,
                            now.state,
                            now.failures,
                            now.retry_at,
                            failed.error if failed else None,
                            failed.ended if failed else None,
                            now.shared,
                            place,
                            t.weight,
                            in_flight.get(t.key),
                            said(router.headroom.get(t.key), clock),
                        )
                    )
        return found

    def breaker_state(self, target: Target | str) -> str:
        """``closed``, ``open`` or ``half-open`` for a target (or its label)."""
        for router in self._routers():
            for candidate in router.targets:
                if target in (candidate, candidate.label):
                    return router.health[candidate.key].state
        raise KeyError(f"no target {target!r} in this client's chains")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({[t.label for t in self.targets]!r})"


def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def health_from_env(env: Mapping[str, str] | None = None) -> HealthStore:
    """``RedisHealth`` when ``FAILOVER_REDIS_URL`` (or ``FAILOVER_REDIS_SENTINELS``) is
    set, else ``LocalHealth``."""
    from ._health.redis_where import RedisWhere, timeout_from_env

    env = _env(env)
    where = RedisWhere.from_env(env)
    if where is None:
        from ._health.store import LocalHealth

        return LocalHealth()
    from ._health.redis import RedisHealth  # redis-py loads only for a fleet

    prefix = env.get(REDIS_PREFIX_ENV, "").strip() or "failover"
    return RedisHealth.at(where, prefix=prefix, timeout=timeout_from_env(env))


class Failover(_ClientBase):
    """Blocking client. ``client.chat.completions.create(...)`` returns openai types.

    >>> client = Failover(["openai/gpt-5.4-mini", "anthropic/claude-haiku-5-5"])
    >>> answer = client.chat.completions.create(messages=[{"role": "user", "content": "Hi"}])
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._bind()

    def _bind(self) -> None:
        from ._api.completions import Chat, Completions
        from ._api.embeddings import Embeddings
        from ._api.responses import Responses

        self.chat = Chat(Completions(self._router, self._guard))
        self.embeddings = Embeddings(self._embedding_router, self._guard)
        self.responses = Responses(self._router, self._guard, self._transcripts)

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
        if self._embedding_router is not None:
            self._embedding_router.close()
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
        from ._api.completions import AsyncChat, AsyncCompletions
        from ._api.embeddings import AsyncEmbeddings
        from ._api.responses import AsyncResponses

        self.chat = AsyncChat(AsyncCompletions(self._router, self._guard))
        self.embeddings = AsyncEmbeddings(self._embedding_router, self._guard)
        self.responses = AsyncResponses(self._router, self._guard, self._transcripts)

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
        if self._embedding_router is not None:
            await self._embedding_router.aclose()
        await self._health.settle()  # this loop's last failures reach the fleet
        if self._own_health:
            # Off the loop: the store's listener thread may take a moment to stop.
            await asyncio.to_thread(self._health.close)

    async def __aenter__(self) -> AsyncFailover:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
