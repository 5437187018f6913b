"""The outage timeline, modelled on OpenAI's December 2024 incidents, as data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..testing import Fault

__all__ = ["DOWN", "LOCAL_STEP", "TIMELINE", "Step", "scaled"]

DOWN = "down"  # the primary's port is closed: connection refused


@dataclass(frozen=True, slots=True)
class Step:
    """One stretch of the drill: ``share`` of its length, and what each fake does.

    ``primary`` is a fault, None (healthy) or :data:`DOWN`; ``*_rate`` is the share of
    requests that get the fault. ``primary_dead``/``secondary_dead`` mark the target as
    out of service, for counting the calls still sent to it; ``inhouse`` is the fault of
    the self-hosted server (the third target), out of service while it has one. In a
    ``storm`` the load goes to three deployments of one model, each with its own quota
    (``_storm.py``).
    """

    name: str
    share: float
    primary: Fault | str | None = None
    primary_rate: float = 1.0
    secondary: Fault | None = None
    secondary_rate: float = 1.0
    primary_dead: bool = False
    secondary_dead: bool = False
    inhouse: Fault | None = None
    storm: bool = False


_RATE_LIMITED = Fault.rate_limit(retry_after=0.5)

TIMELINE: Sequence[Step] = (
    Step("1 healthy", 0.10),
    Step("2 primary down: 5xx", 0.10, Fault.status(503), primary_dead=True),
    Step(
        "2 primary down: HTML 502 pages",
        0.10,
        Fault.html(502),
        secondary=_RATE_LIMITED,
        secondary_rate=0.2,
        primary_dead=True,
    ),
    Step(
        "3 primary hangs (prompts never processed)",
        0.10,
        Fault.hang(),
        secondary=_RATE_LIMITED,
        secondary_rate=0.2,
        primary_dead=True,
    ),
    Step(
        "3 primary hangs + secondary 529 burst",
        0.05,
        Fault.hang(),
        secondary=Fault.overloaded(),
        primary_dead=True,
        secondary_dead=True,
    ),
    Step("4 primary connection refused", 0.15, DOWN, primary_dead=True),
    Step("5 partial outage: 40% 5xx", 0.15, Fault.status(503), primary_rate=0.4),
    # Merely slow: 5% of the primary's answers take 2 s to start, hedged after 0.25 s.
    Step("6 slow tail", 0.10, Fault.slow_first_byte(2.0), primary_rate=0.05),
    Step("7 healthy", 0.15),
    Step("8 rate-limit storm: three deployments, a load above any one", 0.15, storm=True),
)


# With failover[local] installed, a last stretch in which every server is down, the
# self-hosted one too (the network itself is the outage), and only the model inside the
# process answers.
LOCAL_STEP = Step(
    "9 every server down: the model in this process answers",
    0.10,
    DOWN,
    secondary=Fault.status(503),
    inhouse=Fault.status(503),
    primary_dead=True,
    secondary_dead=True,
)


def scaled(
    total_seconds: float, local: bool = False, timeline: Sequence[Step] = TIMELINE
) -> list[tuple[float, float, Step]]:
    """``(start, end, step)`` in seconds for a drill of ``total_seconds``, with the
    local model's stretch at the end when ``local``."""
    steps = (*timeline, LOCAL_STEP) if local else timeline
    whole = sum(step.share for step in steps)
    spans, start = [], 0.0
    for step in steps:
        end = start + step.share / whole * total_seconds
        spans.append((start, end, step))
        start = end
    return spans
