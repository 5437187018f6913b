"""Driving one call over the chain: the sync and async drivers.

They only perform I/O in the order that the :class:`~failover._routing.call.Call` dictates, so
the routing logic exists once for both.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import tenacity

from .._adapters import Adapter
from .._config.policy import Target
from .._core.deadline import Scope, bounded
from . import hedge, retries
from .call import Call, HedgeLost, TargetDone
from .retries import Rest, retryable

__all__ = ["run_async", "run_sync"]

T = TypeVar("T")
# One attempt: the target, its vendor adapter, and the request to send it.
Invoke = Callable[[Target, Adapter, dict[str, Any]], T]


def _chain(call: Call, after: Target | None) -> Iterator[tuple[Target, Rest]]:
    """Each target the data policy allows, with what else the call could try after it.
    A target it excludes is logged and passed by, never contacted."""
    targets = call.targets(after)
    guard = call.guard
    excluded = [guard.excludes(t) for t in targets] if guard.require else [""] * len(targets)
    for position, target in enumerate(targets):
        if excluded[position]:
            call.excluded(target, excluded[position])
            continue
        yield target, Rest(call, targets, excluded, position)


def _attempt_sync(
    call: Call,
    target: Target,
    invoke: Invoke[T],
    *,
    first: bool = False,
    scope: Scope | None = None,
) -> T:
    params = call.params_for(target)
    admission = call.admit(target)
    if first:
        call.earn_retries(target)
    adapter = call.router.adapter(target)
    started = time.monotonic()
    try:
        # Sync I/O cannot be interrupted, so each socket operation is capped instead
        # (``_adapters/_bounded_io.py``): the attempt ends by this instant however slowly
        # the server sends. A hedged attempt may also be called off (``scope``).
        with bounded(started + call.attempt_seconds(), scope):
            result = invoke(target, adapter, params)
    except BaseException as exc:
        lost = scope is not None and scope.cancelled and not isinstance(exc, HedgeLost)
        call.failed(target, admission, HedgeLost() if lost else exc, started)
    call.succeeded(target, admission, started)
    return result


async def _attempt_async(
    call: Call, target: Target, invoke: Invoke[Awaitable[T]], *, first: bool = False
) -> T:
    params = await call.aparams_for(target)
    call.check_time()
    admission = call.admitted(target, await call.router.health[target.key].admit_async())
    if first:
        call.earn_retries(target)
    adapter = call.router.adapter(target)
    started = time.monotonic()
    try:
        async with asyncio.timeout(call.attempt_seconds()):
            result = await invoke(target, adapter, params)
    except BaseException as exc:
        call.failed(target, admission, exc, started)
    call.succeeded(target, admission, started)
    return result


# The first attempt at each target is made without tenacity, so that a healthy call
# builds no retry machinery (it was a third of failover's per-call overhead). After a
# retryable failure, tenacity takes over: its first "attempt" re-raises that failure,
# so its attempt count, backoff and stop conditions start from the real first attempt.


def run_sync(
    call: Call,
    invoke: Invoke[T],
    *,
    after: Target | None = None,
    on_lost_sync: Callable[[Any, Target], None] | None = None,
) -> tuple[T, Target]:
    """Drive ``call`` with blocking I/O; ``invoke`` makes one attempt at one target. A
    slow first attempt may be hedged on the next target from worker threads (``_routing/hedge.py``);
    ``on_lost`` closes an answer that arrived but lost the race (an opened stream)."""
    raced: set[tuple[str, str, str, str]] = set()  # hedge twins that already failed
    for target, rest in _chain(call, after):
        if target.key in raced:
            continue
        try:
            try:
                twin = hedge.partner(call, target, after)
                if twin is None:
                    return _attempt_sync(call, target, invoke, first=True), target

                def hedged(t: Target, scope: Scope) -> T:
                    return _attempt_sync(call, t, invoke, first=True, scope=scope)

                won = hedge.race_sync(call, target, twin, hedged, on_lost_sync)
                if won is not None:
                    return won
                raced.add(twin.key)  # both failed: on past the twin
                continue
            except TargetDone as done:
                if not retryable(done, rest):
                    raise
                replay: TargetDone | None = done
            for attempt in tenacity.Retrying(**retries.options(call, time.sleep, target, rest)):
                with attempt:
                    if replay is not None:
                        first, replay = replay, None
                        raise first
                    return _attempt_sync(call, target, invoke), target
        except TargetDone as done:
            call.move_on(done)
    call.give_up()


async def run_async(
    call: Call,
    invoke: Invoke[Awaitable[T]],
    *,
    after: Target | None = None,
    on_lost: hedge.Lost | None = None,
) -> tuple[T, Target]:
    """The asyncio twin of :func:`run_sync`; the attempt also obeys a hard wall clock.
    A slow first attempt may be hedged on the next target (``_routing/hedge.py``); ``on_lost``
    closes an answer that arrived but lost the race (an opened stream)."""
    raced: set[tuple[str, str, str, str]] = set()  # hedge twins that already failed
    for target, rest in _chain(call, after):
        if target.key in raced:
            continue
        try:
            try:
                twin = hedge.partner(call, target, after)
                if twin is None:
                    return await _attempt_async(call, target, invoke, first=True), target
                won = await hedge.race(
                    call,
                    target,
                    twin,
                    lambda t: _attempt_async(call, t, invoke, first=True),
                    on_lost,
                )
                if won is not None:
                    return won
                raced.add(twin.key)  # both failed: on past the twin
                continue
            except TargetDone as done:
                if not retryable(done, rest):
                    raise
                replay: TargetDone | None = done
            options = retries.options(call, asyncio.sleep, target, rest)
            async for attempt in tenacity.AsyncRetrying(**options):
                with attempt:
                    if replay is not None:
                        first, replay = replay, None
                        raise first
                    return await _attempt_async(call, target, invoke), target
        except TargetDone as done:
            call.move_on(done)
    # A call that found every target skipped has not awaited anything yet. It yields
    # once before raising, so that a caller retrying in a loop cannot starve the event
    # loop (and with it the calls holding the probes that would reopen those targets).
    await asyncio.sleep(0)
    call.give_up()
