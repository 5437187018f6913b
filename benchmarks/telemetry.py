"""What OpenTelemetry costs a call.

Sync calls, one healthy fake in another process: the raw openai SDK; failover with no
OpenTelemetry SDK installed (what most applications run: the API's providers are
proxies and failover builds nothing); and failover with the OpenTelemetry SDK installed,
a span processor feeding an in-memory exporter and an in-memory metric reader, so that
every span, event and metric point is built and stored (the most a call can pay before
the application's own exporter). Interleaved rounds, shuffled per round; the SDK is
installed only around its contender's batch. Reported: median latency and CPU per call
per contender, and per-round CPU ratios with their spread.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable
from typing import Any

import openai
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import failover
from benchmarks._common import MESSAGES, MODEL
from benchmarks._load import sequential
from benchmarks.bound_cost import _spread

RAW = "openai SDK (max_retries=0)"
OFF = "failover, no OpenTelemetry SDK"
ON = "failover, OpenTelemetry SDK, in-memory export"


class _Sdk:
    """Installs the SDK as an application would, and takes it away again (the API's
    globals are set once per process, so this reaches into them, as OTel's tests do)."""

    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        self.reader = InMemoryMetricReader()
        self.tracing = TracerProvider()
        self.tracing.add_span_processor(SimpleSpanProcessor(self.spans))
        self.metering = MeterProvider(metric_readers=[self.reader])
        self._saved: tuple[Any, Any] = (None, None)

    def __enter__(self) -> None:
        self._saved = (trace._TRACER_PROVIDER, metrics._internal._METER_PROVIDER)
        trace._TRACER_PROVIDER = self.tracing
        metrics._internal._METER_PROVIDER = self.metering

    def __exit__(self, *exc: object) -> None:
        trace._TRACER_PROVIDER, metrics._internal._METER_PROVIDER = self._saved
        self.spans.clear()
        self.reader.get_metrics_data()


def run(url: str, rounds: int, batch: int) -> dict[str, Any]:
    raw = openai.OpenAI(base_url=url, api_key="x", max_retries=0)
    client = failover.Failover([failover.Target("fake", MODEL, base_url=url, api_key="x")])
    sdk = _Sdk()

    def raw_call() -> object:
        return raw.chat.completions.create(model=MODEL, messages=MESSAGES)  # type: ignore[arg-type]

    def ours() -> object:
        return client.chat.completions.create(messages=MESSAGES)

    def with_sdk(n: int) -> tuple[list[float], float]:
        with sdk:
            return sequential(ours, n)

    contenders: dict[str, Callable[[int], tuple[list[float], float]]] = {
        RAW: lambda n: sequential(raw_call, n),
        OFF: lambda n: sequential(ours, n),
        ON: with_sdk,
    }
    rng = random.Random(11)
    try:
        for measure in contenders.values():
            measure(30)  # warm-up: connections, caches, the SDK's instruments
        per_round: list[dict[str, tuple[float, float]]] = []
        for _ in range(rounds):
            found = {}
            for name in rng.sample(list(contenders), len(contenders)):
                latencies, cpu = contenders[name](batch)
                found[name] = (statistics.median(latencies), cpu / batch)
            per_round.append(found)
    finally:
        raw.close()
        client.close()

    def ratio(a: str, b: str) -> dict[str, float]:
        return _spread([r[a][1] / r[b][1] for r in per_round])

    return {
        "setup": {"rounds": rounds, "calls_per_round": batch},
        "p50_ms": {n: _spread([r[n][0] * 1000 for r in per_round]) for n in contenders},
        "cpu_us_per_call": {n: _spread([r[n][1] * 1e6 for r in per_round]) for n in contenders},
        "cpu_off_vs_raw": ratio(OFF, RAW),
        "cpu_on_vs_off": ratio(ON, OFF),
        "extra_cpu_us_with_sdk": _spread([(r[ON][1] - r[OFF][1]) * 1e6 for r in per_round]),
    }
