"""The outage drill from code: replay the December 2024 timeline on fakes, check the result.

Same as `failover drill --seconds 8`; needs the "drill" extra.
"""

from __future__ import annotations

import asyncio

from failover.drill import drill

summary = asyncio.run(drill(seconds=8))
print(f"{summary['requests']} requests, {summary['failed']} failed, p99 {summary['p99_ms']} ms")
raise SystemExit(0 if summary["failed"] == 0 else 1)
