"""A randomized fault soak: ``python benchmarks/soak.py --calls N [--seed S] [--out F]``.

Three fake providers in their own process fail about a quarter of their requests, with
every fault kind ``failover.testing`` has (``_soak_fakes.py``). Sync and async workers,
half of them streaming, share one ``Failover`` and one ``AsyncFailover`` client and
make N calls between them. The soak checks failover's first promise on every call: it
returns an answer, or raises a ``FailoverError`` within its deadline. It prints and
checks (exit status 1 if any is not 0):

* calls that neither answered nor raised ``FailoverError`` (a stream counts as answered
  only if it ended with a finish reason: a silent truncation is "neither");
* calls that outlived their deadline by more than 0.5 s;
* exceptions of any other type;
* API keys found in captured log records or in exceptions.

It also samples the client's RSS, open file descriptors and threads every
``--sample-every`` calls and reports each one's slope per 100k calls after warm-up.
"""

from __future__ import annotations

import argparse
import asyncio
import faulthandler
import itertools
import json
import logging
import os
import random
import resource
import subprocess
import sys
import threading
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

if not __package__:  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import JsonPipe
from failover import AsyncFailover, ChatStream, Failover, FailoverError, Policy, Target

POLICY = Policy(
    max_retries=1,
    backoff_base=0.005,
    backoff_max=0.02,
    timeout=1.5,
    attempt_timeout=0.3,
    connect_timeout=0.3,
    breaker_fail_max=5,
    breaker_reset=0.5,
    first_token_timeout=0.3,
    stream_idle_timeout=0.3,
)
SLACK = 0.5  # seconds past the deadline that count as outliving it (--slack)
MESSAGES = [{"role": "user", "content": "Soak."}]
WARM_UP = 0.2  # share of the calls before which samples are not used for slopes


def _commit() -> str:
    """The checkout's commit, so that a result names the code it measured."""
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or "unknown"


COMMIT = _commit()  # at the start: commits made while a long soak runs are not in it


def secret(name: str) -> str:
    return f"sk-soak-SECRET-{name}-0123456789abcdef"


class Tally:
    """Outcomes of all calls; shared by threads and the event loop."""

    def __init__(self, slack: float = SLACK) -> None:
        self.slack = slack
        self.lock = threading.Lock()
        self.in_flight: dict[int, float] = {}  # call number -> start (monotonic)
        self.started = time.monotonic()
        self.overshot_at: list[float] = []  # seconds into the run, to match with load
        self.done = 0
        self.outcomes: Counter[str] = Counter()
        self.overshoots: list[float] = []
        self.leaks_in_errors = 0
        self.other: list[str] = []  # tracebacks of exceptions of other types (first few)
        self.examples: dict[str, str] = {}  # the first message of each FailoverError type
        self.worst: tuple[float, str] = (0.0, "")  # the longest call, and what it raised

    def record(self, outcome: str, elapsed: float, exc: BaseException | None = None) -> None:
        leaked = exc is not None and _leaks(exc)
        with self.lock:
            self.done += 1
            self.outcomes[outcome] += 1
            if elapsed > POLICY.timeout + self.slack:
                self.overshoots.append(elapsed - POLICY.timeout)
                self.overshot_at.append(round(time.monotonic() - self.started, 1))
            if exc is not None and outcome not in self.examples:
                self.examples[outcome] = str(exc)[:1500]
            if elapsed > self.worst[0]:
                self.worst = (elapsed, f"{outcome}: {exc}"[:3000])
            self.leaks_in_errors += leaked
            if outcome.startswith("other:") and len(self.other) < 5 and exc is not None:
                self.other.append("".join(traceback.format_exception(exc))[-2000:])


def _leaks(exc: BaseException) -> bool:
    texts = [str(exc), repr(exc)]
    texts += [a.describe() for a in getattr(exc, "attempts", ())]
    return any(secret(name) in text for text in texts for name in _NAMES)


_NAMES: list[str] = []


class LogWatch(logging.Handler):
    """Counts log records, and those that contain a key."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records = 0
        self.leaks = 0

    def emit(self, record: logging.LogRecord) -> None:
        text = self.format(record)
        self.records += 1
        self.leaks += any(secret(name) in text for name in _NAMES)


def _answered_call(answer: Any) -> bool:
    choices = getattr(answer, "choices", None)
    return isinstance(choices, list) and bool(choices) and choices[0].finish_reason is not None


def _finished(chunks: list[Any]) -> bool:
    return any(c.finish_reason for chunk in chunks for c in chunk.choices)


def _one_sync(client: Failover, stream: bool, tally: Tally) -> None:
    started = time.monotonic()
    try:
        if stream:
            s: ChatStream = client.chat.completions.create(messages=MESSAGES, stream=True)
            with s:
                ok = _finished(list(s))
        else:
            ok = _answered_call(client.chat.completions.create(messages=MESSAGES))
        tally.record("answered" if ok else "neither", time.monotonic() - started)
    except FailoverError as exc:
        tally.record(type(exc).__name__, time.monotonic() - started, exc)
    except Exception as exc:
        tally.record(f"other:{type(exc).__name__}", time.monotonic() - started, exc)


async def _one_async(client: AsyncFailover, stream: bool, tally: Tally) -> None:
    started = time.monotonic()
    try:
        if stream:
            s = await client.chat.completions.create(messages=MESSAGES, stream=True)
            async with s:
                ok = _finished([c async for c in s])
        else:
            ok = _answered_call(await client.chat.completions.create(messages=MESSAGES))
        tally.record("answered" if ok else "neither", time.monotonic() - started)
    except FailoverError as exc:
        tally.record(type(exc).__name__, time.monotonic() - started, exc)
    except Exception as exc:
        tally.record(f"other:{type(exc).__name__}", time.monotonic() - started, exc)


def _print_tasks() -> None:
    for task in asyncio.all_tasks():
        task.print_stack(limit=30, file=sys.stderr)


def _sample(calls: int) -> dict[str, float]:
    status = Path("/proc/self/status").read_text()
    rss_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
    return {
        "calls": calls,
        "rss_mb": round(rss_kb / 1024, 1),
        "fds": len(os.listdir("/proc/self/fd")),
        "threads": threading.active_count(),
    }


def _slope(samples: list[dict[str, float]], key: str) -> float:
    """Least-squares slope of ``key`` per 100k calls."""
    n = len(samples)
    if n < 2:
        return 0.0
    xs = [s["calls"] for s in samples]
    ys = [s[key] for s in samples]
    mx, my = sum(xs) / n, sum(ys) / n
    var = sum((x - mx) ** 2 for x in xs)
    cov = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    return round(cov / var * 100_000, 3) if var else 0.0


def run(
    calls: int, seed: int, threads: int, tasks: int, sample_every: int, slack: float = SLACK
) -> dict[str, Any]:
    log_path = Path(os.environ.get("TMPDIR", "/tmp")) / "failover-soak-fakes.log"
    with log_path.open("w") as log:
        fakes = JsonPipe([sys.executable, "-m", "benchmarks._soak_fakes", str(seed)], log=log)
        try:
            urls = fakes.receive(timeout=60.0)["urls"]
            return _drive(urls, calls, seed, threads, tasks, sample_every, slack)
        finally:
            fakes.call("quit", 30.0)
            fakes.close()


def _drive(
    urls: dict[str, list[str]],
    calls: int,
    seed: int,
    threads: int,
    tasks: int,
    every: int,
    slack: float,
) -> dict[str, Any]:
    _NAMES[:] = list(urls)
    chain = [
        Target(name, "soak-model", api=api, base_url=url, api_key=secret(name))  # type: ignore[arg-type]
        for name, (api, url) in urls.items()
    ]
    watch = LogWatch()
    logging.getLogger().addHandler(watch)
    for name in ("failover", "httpx2", "openai", "anthropic"):
        logging.getLogger(name).setLevel(logging.DEBUG if name == "failover" else logging.INFO)
    tally = Tally(slack)
    counter = itertools.count()
    streams = random.Random(seed)
    plan = [streams.random() < 0.5 for _ in range(calls)]  # which calls stream
    samples: list[dict[str, float]] = []
    cpu0, started = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()

    def sync_worker(client: Failover) -> None:
        while (i := next(counter)) < calls:
            tally.in_flight[i] = time.monotonic()
            try:
                _one_sync(client, plan[i], tally)
            finally:
                del tally.in_flight[i]

    async def async_side() -> None:
        async with AsyncFailover(chain, policy=POLICY) as client:

            async def worker() -> None:
                while (i := next(counter)) < calls:
                    tally.in_flight[i] = time.monotonic()
                    try:
                        await _one_async(client, plan[i], tally)
                    finally:
                        del tally.in_flight[i]

            loops.append(asyncio.get_running_loop())

            await asyncio.gather(*(worker() for _ in range(tasks)))

    loops: list[asyncio.AbstractEventLoop] = []

    def monitor() -> None:
        mark, dumped = 0, False
        while True:
            stuck = time.monotonic() - min(tally.in_flight.values(), default=time.monotonic())
            if stuck > POLICY.timeout + 10 and not dumped:  # show where, once
                dumped = True
                print(f"a call has run {stuck:.0f} s; stacks follow", file=sys.stderr)
                faulthandler.dump_traceback(sys.stderr, all_threads=True)
                for loop in loops:
                    loop.call_soon_threadsafe(_print_tasks)
            done = tally.done
            if done >= mark or done >= calls:
                samples.append(_sample(done))
                # The next mark on the grid, not `done + every`: a poll that lands a few
                # calls late must not push every later sample (and the last) further out.
                mark = (done // every + 1) * every
                # A progress line per sample: a long run shows (and keeps) where it is.
                print(
                    json.dumps({**samples[-1], "s": round(time.monotonic() - started)}),
                    file=sys.stderr,
                    flush=True,
                )
            if done >= calls:
                return
            time.sleep(0.05)

    with Failover(chain, policy=POLICY) as sync_client:
        workers = [
            threading.Thread(target=sync_worker, args=(sync_client,)) for _ in range(threads)
        ]
        watcher = threading.Thread(target=monitor)
        for thread in [*workers, watcher]:
            thread.start()
        asyncio.run(async_side())
        for thread in [*workers, watcher]:
            thread.join()
    wall = time.monotonic() - started
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    settled = [s for s in samples if s["calls"] >= calls * WARM_UP]
    neither = tally.outcomes["neither"]
    other = sum(n for k, n in tally.outcomes.items() if k.startswith("other:"))
    checks = {
        "neither answered nor raised FailoverError": neither,
        f"outlived the deadline by > {tally.slack} s": len(tally.overshoots),
        "exceptions of other types": other,
        "keys in captured logs": watch.leaks,
        "keys in exceptions": tally.leaks_in_errors,
    }
    return {
        "setup": {
            "calls": calls,
            "seed": seed,
            "sync_threads": threads,
            "async_tasks": tasks,
            "policy": {k: getattr(POLICY, k) for k in ("timeout", "attempt_timeout")},
            "fault_rate": "about 25% of requests per provider, every fault kind",
            "warm_up": WARM_UP,
            "commit": COMMIT,
        },
        "wall_s": round(wall, 1),
        "calls_per_s": round(calls / wall, 1),
        "client_cpu_s": round(cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime, 1),
        "outcomes": dict(tally.outcomes.most_common()),
        "log_records_checked": watch.records,
        "checks": checks,
        "max_overshoot_s": round(max(tally.overshoots, default=0.0), 3),
        "overshoots_at_s": tally.overshot_at[:50],
        "other_tracebacks": tally.other,
        "first_error_of_each_type": tally.examples,
        "longest_call": {"seconds": round(tally.worst[0], 3), "what": tally.worst[1]},
        "slopes_per_100k_calls": {
            key: _slope(settled, key) for key in ("rss_mb", "fds", "threads")
        },
        "samples": samples,
        "passed": all(v == 0 for v in checks.values()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=4, help="sync workers")
    parser.add_argument("--tasks", type=int, default=12, help="async workers")
    parser.add_argument("--sample-every", type=int, default=10_000)
    parser.add_argument("--out", type=Path, help="JSON results (default: print only)")
    parser.add_argument(
        "--slack", type=float, default=SLACK, help="seconds past the deadline that count"
    )
    args = parser.parse_args(argv)
    every = max(1, min(args.sample_every, args.calls // 10))
    result = run(args.calls, args.seed, args.threads, args.tasks, every, args.slack)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"{args.calls} calls in {result['wall_s']} s ({result['calls_per_s']}/s), "
        f"client CPU {result['client_cpu_s']} s"
    )
    print("outcomes:", ", ".join(f"{k} {v}" for k, v in result["outcomes"].items()))
    for name, count in result["checks"].items():
        print(f"  {'ok  ' if count == 0 else 'FAIL'} {name}: {count}")
    slopes = result["slopes_per_100k_calls"]
    print("after warm-up, per 100k calls:", ", ".join(f"{k} {v:+}" for k, v in slopes.items()))
    for text in result["other_tracebacks"]:
        print(text, file=sys.stderr)
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
