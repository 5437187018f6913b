"""Partial outages: a primary failing half its requests, then one that is merely slow.

The outage drill's machinery (benchmarks/outage.py) with two more timelines, each run
with fresh clients so that one phase's breaker state cannot color the other: healthy,
then the primary answers 503 to 50% of requests, then healthy; healthy, then 3% of the
primary's requests wait 3 s for their first byte (a slow tail), then healthy. The
secondary stays healthy. Contenders:
failover with its defaults (retry budget and failure-rate rule on), failover with both
off, failover hedging after 0.15 s, and LiteLLM's Router. Reported per phase: the calls
the primary received per request, p99 latency, and the extra requests per call.
"""

from __future__ import annotations

import asyncio
from typing import Any

from benchmarks._common import Profile
from benchmarks._fake import FakeServers
from benchmarks._peer import LiteLLMPeer
from benchmarks.outage import FAILOVER, HEDGED, NO_PARTIAL, PEER, _drill_one

TIMELINES = {
    "flap50": (("healthy", 2.0), ("flap50", 12.0), ("healthy", 2.0)),
    "slowtail": (("healthy", 2.0), ("slowtail", 12.0), ("healthy", 2.0)),
}
CONTENDERS = (FAILOVER, NO_PARTIAL, HEDGED, PEER)


def _phase(result: dict[str, Any], kind: str) -> dict[str, Any]:
    phase = next(p for p in result["phases"] if p["kind"] == kind)
    calls = max(1, phase["n"])
    received = phase["received_primary"] + phase["received_secondary"]
    return {
        "calls": phase["n"],
        "success_pct": phase["success_pct"],
        "p99_ms": phase["p99_ms"],
        "primary_per_request": round(phase["received_primary"] / calls, 3),
        "extra_requests_pct": round(100 * (received - calls) / calls, 1),
    }


def run(profile: Profile, fakes: FakeServers, peer: LiteLLMPeer) -> dict[str, Any]:
    scale = max(profile.phase_scale, 0.5)
    timelines = {k: [(kind, s * scale) for kind, s in t] for k, t in TIMELINES.items()}
    loop = asyncio.new_event_loop()
    out: dict[str, Any] = {"setup": {"rate_per_s": profile.rate, "timelines": timelines}}
    try:
        for name in CONTENDERS:
            out[name] = {}
            for kind, timeline in timelines.items():
                result = _drill_one(name, timeline, profile.rate, fakes, peer, loop)
                out[name][kind] = _phase(result, kind)
    finally:
        loop.close()
    return out
