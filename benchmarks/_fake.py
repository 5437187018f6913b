"""The fake providers, in their own process, driven over a JSON-lines pipe.

``python -m benchmarks._fake`` starts three healthy fake OpenAI providers (primary,
secondary, tertiary) on 127.0.0.1 and prints their base URLs. It then runs drill
timelines on the primary (faults via ``set_mode``/``set_schedule``; "refused" stops
its server and starts it again on the same port) and reports, per phase, how many
requests each provider *received*, from the providers' own request logs.

:class:`FakeServers` is the parent's handle on that process.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any

from benchmarks._common import JsonPipe

if TYPE_CHECKING:
    from failover.testing import FakeProvider

NAMES = ("primary", "secondary", "tertiary")
# Healthy providers whose answers stream in this many content chunks (streams benchmark).
STREAMS = {"stream10": 10, "stream200": 200}
# Phase kinds a drill may use; "refused" is the primary's server stopped.
KINDS = ("healthy", "status503", "html502", "hang", "refused", "flap30", "flap50", "slowtail")


class FakeServers:
    """Parent side: start the fake process, run drills, read the counts."""

    def __init__(self, log: IO[str]) -> None:
        self._pipe = JsonPipe([sys.executable, "-m", "benchmarks._fake"], log=log)
        self.urls: dict[str, str] = self._pipe.receive(timeout=30.0)["urls"]

    def drill(self, t0: float, phases: Sequence[tuple[str, float]]) -> None:
        """Start the timeline at wall-clock ``t0`` (``time.time()``); returns at once."""
        self._pipe.call("drill", 10.0, t0=t0, phases=[list(p) for p in phases])

    def counts(self, timeout: float) -> dict[str, Any]:
        """Wait for the drill to end; requests received per provider and phase."""
        return self._pipe.call("counts", timeout)

    def reset(self) -> None:
        """All providers healthy and serving, request logs cleared."""
        self._pipe.call("reset", 20.0)

    def close(self) -> None:
        self._pipe.close()


# -- child side -------------------------------------------------------------------------


def _fault_for(kind: str, seconds: float) -> tuple[Any, Any]:
    """``(mode, schedule)`` to set on the primary for one phase kind."""
    from failover.testing import Fault, Phase, Schedule

    if kind == "status503":
        return Fault.status(503), None
    if kind == "html502":
        return Fault.html(502), None
    if kind == "hang":
        return Fault.hang(), None
    if kind in ("flap30", "flap50"):  # a partial outage: this share of requests fail
        share = 0.3 if kind == "flap30" else 0.5
        return None, Schedule([Phase(seconds, Fault.status(503), share)], seed=7)
    if kind == "slowtail":  # merely slow: 3% of requests wait 3 s for their first byte
        return None, Schedule([Phase(seconds, Fault.slow_first_byte(3.0), 0.03)], seed=7)
    return None, None


class _Drill:
    """Runs one timeline on the primary from a thread; remembers each phase's window."""

    def __init__(self, fakes: dict[str, FakeProvider], t0: float, phases: list[Any]) -> None:
        self.fakes = fakes
        self.t0 = t0
        self.phases = [(str(kind), float(seconds)) for kind, seconds in phases]
        self.windows: list[tuple[str, float, float]] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        primary = self.fakes["primary"]
        boundary = self.t0
        for kind, seconds in self.phases:
            time.sleep(max(0.0, boundary - time.time()))
            start = time.monotonic()
            if kind == "refused":
                primary.stop()
            else:
                if not primary.running:
                    primary.start()
                mode, schedule = _fault_for(kind, seconds)
                primary.set_mode(mode)
                primary.set_schedule(schedule)
            boundary += seconds
            self.windows.append((kind, start, start + max(0.0, boundary - time.time())))
        time.sleep(max(0.0, boundary - time.time()))
        if not primary.running:
            primary.start()
        primary.set_mode(None)
        primary.set_schedule(None)

    def counts(self, timeout: float) -> dict[str, Any]:
        self.thread.join(timeout)
        per_phase: list[dict[str, Any]] = []
        logs = {name: fake.requests for name, fake in self.fakes.items()}
        for kind, start, end in self.windows:
            row: dict[str, Any] = {"kind": kind}
            for name, log in logs.items():
                hits = [r for r in log if start <= r.arrived_at < end]
                row[name] = len(hits)
                row[f"{name}_faulted"] = sum(1 for r in hits if r.fault is not None)
            per_phase.append(row)
        return {"phases": per_phase}


def main() -> int:
    out = os.fdopen(os.dup(1), "w", buffering=1)  # the protocol; stray prints go to stderr
    os.dup2(2, 1)
    from failover.testing import FakeProvider, Reply

    fakes = {name: FakeProvider("openai", name=name).start() for name in NAMES}
    for name, chunks in STREAMS.items():
        # 8 characters per chunk, each one different (LiteLLM cuts a stream that repeats
        # a chunk as a looping model).
        answer = Reply("".join(f"w{i:06d} " for i in range(chunks)), chunk_size=8)
        fakes[name] = FakeProvider("openai", name=name, reply=answer).start()
    drill: _Drill | None = None

    def reply(**data: Any) -> None:
        out.write(json.dumps(data) + "\n")

    reply(urls={name: fake.base_url for name, fake in fakes.items()})
    for line in sys.stdin:
        request = json.loads(line)
        op = request["op"]
        try:
            if op == "drill":
                drill = _Drill({n: fakes[n] for n in NAMES}, request["t0"], request["phases"])
                reply(ok=True)
            elif op == "counts":
                reply(**(drill.counts(120.0) if drill else {"phases": []}))
            elif op == "reset":
                for fake in fakes.values():
                    fake.start()
                    fake.reset()
                reply(ok=True)
            elif op == "quit":
                reply(ok=True)
                break
            else:
                reply(error=f"unknown op {op!r}")
        except Exception as exc:
            reply(error=f"{type(exc).__name__}: {exc}")
    for fake in fakes.values():
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
