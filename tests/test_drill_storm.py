"""The drill's rate-limit storm: three deployments of one model with quotas of 60, 30
and 30 calls a second, under a paced load of 100 a second, above the largest alone."""

from __future__ import annotations

import io

from rich.console import Console

from failover.drill import TIMELINE, drill
from failover.drill._storm import STORM


async def test_the_storm_is_spread_by_quota_and_no_deployment_refuses_a_call() -> None:
    storm = next(step for step in TIMELINE if step.storm)
    out = io.StringIO()
    summary = await drill(6.0, timeline=(storm,), local=False, console=Console(file=out))
    assert summary["failed"] == 0 and summary["requests"] > 100, summary
    deployments = summary["storm"]
    assert len(deployments) == len(STORM)
    for label, d in deployments.items():
        assert abs(d["share"] - d["capacity_share"]) <= 0.1, (label, d)
        assert d["received_429"] == 0, (label, d)  # the spread kept each within its quota
    served = sum(d["served"] for d in deployments.values())
    assert served >= 0.95 * summary["succeeded"], summary  # the backup barely answered
    assert "429s received" in out.getvalue()  # the closing table shows the storm
