"""Instructions per healthy call, counted by callgrind: a measure noise cannot move.

On these shared 2-core machines one round's CPU ratio between two contenders swings by
±20%, so a goal of 5% cannot be settled by CPU time alone. ``valgrind --tool=callgrind``
counts the instructions a process executes, whatever else the machine does: the same
program on the same input gives the same count.

Each contender (the raw openai SDK; failover with in-process health; failover with its
health in Redis) runs in a fresh interpreter under callgrind twice, making ``few`` and
then ``many`` sequential calls to one healthy fake; the difference divided by
``many - few`` is the cost of one call, with start-up and imports cancelled out.
Threads are counted apart (``--separate-threads``): the calling thread's count is what
a call costs. Redis health's own thread sends batched successes every 0.5 s of wall
time; under callgrind a call takes some 50 times longer, so that thread's count per
call is inflated about 50 times and is shown only for completeness.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

RAW = "openai SDK (max_retries=0)"
LOCAL = "failover, in-process health"
SHARED = "failover, health in Redis"
RAW_STREAM = "openai SDK, Responses stream"
STREAM = "failover, Responses stream"
_KINDS = {
    RAW: "raw",
    LOCAL: "local",
    SHARED: "redis",
    RAW_STREAM: "raw-responses",
    STREAM: "local-responses",
}
# Each contender's baseline: a chat call's is the SDK's chat call, a Responses stream's
# (read to its end, natively on the same fake) the SDK's Responses stream.
BASE = {RAW: RAW, LOCAL: RAW, SHARED: RAW, RAW_STREAM: RAW_STREAM, STREAM: RAW_STREAM}

_WORKER = """
import sys, openai, failover
url, kind, n, redis_url = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
messages = [{"role": "user", "content": "Say hello."}]
if kind == "raw":
    client = openai.OpenAI(base_url=url, api_key="x", max_retries=0)
    call = lambda: client.chat.completions.create(model="fake-model", messages=messages)
elif kind == "raw-responses":
    client = openai.OpenAI(base_url=url, api_key="x", max_retries=0)
    call = lambda: list(client.responses.create(model="fake-model", input="Hi.", stream=True))
elif kind == "local-responses":
    # An "openai" target takes the Responses API natively: the same route as the SDK's.
    target = failover.Target("openai", "fake-model", base_url=url, api_key="x")
    routed = failover.Failover([target], health=failover.LocalHealth())
    call = lambda: list(routed.responses.create(input="Hi.", stream=True))
else:
    health = (failover.LocalHealth() if kind == "local"
              else failover.RedisHealth(redis_url, prefix="failover-bench-instructions"))
    target = failover.Target("fake", "fake-model", base_url=url, api_key="x")
    routed = failover.Failover([target], health=health)
    call = lambda: routed.chat.completions.create(messages=messages)
for _ in range(n):
    call()
"""


def available() -> bool:
    return shutil.which("valgrind") is not None


def _counts(out: Path) -> list[int]:
    """Instructions per thread, in thread order, from callgrind's output files."""
    counts = []
    for part in sorted(out.parent.glob(out.name + "-*")):
        for line in part.read_text().splitlines():
            if line.startswith(("summary:", "totals:")):
                counts.append(int(line.split()[1]))
                break
    return counts


def _measure(url: str, redis_url: str, kind: str, calls: int, folder: Path) -> list[int]:
    out = folder / f"{kind}.{calls}.out"
    subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--separate-threads=yes",
            f"--callgrind-out-file={out}",
            sys.executable,
            "-c",
            _WORKER,
            url,
            kind,
            str(calls),
            redis_url,
        ],
        check=True,
        capture_output=True,
    )
    return _counts(out)


def run(url: str, redis_url: str, few: int = 20, many: int = 120) -> dict[str, Any]:
    per_call: dict[str, dict[str, int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, kind in _KINDS.items():
            low = _measure(url, redis_url, kind, few, Path(tmp))
            high = _measure(url, redis_url, kind, many, Path(tmp))
            caller = (high[0] - low[0]) // (many - few)
            others = (sum(high[1:]) - sum(low[1:])) // (many - few)
            per_call[name] = {"calling_thread": caller, "other_threads": others}
    return {
        "setup": {"few": few, "many": many},
        "per_call": per_call,
        "vs_raw": {
            n: round(v["calling_thread"] / per_call[BASE[n]]["calling_thread"], 4)
            for n, v in per_call.items()
        },
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(sys.argv[1], sys.argv[2]), indent=2))
