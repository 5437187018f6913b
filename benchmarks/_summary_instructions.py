"""The summary's section on instructions per call (``benchmarks/instructions.py``)."""

from __future__ import annotations

from typing import Any

from benchmarks._tables import table, verdict, x

SHARED = "failover, health in Redis"


def instruction_targets(data: dict[str, Any]) -> list[list[object]]:
    ratio = data["vs_raw"][SHARED]
    return [
        [
            "healthy call instructions with Redis health <= 1.05x raw SDK (callgrind)",
            x(ratio),
            verdict(ratio <= 1.05),
        ]
    ]


def instructions_section(data: dict[str, Any]) -> list[str]:
    setup = data["setup"]
    rows = [
        [
            name,
            f"{counts['calling_thread']:,}",
            x(data["vs_raw"][name]),
            f"{counts['other_threads']:,}",
        ]
        for name, counts in data["per_call"].items()
    ]
    return [
        "## Instructions per call",
        "",
        "A healthy sync call to one fake, counted by `valgrind --tool=callgrind`: per call, "
        f"the difference between runs of {setup['many']} and {setup['few']} calls in fresh "
        "interpreters, divided by the difference in calls. The same program gives the same "
        "count however busy the machine is. Other threads: Redis health's writer, whose "
        "0.5 s timer fires some 50 times more often per call under callgrind's slowdown.",
        "",
        *table(["contender", "calling thread", "vs raw", "other threads"], rows),
    ]
