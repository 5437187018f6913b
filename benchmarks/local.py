"""A model in this process (``local/smollm2``): load time, memory, speed, overhead.

Load and memory: fresh interpreters, one after another, each importing failover and
openai's types (what any client needs), then building a client whose chain is
``local/smollm2`` (importing llama.cpp and loading the model) and answering once;
resident memory (VmRSS) before the build, after it, and after the answer.

Generation: interleaved rounds, shuffled per round, of streamed answers (at most 64
tokens, temperature 0, a new question per call so that no prompt is cached whole) from
llama-cpp-python called directly and through failover's sync client. Per call: time to
first token, tokens per second over the whole answer, and CPU (the process's, so
llama.cpp's threads are in it). Per round: failover's ratio to the direct call.
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from benchmarks._common import min_median_max

RAW = "llama-cpp-python, direct"
FAILOVER = "failover, local/smollm2"
MAX_TOKENS = 64

_LOAD = """
import json, time
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
import failover, failover._adapters._local  # what any client needs (openai's types)
before, started = rss(), time.perf_counter()
client = failover.Failover([failover.Target.local()])
built, loaded = time.perf_counter() - started, rss()
started = time.perf_counter()
client.chat.completions.create(messages=[{"role": "user", "content": "Hi"}], max_tokens=8)
first = time.perf_counter() - started
print(json.dumps({"build_s": built, "first_answer_s": first, "rss_before_mb": before,
                  "rss_loaded_mb": loaded, "rss_answered_mb": rss()}))
"""


def _loads(runs: int) -> dict[str, Any]:
    samples = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", _LOAD], capture_output=True, text=True, check=True
        )
        samples.append(json.loads(done.stdout.strip().splitlines()[-1]))

    def of(key: str, base: str | None = None) -> dict[str, float]:
        return min_median_max([s[key] - (s[base] if base else 0.0) for s in samples])

    return {
        "runs": runs,
        "build_s": of("build_s"),
        "first_answer_s": of("first_answer_s"),
        "rss_added_loaded_mb": of("rss_loaded_mb", "rss_before_mb"),
        "rss_added_answered_mb": of("rss_answered_mb", "rss_before_mb"),
    }


Stream = Callable[[list[dict[str, str]]], Iterator[str]]


def _contenders() -> dict[str, Stream]:
    import failover
    from failover._adapters._llama import load

    target = failover.Target.local()
    assert target.model_path is not None
    llama: Any = load(target.model_path)._llama  # the very model failover runs, shared
    client = failover.Failover([target], policy=failover.Policy(timeout=60, attempt_timeout=60))

    def raw(messages: list[dict[str, str]]) -> Iterator[str]:
        for chunk in llama.create_chat_completion(
            messages, max_tokens=MAX_TOKENS, temperature=0, stream=True
        ):
            yield chunk["choices"][0]["delta"].get("content") or ""

    def routed(messages: list[dict[str, str]]) -> Iterator[str]:
        with client.chat.completions.create(
            messages=messages, max_tokens=MAX_TOKENS, temperature=0, stream=True
        ) as stream:
            for chunk in stream:
                yield (chunk.choices[0].delta.content or "") if chunk.choices else ""

    return {RAW: raw, FAILOVER: routed}


def _one(stream: Stream, question: int) -> tuple[float, float, float, int]:
    """(time to first token, tokens/s, CPU s, tokens) of one streamed answer."""
    messages = [{"role": "user", "content": f"Tell me one fact about the number {question}."}]
    cpu, started = time.process_time(), time.perf_counter()
    first, tokens = 0.0, 0
    for text in stream(messages):
        if text:
            tokens += 1
            first = first or time.perf_counter() - started
    took = time.perf_counter() - started
    return first, tokens / took, time.process_time() - cpu, tokens


def run(rounds: int = 7, batch: int = 6, load_runs: int = 5, seed: int = 7) -> dict[str, Any]:
    loads = _loads(load_runs)
    contenders = _contenders()
    rng = random.Random(seed)
    question = 0
    for stream in contenders.values():  # warm-up
        _one(stream, question)
    per_round: list[dict[str, dict[str, float]]] = []
    for _ in range(rounds):
        this: dict[str, dict[str, float]] = {}
        for name in rng.sample(list(contenders), len(contenders)):
            calls = []
            for _ in range(batch):
                question += 1
                calls.append(_one(contenders[name], question))
            this[name] = {
                "ttft_ms": statistics.median(c[0] for c in calls) * 1000,
                "tokens_per_s": statistics.median(c[1] for c in calls),
                "cpu_ms_per_token": sum(c[2] for c in calls) / sum(c[3] for c in calls) * 1000,
            }
        per_round.append(this)

    def across(name: str, key: str) -> dict[str, float]:
        return min_median_max([r[name][key] for r in per_round])

    def ratio(key: str) -> dict[str, float]:
        return min_median_max([r[FAILOVER][key] / r[RAW][key] for r in per_round])

    keys = ("ttft_ms", "tokens_per_s", "cpu_ms_per_token")
    return {
        "setup": {"rounds": rounds, "calls_per_round": batch, "max_tokens": MAX_TOKENS},
        "load": loads,
        "generation": {name: {k: across(name, k) for k in keys} for name in contenders},
        "failover_vs_raw": {k: ratio(k) for k in keys},
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
