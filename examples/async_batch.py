"""Many concurrent calls with AsyncFailover; breakers and retries are shared by all."""

from __future__ import annotations

import asyncio
import collections

from _common import chain

from failover import AsyncFailover


async def main() -> None:
    with chain() as targets:
        async with AsyncFailover(targets) as client:
            questions = [f"What is {n} squared?" for n in range(20)]
            reports = await asyncio.gather(
                *(
                    client.chat.completions.with_report.create(
                        messages=[{"role": "user", "content": q}], max_tokens=32
                    )
                    for q in questions
                )
            )
    served = collections.Counter(r.target for r in reports)
    print(f"{len(reports)} answers; served by: {dict(served)}")


asyncio.run(main())
