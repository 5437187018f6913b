"""Hedged requests: when a target is slow to answer, ask the next one too.

A provider that is merely slow (seconds to its first byte) holds every call until the
attempt timeout. With ``FAILOVER_HEDGE_AFTER`` set, an attempt that has not answered
after that delay gets a twin on the next eligible target (one the data policy allows
and whose breaker admits calls), and the first answer wins (Envoy, gRPC; FACTS.md).
The loser is cancelled, which closes its connection; a cancelled attempt never counts
against its target. A hedge is paid for from the first target's retry budget, so
hedging cannot double the load, and ``FAILOVER_HEDGE_MAX`` caps hedges per call. If both
fail, the call moves on past the twin.

Calls and streams, async and sync; a stream is hedged only while it opens (until its
first content): once content has reached the caller it is committed and never hedged.
A blocking attempt cannot be cancelled, so a sync client with hedging on makes its
first attempts from worker threads (a shared pool, so the caller can wait with a
timeout), and calls the loser off by shutting its socket down (``_core/deadline.py``'s ``Scope``). A
hedged call may be billed twice.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import contextlib
import contextvars
import functools
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from .._config.policy import Target
from .._core.attempts import Attempt, Outcome
from .._core.deadline import Scope
from .call import Call, TargetDone

__all__ = ["Lost", "partner", "race", "race_sync"]

T = TypeVar("T")


def partner(call: Call, first: Target, after: Target | None) -> Target | None:
    """The target a hedge of ``first`` would go to, or None (hedging off, used up, or no
    eligible target after it)."""
    policy = call.policy
    if policy.hedge_after is None or after is not None or call.hedges >= policy.hedge_max:
        return None  # off, used up, or continuing a stream that already reached the caller
    targets = call.targets(after)
    for candidate in targets[targets.index(first) + 1 :]:
        if candidate.degraded or call.guard.excludes(candidate):
            continue
        if call.router.health[candidate.key].peek().allowed:
            return candidate
    return None


Lost = Callable[[Any, Target], Awaitable[None]]


async def race(
    call: Call,
    first: Target,
    twin: Target,
    attempt: Callable[[Target], Awaitable[T]],
    on_lost: Lost | None = None,
) -> tuple[T, Target] | None:
    """``first``'s answer, or after the hedge delay whichever of ``first`` and ``twin``
    answers first; None if both failed. A failure of ``first`` before the delay raises
    its ``TargetDone``, as an unhedged attempt would (it may then be retried). An answer
    that also arrived but lost (an opened stream) goes to ``on_lost`` to be closed."""
    delay = call.policy.hedge_after or 0.0
    tasks = {asyncio.ensure_future(attempt(first)): first}
    try:
        done, _ = await asyncio.wait(tasks, timeout=delay)
        if done or not _paid(call, first):
            (task,) = tasks
            return await task, first
        call.hedges += 1
        tasks[asyncio.ensure_future(attempt(twin))] = twin
        pending = set(tasks)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in sorted(done, key=lambda t: list(tasks).index(t)):
                error = task.exception()
                if error is None:
                    for other in done - {task}:  # both answered at once: one loses
                        await _discard(other, tasks[other], on_lost)
                    return task.result(), tasks[task]
                if not isinstance(error, TargetDone):
                    raise error  # the request itself is at fault (or a bug): stop the race
                if error.rule is not None and not error.rule.fail_over:
                    call.move_on(error)  # raises: no target should see this request
        return None
    finally:
        await _cancel([task for task in tasks if not task.done()], tasks, on_lost)


def _paid(call: Call, first: Target) -> bool:
    budget = call.router.budgets[first.key]
    if budget is None or budget.retry():
        return True
    detail = "retry budget spent: no hedge"
    call.log(Attempt(first.label, Outcome.SKIPPED, detail=detail))
    return False


async def _cancel(
    losers: list[asyncio.Future[Any]], targets: dict[Any, Target], on_lost: Lost | None
) -> None:
    for task in losers:
        task.cancel()
    for task in losers:
        with contextlib.suppress(BaseException):
            await task
        await _discard(task, targets[task], on_lost)  # it may have finished before the cancel


async def _discard(task: asyncio.Future[Any], target: Target, on_lost: Lost | None) -> None:
    if on_lost is not None and task.done() and not task.cancelled() and not task.exception():
        await on_lost(task.result(), target)


_pool: cf.ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _workers() -> cf.ThreadPoolExecutor:
    """The shared pool of hedging sync clients' attempts, made on first use."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = cf.ThreadPoolExecutor(max_workers=64, thread_name_prefix="failover-hedge")
        return _pool


def race_sync(
    call: Call,
    first: Target,
    twin: Target,
    attempt: Callable[[Target, Scope], T],
    on_lost: Callable[[Any, Target], None] | None = None,
) -> tuple[T, Target] | None:
    """:func:`race` for blocking attempts, run on worker threads (with this context's
    variables: the attempt's bound, the current span)."""
    delay = call.policy.hedge_after or 0.0
    scopes = {first: Scope()}

    def start(target: Target) -> cf.Future[T]:
        context = contextvars.copy_context()
        return _workers().submit(context.run, attempt, target, scopes[target])

    futures = {start(first): first}
    try:
        done, _ = cf.wait(futures, timeout=delay)
        if done or not _paid(call, first):
            (future,) = futures
            return future.result(), first
        call.hedges += 1
        scopes[twin] = Scope()
        futures[start(twin)] = twin
        pending = set(futures)
        while pending:
            done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: list(futures).index(f)):
                error = future.exception()
                if error is None:
                    for other in done - {future}:  # both answered at once: one loses
                        if on_lost is not None:
                            on_lost(other.result(), futures[other])
                    return future.result(), futures[future]
                if not isinstance(error, TargetDone):
                    raise error
                if error.rule is not None and not error.rule.fail_over:
                    call.move_on(error)
        return None
    finally:
        for future, target in futures.items():
            if not future.done():
                # Its socket is shut down, which wakes a blocked read; the call does not
                # wait for it (it may be stuck connecting), and an answer that beat the
                # call-off is closed when it lands.
                scopes[target].cancel()
                future.add_done_callback(functools.partial(_landed, target, on_lost))


def _landed(target: Target, on_lost: Callable[[Any, Target], None] | None, future: Any) -> None:
    if on_lost is not None and not future.cancelled() and future.exception() is None:
        on_lost(future.result(), target)
