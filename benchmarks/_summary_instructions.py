"""The summary's section on instructions per call (``benchmarks/instructions.py``)."""

from __future__ import annotations

from typing import Any

from benchmarks._tables import table, verdict, x

SHARED = "failover, health in Redis"
STREAM = "failover, Responses stream"


def instruction_targets(data: dict[str, Any]) -> list[list[object]]:
    ratio = data["vs_raw"][SHARED]
    rows: list[list[object]] = [
        [
            "healthy call instructions with Redis health <= 1.05x raw SDK (callgrind)",
            x(ratio),
            verdict(ratio <= 1.05),
        ]
    ]
    stream = data["vs_raw"].get(STREAM)
    if stream is not None:
        rows.append(
            [
                "Responses stream instructions <= 1.05x raw SDK's (callgrind)",
                x(stream),
                verdict(stream <= 1.05),
            ]
        )
    return rows


def instructions_section(data: dict[str, Any]) -> list[str]:
    setup = data["setup"]
    rows: list[list[object]] = [
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
        "0.5 s timer fires some 50 times more often per call under callgrind's slowdown. "
        "The Responses rows read a whole `responses.create(stream=True)` stream (native on "
        "the fake), each against the SDK's own Responses stream.",
        "",
        *table(["contender", "calling thread", "vs raw", "other threads"], rows),
    ]
