"""An async call that fails fast still yields to the event loop.

Found by the soak: when every target is skipped (breakers open, cool-downs), a call
raises without awaiting anything. A caller retrying in a loop then never yields, and the
tasks holding the half-open probes never run again: the targets stay skipped for good.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses

from failover import AllTargetsFailed, AsyncFailover
from failover.testing import FakeProvider, Fault

from .conftest import FAST, MESSAGES, target


def test_fast_failing_calls_let_other_tasks_run(primary: FakeProvider) -> None:
    primary.set_mode(Fault.status(503))
    policy = dataclasses.replace(FAST, max_retries=0, breaker_fail_max=1, breaker_reset=60)

    async def go() -> tuple[int, int]:
        async with AsyncFailover([target(primary)], policy=policy) as client:
            # One real failure opens the breaker: every later call is skipped.
            with contextlib.suppress(AllTargetsFailed):
                await client.chat.completions.create(messages=MESSAGES)
            ticks = 0

            async def other_task() -> None:
                nonlocal ticks
                while True:
                    ticks += 1
                    await asyncio.sleep(0)

            ticker = asyncio.create_task(other_task())
            failed = 0
            for _ in range(200):  # a tight retry loop, as a naive caller writes it
                try:
                    await client.chat.completions.create(messages=MESSAGES)
                except AllTargetsFailed:
                    failed += 1
            ticker.cancel()
            return failed, ticks

    failed, ticks = asyncio.run(go())
    assert failed == 200
    assert ticks >= 100  # the other task ran all along, not only after the loop
    assert len(primary.requests) == 1  # the skipped calls never reached the provider
