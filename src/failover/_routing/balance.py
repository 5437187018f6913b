"""Spreading calls over a group's targets: weighted power of two choices on in-flight
requests (Envoy's least-request balancer).

For each call, every group of more than one target (``_config/chains.py``) is put in
an order of its own: two of its ready targets drawn by weight, the one with fewer
requests in flight per unit of weight first (the first drawn on a tie, so that calls
made one at a time follow the weights exactly), the other second (where a hedge goes
first), then the rest in an order drawn by weight. A target whose breaker is open or
that is cooling down (after a 429, or because its rate-limit headers said it has nothing
left until a reset: ``_health/headroom.py``) is not drawn: it is placed last, where the
call only logs why it was skipped. A call that fails on one target thus tries its
siblings, by the usual retry rules, before the next group.

In-flight counts are this process's: an attempt counts from its start to its end (a
stream's, to the end of its reading, when its verdict is handed over exactly once).
They change under a lock, so they never drift.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Mapping
from typing import Any

from .._config.chains import Groups
from .._config.policy import Target
from .._health.headroom import Headroom
from .._health.store import Health

__all__ = ["Balancer"]

Key = tuple[str, str, str, str]


class Balancer:
    """The per-call order of a chain with groups, and the requests in flight on each
    grouped target. ``seed`` makes the draws repeatable (``Policy.balance_seed``)."""

    def __init__(
        self,
        groups: Groups,
        health: Mapping[Key, Health],
        headroom: Mapping[Key, Headroom],
        seed: int | None,
    ) -> None:
        self._groups = groups
        self._health = health
        self._headroom = headroom
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.in_flight: dict[Key, int] = {t.key: 0 for g in groups if len(g) > 1 for t in g}
        self._group_of = {t.key: g for g in groups for t in g}

    def group_of(self, target: Target) -> tuple[Target, ...]:
        """The targets that share ``target``'s place in the chain, itself included."""
        return self._group_of[target.key]

    def order(self, request: Mapping[str, Any]) -> tuple[Target, ...]:
        """The chain for one call: each group's targets in the order to try them."""
        order: list[Target] = []
        need: list[int] = []  # the request's estimated tokens, once some target needs it
        for group in self._groups:
            order.extend(group if len(group) == 1 else self._ranked(group, request, need))
        return tuple(order)

    def started(self, target: Target) -> None:
        if target.key in self.in_flight:
            with self._lock:
                self.in_flight[target.key] += 1

    def ended(self, target: Target) -> None:
        if target.key in self.in_flight:
            with self._lock:
                self.in_flight[target.key] -= 1

    def _ranked(
        self, group: tuple[Target, ...], request: Mapping[str, Any], need: list[int]
    ) -> list[Target]:
        now = time.time()
        ready, short, resting = [], [], []
        for t in group:
            if not self._health[t.key].peek().allowed:
                resting.append(t)
                continue
            room = self._headroom[t.key]
            if room.requests is not None and room.spent(self.in_flight[t.key], now):
                short.append(t)  # the calls on their way use up what it said is left
                continue
            if room.tokens:  # its headers said how many tokens are left
                if not need:
                    need.extend(estimate(request))
                if room.short_of(need[0], need[1], now):
                    short.append(t)
                    continue
            ready.append(t)
        # Those short of tokens come after the ready ones, still by weight and load.
        return self._drawn(ready) + self._drawn(short) + resting

    def _drawn(self, targets: list[Target]) -> list[Target]:
        if len(targets) < 2:
            return targets
        with self._lock:
            # Efraimidis-Spirakis: sorting by u ** (1 / weight) draws without replacement,
            # each draw in proportion to the weights of those left.
            keys = {t.key: self._random.random() ** (1.0 / t.weight) for t in targets}
            drawn = sorted(targets, key=lambda t: keys[t.key], reverse=True)
            first, second = drawn[0], drawn[1]
            if self._load(second) < self._load(first):
                drawn[0], drawn[1] = second, first
        return drawn

    def _load(self, target: Target) -> float:
        return self.in_flight[target.key] / target.weight


def estimate(request: Mapping[str, Any]) -> tuple[int, int]:
    """A rough count of the tokens a request will use, as (prompt, answer): its messages'
    (a Responses call: its input and instructions) characters over 4 (the usual rule of
    thumb for English), and the longest answer it allows."""
    said = request.get("messages") or [request.get("instructions"), request.get("input")]
    chars = len(json.dumps(said, default=str))
    answer = (
        request.get("max_completion_tokens")
        or request.get("max_tokens")
        or request.get("max_output_tokens")
        or 0
    )
    return chars // 4, int(answer)
