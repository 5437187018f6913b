"""The :class:`Router`: a client's chain, policy, adapters and per-target health,
shared by all its calls. The drivers that route one call live in ``_routing/drive.py``."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import replace

from .._adapters import Adapter, make_adapter
from .._config.chains import Groups
from .._config.policy import Policy, Target
from .._core.attempts import Attempt, AttemptHook
from .._health.headroom import Headroom
from .._health.store import Health, HealthStore, LocalHealth
from .._health.transitions import Answering
from .balance import Balancer
from .retry_budget import RetryBudget

__all__ = ["Router"]


def in_process_health(target: Target, policy: Policy) -> Health:
    """The health of a model in this process: its own (each process has its own model,
    so it is never shared), with a breaker that never opens. A breaker saves the time
    a dead server would waste; this model is never dead, only busy or slow, and skipping
    it would turn the last answer left into an error."""
    never = replace(policy, breaker_fail_max=sys.maxsize, breaker_failure_ratio=0.0)
    return LocalHealth().for_target(target, never)


class Router:
    """The chain, its policy, and per-target adapters and health; shared by all calls.

    ``targets`` is the chain in order; ``groups``, where given, says which of them share
    a place (``_config/chains.py``), and a ``balancer`` then orders each call.

    Building it imports the SDKs the chain needs (only those) and builds their clients,
    sync or ``asynchronous``, so that no request pays for that (about half a second).
    """

    def __init__(
        self,
        targets: Sequence[Target],
        policy: Policy,
        on_attempt: AttemptHook | None = None,
        *,
        asynchronous: bool = False,
        health: HealthStore | None = None,
        groups: Groups | None = None,
    ) -> None:
        self.targets = tuple(targets)
        self.policy = policy
        self.on_attempt = on_attempt
        # The latest failed attempt per target label, for the health view.
        self.last_failure: dict[str, Attempt] = {}
        self.answering = Answering(self.targets)
        # Per process: each process keeping its retries under the share keeps the fleet's.
        share = policy.retry_budget
        self.budgets: dict[tuple[str, str, str, str], RetryBudget | None] = {
            t.key: None if share is None else RetryBudget(share) for t in self.targets
        }
        self.groups: Groups = groups if groups is not None else tuple((t,) for t in self.targets)
        # Each target's place in the chain (a group's targets share one).
        self.place = {t.label: place for place, group in enumerate(self.groups) for t in group}
        store = health if health is not None else LocalHealth()
        self.health: dict[tuple[str, str, str, str], Health] = {
            t.key: in_process_health(t, policy) if t.in_process else store.for_target(t, policy)
            for t in self.targets
        }
        # A grouped target's rate-limit headers say when to pass it over (its headroom).
        room = {t.key: Headroom(self.health[t.key]) for g in self.groups if len(g) > 1 for t in g}
        self.headroom = room
        self._adapters: dict[tuple[str, str, str, str], Adapter] = {}
        for t in self.targets:
            adapter = self._adapters[t.key] = make_adapter(t, policy)
            if t.key in room:
                adapter.watch(room[t.key].seen)
            adapter.preload(asynchronous=asynchronous)
        # Only a chain with a group of several targets orders each call anew.
        self.balancer: Balancer | None = None
        if room:
            self.balancer = Balancer(self.groups, self.health, room, policy.balance_seed)

    def adapter(self, target: Target) -> Adapter:
        return self._adapters[target.key]

    def close(self) -> None:
        for adapter in self._adapters.values():
            adapter.close()

    async def aclose(self) -> None:
        for adapter in self._adapters.values():
            await adapter.aclose()
