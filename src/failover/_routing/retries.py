"""Per-target retries: tenacity, set up once here for both drivers.

A fresh ``Retrying``/``AsyncRetrying`` per target per call (a shared one corrupts
attempt counts under concurrency, FACTS.md). Full-jitter backoff with Retry-After as a
floor, the retry budget, and a stop as soon as waiting cannot help. The first attempt
at a target is made without any of this (``drive.py``): a healthy call builds none.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import tenacity

from .._config.policy import Target
from .call import Call, TargetDone
from .retry_budget import BudgetSpent

__all__ = ["Rest", "options", "retryable"]


class Rest:
    """What else a call could try now, after the target at ``position`` of its chain.
    Asked only after a failure, so the healthy path never walks the rest of the chain."""

    __slots__ = ("_call", "_excluded", "_position", "_targets")

    def __init__(
        self, call: Call, targets: Sequence[Target], excluded: Sequence[str], position: int
    ) -> None:
        self._call, self._targets, self._excluded = call, targets, excluded
        self._position = position

    def _ready(self, among: Callable[[Target], bool]) -> bool:
        health = self._call.router.health
        start = self._position + 1
        later = zip(self._targets[start:], self._excluded[start:], strict=True)
        return any(among(t) and health[t.key].peek().allowed for t, why in later if not why)

    def nothing_after(self) -> bool:
        """No later target can be tried now. A static last resort does not count: the last
        real provider is still retried before the application degrades to a fixed answer."""
        return not self._ready(lambda t: not t.degraded)

    def no_sibling(self) -> bool:
        """No later target of this one's group (``_routing/balance.py``) can be tried now."""
        balancer = self._call.router.balancer
        if balancer is None:
            return True
        group = balancer.group_of(self._targets[self._position])
        return not self._ready(lambda t: t in group)


def options(
    call: Call, sleep: Callable[[float], Any], target: Target, rest: Rest
) -> dict[str, Any]:
    """Options for a fresh tenacity ``Retrying``/``AsyncRetrying`` for one target."""
    jitter = tenacity.wait_random_exponential(
        multiplier=call.policy.backoff_base, max=call.policy.backoff_max
    )

    def wait(state: tenacity.RetryCallState) -> float:
        # Retry-After is a floor on the wait, never a replacement for jitter.
        floor = _done_of(state).failure
        after = floor.retry_after if floor is not None else None
        return max(after or 0.0, jitter(state))

    def note_sleep(state: tenacity.RetryCallState) -> None:
        call.slept = state.upcoming_sleep or 0.0

    stop = tenacity.stop_after_attempt(call.policy.max_retries + 1) | _NoPointWaiting(call, target)
    budget = call.router.budgets[target.key]
    if budget is not None:
        stop = stop | BudgetSpent(budget, lambda: call.budget_spent(target))
    return {
        "stop": stop,
        "wait": wait,
        "retry": tenacity.retry_if_exception(lambda exc: retryable(exc, rest)),
        "before_sleep": note_sleep,
        "sleep": sleep,
        "reraise": True,
    }


class _NoPointWaiting(tenacity.stop.stop_base):
    """Stop retrying a target when the coming wait would eat the rest of the deadline, or
    when the target will still be skipped after it (its breaker opened meanwhile): failing
    over now beats sleeping first and finding out."""

    def __init__(self, call: Call, target: Target) -> None:
        self._call = call
        self._health = call.router.health[target.key]

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        sleep = retry_state.upcoming_sleep or 0.0
        if sleep >= self._call.remaining():
            return True
        verdict = self._health.peek()
        return not verdict.allowed and verdict.retry_at > time.time() + sleep


def _done_of(state: tenacity.RetryCallState) -> TargetDone:
    exc = state.outcome.exception() if state.outcome else None
    return exc if isinstance(exc, TargetDone) else TargetDone(None, None, None)


def retryable(exc: BaseException, rest: Rest) -> bool:
    """Whether to send the same request to the same target again."""
    if not isinstance(exc, TargetDone) or exc.rule is None:
        return False
    said = exc.failure.should_retry if exc.failure is not None else None
    if said is not None:
        # The provider's x-should-retry header decides, except that a failure which may
        # not even fail over (a malformed request) is never sent again, and that a sibling
        # deployment that can answer now goes first.
        rule = exc.rule
        return said and rule.fail_over and (not rule.sibling_first or rest.no_sibling())
    rule = exc.rule
    return (
        rule.retry
        and (not rule.fail_over_first or rest.nothing_after())
        and (not rule.sibling_first or rest.no_sibling())
    )
