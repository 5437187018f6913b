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
from benchmarks._common import MESSAGES, MODEL, min_median_max
from benchmarks.bound_cost import interleaved

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

    def __enter__(self) -> _Sdk:
        self._saved = (trace._TRACER_PROVIDER, metrics._internal._METER_PROVIDER)
        trace._TRACER_PROVIDER = self.tracing
        metrics._internal._METER_PROVIDER = self.metering
        return self

    def __exit__(self, *exc: object) -> None:
        trace._TRACER_PROVIDER, metrics._internal._METER_PROVIDER = self._saved
        self.spans.clear()
        self.reader.get_metrics_data()


def run(url: str, rounds: int, batch: int) -> dict[str, Any]:
    raw = openai.OpenAI(base_url=url, api_key="x", max_retries=0)
    client = failover.Failover([failover.Target("fake", MODEL, base_url=url, api_key="x")])

    def ours() -> object:
        return client.chat.completions.create(messages=MESSAGES)

    calls: dict[str, Callable[[], object]] = {
        RAW: lambda: raw.chat.completions.create(model=MODEL, messages=MESSAGES),  # type: ignore[arg-type]
        OFF: ours,
        ON: ours,
    }
    try:
        per_round = interleaved(calls, rounds, batch, seed=11, around={ON: _Sdk()})
    finally:
        raw.close()
        client.close()

    def ratio(a: str, b: str) -> dict[str, float]:
        return min_median_max([r[a][1] / r[b][1] for r in per_round])

    return {
        "setup": {"rounds": rounds, "calls_per_round": batch},
        "p50_ms": {n: min_median_max([r[n][0] * 1000 for r in per_round]) for n in calls},
        "cpu_us_per_call": {n: min_median_max([r[n][1] * 1e6 for r in per_round]) for n in calls},
        "cpu_off_vs_raw": ratio(OFF, RAW),
        "cpu_on_vs_off": ratio(ON, OFF),
        "extra_cpu_us_with_sdk": min_median_max([(r[ON][1] - r[OFF][1]) * 1e6 for r in per_round]),
    }
