"""Shared helpers: paths, run profiles, statistics and a JSON-lines subprocess pipe."""

from __future__ import annotations

import contextlib
import json
import math
import queue
import random
import statistics
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
MODEL = "fake-model"
MESSAGES: list[dict[str, str]] = [{"role": "user", "content": "Say hello."}]
LITELLM_VERSION = "1.106.2"  # newest release whose dependencies resolve on this index

# LiteLLM fetches its model price map from the internet at import unless told not to.
LITELLM_ENV = {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_TELEMETRY": "False"}


@dataclass(frozen=True)
class Profile:
    """How much work one run does; ``quick`` is the ~1 minute smoke run."""

    name: str
    seq_calls: int  # overhead, per contender, in batches of seq_batch
    seq_batch: int
    conc_calls: int  # overhead at ``concurrency``, in batches of conc_batch
    conc_batch: int
    concurrency: int
    warmup: int
    phase_scale: float  # outage drill: multiplies every phase's duration
    # Outage drill: calls started per second. LiteLLM spends ~8 ms of CPU per call
    # and retries up to 3x; at 40/s it saturates a core of a 2-core machine and
    # collapses, which would measure the machine, not the routing.
    rate: float
    import_repeats: int  # also fresh interpreters per case for the first-request timing
    bound_rounds: int  # wall-clock bound cost: interleaved rounds ...
    bound_batch: int  # ... of this many sequential calls per contender
    stream_rounds: int  # streams: interleaved rounds ...
    stream_batch: int  # ... of this many 10-chunk streams per contender (a fifth as many
    # 200-chunk ones)
    fleet_rounds: int  # fleets: rounds of every fleet size and contender
    # Fleets, the healthy call's CPU against the raw SDK (a 5% question): many short
    # interleaved rounds, so that the median of rounds holds still between runs.
    healthy_rounds: int
    healthy_batch: int

    @property
    def results(self) -> Path:
        base = BENCH / "results"
        return base if self.name == "full" else base / self.name


FULL = Profile(
    "full",
    seq_calls=600,
    seq_batch=1,
    conc_calls=1280,
    conc_batch=320,
    concurrency=64,
    warmup=30,
    phase_scale=1.0,
    rate=10.0,
    import_repeats=7,
    bound_rounds=7,
    bound_batch=200,
    stream_rounds=7,
    stream_batch=200,
    fleet_rounds=3,
    healthy_rounds=41,
    healthy_batch=50,
)
QUICK = Profile(
    "quick",
    seq_calls=100,
    seq_batch=1,
    conc_calls=256,
    conc_batch=256,
    concurrency=64,
    warmup=10,
    phase_scale=0.25,
    rate=10.0,
    import_repeats=3,
    bound_rounds=5,
    bound_batch=40,
    stream_rounds=5,
    stream_batch=40,
    fleet_rounds=1,
    healthy_rounds=5,
    healthy_batch=40,
)


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (``q`` in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def latency_stats(seconds: Sequence[float]) -> dict[str, float]:
    """Count, p50, p99 and mean, in milliseconds."""
    n = len(seconds)
    return {
        "n": n,
        "p50_ms": round(percentile(seconds, 50) * 1000, 3),
        "p99_ms": round(percentile(seconds, 99) * 1000, 3),
        "mean_ms": round(sum(seconds) / n * 1000, 3) if n else math.nan,
    }


def min_median_max(values: Sequence[float], digits: int = 3) -> dict[str, float]:
    """The spread of per-round figures, as every interleaved benchmark reports it."""
    return {
        "min": round(min(values), digits),
        "median": round(statistics.median(values), digits),
        "max": round(max(values), digits),
    }


def interleaved_cases(
    cases: Mapping[str, Mapping[str, Callable[[int], T]]],
    rounds: int,
    batch: Callable[[str], int],
    seed: int,
) -> dict[str, list[dict[str, T]]]:
    """Per case, each round's ``{contender: runner(batch(case))}``.

    Every runner is warmed up first (connections, lazy imports, caches). Then each round
    runs every case once, the cases and, within each, the contenders in a freshly
    shuffled order, so that drift in the machine's speed hits all of them alike.
    """
    rng = random.Random(seed)
    for runners in cases.values():
        for run in runners.values():
            run(10)
    per_round: dict[str, list[dict[str, T]]] = {case: [] for case in cases}
    for _ in range(rounds):
        for case in rng.sample(list(cases), len(cases)):
            runners, n = cases[case], batch(case)
            row = {name: runners[name](n) for name in rng.sample(list(runners), len(runners))}
            per_round[case].append(row)
    return per_round


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


class JsonPipe:
    """A child process spoken to in JSON lines: one request line, one reply line.

    The child's stderr goes to ``log``; every wait is bounded by a timeout.
    """

    def __init__(
        self, argv: Sequence[str], *, log: IO[str], env: Mapping[str, str] | None = None
    ) -> None:
        self._proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            cwd=ROOT,
            env=dict(env) if env is not None else None,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def receive(self, timeout: float) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no reply from {self._proc.args!r} in {timeout} s") from None
        if line is None:
            raise RuntimeError(f"{self._proc.args!r} exited with {self._proc.wait(5)}")
        reply: dict[str, Any] = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"child failed: {reply['error']}")
        return reply

    def call(self, op: str, wait: float, **fields: Any) -> dict[str, Any]:
        """Send ``{"op": op, **fields}``; the reply, within ``wait`` seconds."""
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps({"op": op, **fields}) + "\n")
        self._proc.stdin.flush()
        return self.receive(wait)

    def close(self) -> None:
        """Ask the child to quit, then terminate it (this process's own child only)."""
        if self._proc.poll() is None:
            with contextlib.suppress(OSError, RuntimeError, TimeoutError, ValueError):
                self.call("quit", 10.0)
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)
