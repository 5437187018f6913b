"""Per-target retries: tenacity, set up once here for both drivers.

A fresh ``Retrying``/``AsyncRetrying`` per target per call (a shared one corrupts
attempt counts under concurrency, FACTS.md). Full-jitter backoff with Retry-After as a
floor, the retry budget, and a stop as soon as waiting cannot help. The first attempt
at a target is made without any of this (``drive.py``): a healthy call builds none.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import tenacity

from .._config.policy import Target
from .call import Call, TargetDone
from .retry_budget import BudgetSpent

__all__ = ["options", "retryable"]


def options(
    call: Call, sleep: Callable[[float], Any], target: Target, last: Callable[[], bool]
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
        "retry": tenacity.retry_if_exception(lambda exc: retryable(exc, last)),
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


def retryable(exc: BaseException, last: Callable[[], bool]) -> bool:
    """Whether to send the same request to the same target again.

    ``last()`` says no other target can be tried now (none left, or all skipped).
    """
    if not isinstance(exc, TargetDone) or exc.rule is None:
        return False
    said = exc.failure.should_retry if exc.failure is not None else None
    if said is not None:
        # The provider's x-should-retry header decides, except that a failure which may
        # not even fail over (a malformed request) is never sent again.
        return said and exc.rule.fail_over
    return exc.rule.retry and (not exc.rule.fail_over_first or last())
