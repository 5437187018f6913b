"""The soak's fake providers, in their own process (so the client's RSS, descriptors and
threads are the client's alone), driven over a JSON-lines pipe like ``_fake.py``.

``python -m benchmarks._soak_fakes SEED`` starts three providers (OpenAI, Anthropic,
OpenAI wire formats), each on a looping, seeded schedule that cycles through every
fault kind the toolkit has, serving each to about a quarter of the requests of its
phase. It prints their base URLs and serves until told to ``quit``.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Literal

Api = Literal["openai", "anthropic"]
NAMES: tuple[tuple[str, Api], ...] = (
    ("alpha", "openai"),
    ("beta", "anthropic"),
    ("gamma", "openai"),
)
RATE = 0.25  # share of requests in each phase that get the phase's fault
PHASE_SECONDS = 0.2


def every_fault() -> list[Any]:
    """One of each fault kind, tuned to the soak's 0.3 s attempt timeout."""
    from failover.testing import Fault

    return [
        Fault.status(500),
        Fault.status(503),
        Fault.status(400),
        Fault.overloaded(),
        Fault.rate_limit(retry_after=0.2),
        Fault.quota(),
        Fault.context_length(),
        Fault.content_filter(),
        Fault.html(502),
        Fault.hang(),
        Fault.slow_first_byte(0.1),
        Fault.drip(0.4),  # streams: a stall after content, longer than the idle timeout
        Fault.keepalive(0.6),
        Fault.trickle(0.05),
        Fault.cut(1),
        Fault.no_terminator(1),
        Fault.inband_error(1),
        Fault.malformed_json(1),
        Fault.empty_choices(),
        Fault.reset(),
    ]


def main(argv: list[str]) -> int:
    out = os.fdopen(os.dup(1), "w", buffering=1)  # the protocol; stray prints go to stderr
    os.dup2(2, 1)
    from failover.testing import FakeProvider, Phase, Reply, Schedule

    seed = int(argv[0]) if argv else 0
    faults = every_fault()
    fakes = []
    for position, (name, api) in enumerate(NAMES):
        # Each provider starts its cycle elsewhere, so they rarely fail alike at once.
        turn = faults[position * 7 :] + faults[: position * 7]
        phases = [Phase(PHASE_SECONDS, fault, RATE) for fault in turn]
        fake = FakeProvider(
            api, name=name, reply=Reply("soak answer, " * 3, chunk_size=8), log_limit=1000
        )
        fake.start().set_schedule(Schedule(phases, seed=seed * 10 + position, loop=True))
        fakes.append(fake)
    out.write(json.dumps({"urls": {f.name: [f.api, f.base_url] for f in fakes}}) + "\n")
    for line in sys.stdin:
        if json.loads(line).get("op") == "quit":
            out.write(json.dumps({"ok": True}) + "\n")
            break
    for fake in fakes:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
