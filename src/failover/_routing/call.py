"""The state and decisions of one call: its deadline, its attempt log, and what to do
after each failure (retry in place, fail over, or raise).

:class:`Call` holds every decision; the drivers in ``_routing/drive.py`` only perform I/O in
the order it dictates, so the logic exists once for sync and async. Per-target retries
are tenacity's, set up in ``retries.py``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any, NoReturn

import httpx2

from .._config.policy import Target
from .._core.attempts import LOCAL_ANSWER, Attempt, Outcome
from .._core.decisions import ErrorKind, Failure, Rule, classify, rule_for
from .._core.errors import (
    AllTargetsFailed,
    ContentFiltered,
    DeadlineExceeded,
    RequestRejected,
    UnsupportedParameter,
)
from .._core.redact import redact
from .._health.breaker import Admission
from .param_policy import fit
from .privacy import Guard, Refused

if TYPE_CHECKING:
    from .router import Router

__all__ = ["Call", "HedgeLost", "TargetDone"]

logger = logging.getLogger("failover")


class TargetDone(Exception):
    """Ends one target's turn: it failed for good, or was skipped."""

    def __init__(self, kind: ErrorKind | None, rule: Rule | None, failure: Failure | None) -> None:
        super().__init__(kind)
        self.kind = kind
        self.rule = rule
        self.failure = failure


class HedgeLost(Exception):
    """A sync attempt called off because another target answered first (``_routing/hedge.py``)."""


_CANCELLATION = (
    asyncio.CancelledError,
    KeyboardInterrupt,
    GeneratorExit,
    SystemExit,
    HedgeLost,
)
_OPEN = Guard()  # no requirements, no hook


class Call:
    """The state and decisions of one call: deadline, attempt log, what to do next."""

    def __init__(
        self,
        router: Router,
        timeout: float | None = None,
        *,
        request: dict[str, Any],
        guard: Guard = _OPEN,
        defer_verdict: bool = False,
    ) -> None:
        self.router = router
        self.request = request  # as the caller gave it; ``before_send`` may change it per target
        self.guard = guard
        self._prepared: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        # A stream's success is only known when it ends: keep its admission until then,
        # per target (two hedged stream openings may both succeed).
        self.defer_verdict = defer_verdict
        self.deferred: dict[tuple[str, str, str, str], Admission] = {}
        # label -> why, for the targets whose API cannot express this request
        self.unsupported: dict[str, str] = {}
        self.unhealthy: set[str] = set()  # targets skipped for their breaker or cool-down
        self.policy = router.policy
        self.started = time.time()  # for telemetry's spans; deadlines use the monotonic clock
        self.deadline = time.monotonic() + (timeout if timeout is not None else self.policy.timeout)
        # The chain for this call: groups of several targets are ordered per call.
        balancer = router.balancer
        self.chain = router.targets if balancer is None else balancer.order(request)
        self.attempts: list[Attempt] = []
        self.last_error: BaseException | None = None
        self.slept = 0.0
        self.hedges = 0  # hedges started (``_routing/hedge.py``)

    # -- time -------------------------------------------------------------------
    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def attempt_seconds(self, cap: float | None = None) -> float:
        """This attempt's time: min(attempt timeout, ``cap``, time left in the call)."""
        seconds = min(self.policy.attempt_timeout, self.remaining())
        return min(seconds, cap) if cap is not None else seconds

    def http_timeout(self, seconds: float) -> httpx2.Timeout:
        return httpx2.Timeout(seconds, connect=min(self.policy.connect_timeout, seconds))

    # -- the attempt log --------------------------------------------------------
    def log(self, attempt: Attempt) -> None:
        self.attempts.append(attempt)
        if attempt.error is not None:
            self.router.last_failure[attempt.target] = attempt
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("failover attempt: %s", attempt.describe())
        if self.router.on_attempt is not None:
            try:
                self.router.on_attempt(attempt)
            except Exception:  # a metrics hook must never break the call it observes
                logger.exception("failover on_attempt hook raised; ignoring it")

    def _take_slept(self) -> float:
        slept, self.slept = self.slept, 0.0
        return slept

    # -- the data policy (``_routing/privacy.py``) --------------------------------------
    def excluded(self, target: Target, why: str) -> None:
        """Log a target the policy keeps this request from; it is never contacted."""
        self.log(Attempt(target.label, Outcome.EXCLUDED, detail=why))

    def params_for(self, target: Target) -> dict[str, Any]:
        """The request for ``target``, through ``before_send`` once per target."""
        found = self._prepared.get(target.key)
        if found is None:
            try:
                found = self.guard.prepare(target, self.request)
            except Refused as refused:
                self.excluded(target, str(refused))
                raise TargetDone(None, None, None) from None
            found = self._prepared[target.key] = self._fitted(target, found)
        return found

    def _fitted(self, target: Target, params: dict[str, Any]) -> dict[str, Any]:
        """Drop the sampling-only parameters ``target`` lacks (``_routing/param_policy.py``)."""
        fitted, dropped = fit(target, params, self.policy.drop_params)
        if dropped:
            detail = f"dropped {', '.join(dropped)} (FAILOVER_DROP_PARAMS)"
            self.log(Attempt(target.label, Outcome.ADJUSTED, detail=detail))
        return fitted

    async def aparams_for(self, target: Target) -> dict[str, Any]:
        """:meth:`params_for` for the async client (``before_send`` may be async)."""
        found = self._prepared.get(target.key)
        if found is None:
            try:
                found = await self.guard.aprepare(target, self.request)
            except Refused as refused:
                self.excluded(target, str(refused))
                raise TargetDone(None, None, None) from None
            found = self._prepared[target.key] = self._fitted(target, found)
        return found

    # -- the retry budget (``_routing/retry_budget.py``) ------------------------------------
    def earn_retries(self, target: Target) -> None:
        """A first attempt at ``target`` was admitted: it adds to the target's budget."""
        budget = self.router.budgets[target.key]
        if budget is not None:
            budget.request()

    def budget_spent(self, target: Target) -> None:
        detail = "retry budget spent: failing over instead of retrying in place"
        self.log(Attempt(target.label, Outcome.SKIPPED, detail=detail))

    # -- one attempt ------------------------------------------------------------
    def admit(self, target: Target) -> Admission:
        """Check the deadline and the target's health before sending anything."""
        self.check_time()
        return self.admitted(target, self.router.health[target.key].admit())

    def check_time(self) -> None:
        if self.remaining() <= 0:
            self.give_up()

    def admitted(self, target: Target, admission: Admission) -> Admission:
        """Log a skip and move on, unless the target's health let the call go."""
        if not admission.allowed:
            self.unhealthy.add(target.label)
            wait = max(admission.retry_at - time.time(), 0.0)
            self.log(
                Attempt(
                    target.label,
                    Outcome.SKIPPED,
                    slept=self._take_slept(),
                    detail=f"{admission.reason}, retry in {wait:.1f} s",
                )
            )
            raise TargetDone(None, None, None)
        # In flight from here until the verdict: failed(), succeeded(), or a stream's
        # take_admission() (``_routing/balance.py`` picks by these counts).
        if self.router.balancer is not None:
            self.router.balancer.started(target)
        return admission

    def failed(
        self, target: Target, admission: Admission, exc: BaseException, started: float
    ) -> NoReturn:
        """Record a failed attempt, update the target's health, and raise the verdict."""
        self._landed(target)
        health = self.router.health[target.key]
        duration = time.monotonic() - started
        failure = (
            None if isinstance(exc, _CANCELLATION) else self.router.adapter(target).failure(exc)
        )
        if failure is None:
            health.release(admission)
            if isinstance(exc, _CANCELLATION):
                self.log(
                    Attempt(
                        target.label, Outcome.CANCELLED, duration=duration, slept=self._take_slept()
                    )
                )
                raise exc
            if isinstance(exc, UnsupportedParameter):
                # This target's API cannot express the request; another one may.
                self.unsupported[target.label] = str(exc)
                self.log(Attempt(target.label, Outcome.SKIPPED, detail=str(exc)))
                raise TargetDone(None, None, None) from exc
            # Answers are validated in the adapters, so what is left is the SDK refusing
            # our arguments before sending (an unknown keyword): the caller's mistake.
            detail = redact(f"{type(exc).__name__}: {exc}", target.api_key)[:200]
            self.log(
                Attempt(
                    target.label,
                    Outcome.FAILED,
                    error=ErrorKind.BAD_REQUEST,
                    duration=duration,
                    slept=self._take_slept(),
                    detail=detail,
                )
            )
            raise RequestRejected(
                f"{target.label} could not send the request: {detail}", attempts=self.attempts
            ) from exc
        kind = classify(failure)
        rule = rule_for(kind)
        self.last_error = exc
        self.log(
            Attempt(
                target.label,
                Outcome.FAILED,
                error=kind,
                status=failure.status,
                duration=duration,
                slept=self._take_slept(),
                detail=failure.message[:160],
            )
        )
        self.judge(target, admission, kind, failure)
        raise TargetDone(kind, rule, failure) from exc

    def judge(
        self, target: Target, admission: Admission, kind: ErrorKind, failure: Failure
    ) -> None:
        """Apply a failure to the target's breaker and cool-down."""
        health = self.router.health[target.key]
        rule = rule_for(kind)
        if rule.breaker:
            health.record_failure(admission)
        else:
            health.release(admission)
        if kind is ErrorKind.RATE_LIMIT and failure.retry_after:
            health.cool_down(failure.retry_after)
        elif rule.cool_down and failure.should_retry is not True:
            health.cool_down(self.policy.breaker_reset)

    def succeeded(self, target: Target, admission: Admission, started: float) -> None:
        if self.defer_verdict:
            self.deferred[target.key] = admission  # in flight until the stream is read
        else:
            self._landed(target)
            self.router.health[target.key].record_success(admission)
        outcome, detail = Outcome.OK, LOCAL_ANSWER if target.in_process else ""
        if target.degraded:
            outcome, detail = Outcome.DEGRADED, "static answer: no provider could answer"
            logger.warning(
                "failover: %s gave its static answer; no provider could answer", target.label
            )
        self.log(
            Attempt(
                target.label,
                outcome,
                duration=time.monotonic() - started,
                slept=self._take_slept(),
                detail=detail,
            )
        )

    def take_admission(self, target: Target) -> Admission | None:
        """A stream's deferred admission at ``target``, handed over exactly once: the
        stream has ended, so it is no longer in flight either."""
        admission = self.deferred.pop(target.key, None)
        if admission is not None:
            self._landed(target)
        return admission

    def _landed(self, target: Target) -> None:
        """The attempt at ``target`` is no longer in flight."""
        if self.router.balancer is not None:
            self.router.balancer.ended(target)

    def move_on(self, done: TargetDone) -> None:
        """After a target's last attempt: continue down the chain, or raise now."""
        self.slept = 0.0
        if done.rule is None or done.rule.fail_over:
            return
        cause = self.last_error
        message = done.failure.message if done.failure else ""
        error = ContentFiltered if done.kind is ErrorKind.CONTENT_FILTER else RequestRejected
        raise error(f"request rejected ({done.kind}): {message}", attempts=self.attempts) from cause

    def fell_back(self, answered: Target) -> bool:
        """Whether a target of an earlier place in the chain, that could have taken this
        request, failed or was skipped for its health before ``answered`` did. Targets that
        were only ineligible (the data policy, an API that cannot express the request), a
        retry on the target that answered, a hedge that won, and a move to a sibling of
        the same group are no fallback."""
        place = self.router.place
        mine = place[answered.label]
        failed = (a.target for a in self.attempts if a.outcome is Outcome.FAILED)
        return any(place.get(other, mine) < mine for other in (*failed, *self.unhealthy))

    def give_up(self) -> NoReturn:
        if self.last_error is None and self.unsupported:
            ruled_out = "; ".join(f"{t}: {why}" for t, why in self.unsupported.items())
            raise UnsupportedParameter(
                f"no target in the chain can take this request: {ruled_out}",
                attempts=self.attempts,
            )
        error = DeadlineExceeded if self.remaining() <= 0 else AllTargetsFailed
        what = "deadline exceeded" if error is DeadlineExceeded else "all targets failed"
        raise error(f"{what} after {len(self.attempts)} attempts", attempts=self.attempts) from (
            self.last_error
        )

    def targets(self, after: Target | None = None) -> tuple[Target, ...]:
        """The chain in order; after a broken stream, the others starting past it."""
        chain = self.chain
        if after is None:
            return chain
        start = chain.index(after) + 1
        # A static answer cannot continue a model's text: a broken stream is not resumed
        # on it.
        return tuple(t for t in chain[start:] + chain[: start - 1] if not t.degraded)
