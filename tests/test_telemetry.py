"""OpenTelemetry spans and metrics, read back from the SDK's in-memory exporter and reader
after real calls through the real SDKs to the fakes."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from failover import AllTargetsFailed, AsyncFailover, Failover, Group, Target
from failover.testing import FakeProvider, Fault

from .conftest import FAST, MESSAGES, SECRET, target

ONCE = dataclasses.replace(FAST, max_retries=0)


@dataclasses.dataclass
class Otel:
    spans: InMemorySpanExporter
    reader: InMemoryMetricReader
    seen: dict[str, list[Any]] = dataclasses.field(default_factory=dict)

    def metric(self, name: str) -> list[Any]:
        """The points of ``name`` this test recorded (each collection drains the deltas)."""
        data = self.reader.get_metrics_data()
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for found in scope.metrics:
                    self.seen.setdefault(found.name, []).extend(found.data.data_points)
        return self.seen.get(name, [])


@pytest.fixture(scope="module")
def installed() -> Iterator[Otel]:
    """An SDK installed as an application would, and the API's globals reset afterwards
    so that the rest of the suite runs without one (as most users do)."""
    # Delta points: each test reads only what its own calls recorded.
    delta: dict[type, AggregationTemporality] = {
        Counter: AggregationTemporality.DELTA,
        Histogram: AggregationTemporality.DELTA,
    }
    exporter, reader = InMemorySpanExporter(), InMemoryMetricReader(preferred_temporality=delta)
    tracing = TracerProvider()
    tracing.add_span_processor(SimpleSpanProcessor(exporter))
    saved = (trace._TRACER_PROVIDER, metrics._internal._METER_PROVIDER)
    trace._TRACER_PROVIDER = tracing
    metrics._internal._METER_PROVIDER = MeterProvider(metric_readers=[reader])
    yield Otel(exporter, reader)
    trace._TRACER_PROVIDER, metrics._internal._METER_PROVIDER = saved


@pytest.fixture
def otel(installed: Otel) -> Otel:
    installed.spans.clear()
    installed.reader.get_metrics_data()  # drop what earlier tests recorded
    installed.seen.clear()
    return installed


def _tree(spans: tuple[ReadableSpan, ...]) -> tuple[ReadableSpan, list[ReadableSpan]]:
    calls = [s for s in spans if s.name == "failover chat"]
    assert len(calls) == 1
    call = calls[0]
    children = [
        s for s in spans if s.parent is not None and s.parent.span_id == call.context.span_id
    ]
    assert all(s.context.trace_id == call.context.trace_id for s in children)
    ours = [
        s
        for s in children
        if s.instrumentation_scope and s.instrumentation_scope.name == "failover"
    ]
    return call, sorted(ours, key=lambda s: s.start_time or 0)


def _no_key(spans: tuple[ReadableSpan, ...]) -> None:
    for span in spans:
        texts = [str(span.attributes), *(str(e.attributes) for e in span.events)]
        assert not any(SECRET in text for text in texts)


def test_a_call_that_fails_over_makes_one_span_per_attempt_under_one_call_span(
    otel: Otel, primary: FakeProvider, secondary: FakeProvider
) -> None:
    primary.enqueue(Fault.status(503))
    chain = [target(primary, "primary"), target(secondary, "backup")]
    with Failover(chain, policy=ONCE) as client:
        answer = client.chat.completions.create(messages=MESSAGES)
    spans = otel.spans.get_finished_spans()
    call, (failed, answered) = _tree(spans)
    assert call.attributes is not None and failed.attributes is not None
    assert answered.attributes is not None
    assert call.attributes["failover.outcome"] == "answered"
    assert call.attributes["failover.target"] == "backup/model-x"
    assert call.attributes["failover.attempts"] == 2
    assert [e.name for e in call.events] == ["failover.fallback"]
    assert failed.kind is SpanKind.CLIENT and failed.name == "chat model-x"
    assert failed.attributes["gen_ai.provider.name"] == "primary"
    assert failed.attributes["error.type"] == "server_error"
    assert failed.attributes["http.response.status_code"] == 503
    assert failed.status.status_code is StatusCode.ERROR
    assert answered.attributes["gen_ai.operation.name"] == "chat"
    assert answered.attributes["server.address"] == "127.0.0.1"
    assert answered.attributes["server.port"] == secondary.port
    assert answer.usage is not None
    assert answered.attributes["gen_ai.usage.input_tokens"] == answer.usage.prompt_tokens
    assert answered.attributes["gen_ai.usage.output_tokens"] == answer.usage.completion_tokens
    assert answered.attributes["gen_ai.response.model"] == answer.model
    assert answered.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert "error.type" not in answered.attributes
    # The anthropic SDK's own span (FACTS.md) nests under the call span, beside ours.
    sdk = [s for s in spans if s.name == "anthropic.messages.create"]
    assert len(sdk) == 1 and sdk[0].parent is not None
    assert sdk[0].parent.span_id == call.context.span_id
    _no_key(spans)
    durations = otel.metric("gen_ai.client.operation.duration")
    assert sum(p.count for p in durations) == 2
    assert {p.attributes.get("error.type") for p in durations} == {"server_error", None}
    tokens = otel.metric("gen_ai.client.token.usage")
    assert {p.attributes["gen_ai.token.type"] for p in tokens} == {"input", "output"}
    assert [p.value for p in otel.metric("failover.fallbacks")] == [1]
    assert [p.attributes["failover.outcome"] for p in otel.metric("failover.calls")] == ["answered"]


def test_a_stream_span_lasts_to_its_end_and_records_the_first_chunk(
    otel: Otel, primary: FakeProvider
) -> None:
    primary.set_reply("one two three four five six")
    with Failover([target(primary)], policy=ONCE) as client:
        stream = client.chat.completions.create(messages=MESSAGES, stream=True)
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "one two three four five six"
    call, (attempt,) = _tree(otel.spans.get_finished_spans())
    assert attempt.attributes is not None and call.attributes is not None
    assert attempt.attributes["gen_ai.request.stream"] is True
    first = attempt.attributes["gen_ai.response.time_to_first_chunk"]
    assert isinstance(first, float) and first > 0
    assert attempt.end_time is not None and attempt.start_time is not None
    assert (attempt.end_time - attempt.start_time) / 1e9 >= first
    assert sum(p.count for p in otel.metric("gen_ai.client.operation.time_to_first_chunk")) == 1


async def test_a_call_that_fails_everywhere_marks_the_call_span_as_an_error(
    otel: Otel, primary: FakeProvider, secondary: FakeProvider
) -> None:
    primary.set_mode(Fault.status(500))
    secondary.set_mode(Fault.overloaded())
    chain = [target(primary, "primary"), target(secondary, "backup")]
    async with AsyncFailover(chain, policy=ONCE) as client:
        with pytest.raises(AllTargetsFailed):
            await client.chat.completions.create(messages=MESSAGES)
    call, attempts = _tree(otel.spans.get_finished_spans())
    assert call.status.status_code is StatusCode.ERROR and call.attributes is not None
    assert call.attributes["error.type"] == "AllTargetsFailed"
    assert len(attempts) == 2 and all(a.status.status_code is StatusCode.ERROR for a in attempts)
    assert [p.attributes["failover.outcome"] for p in otel.metric("failover.calls")] == [
        "AllTargetsFailed"
    ]


def test_skips_and_a_static_answer_are_events_not_attempt_spans(
    otel: Otel, primary: FakeProvider
) -> None:
    primary.set_mode(Fault.status(503))
    chain = [target(primary, "primary"), Target.static("Busy, try later")]
    policy = dataclasses.replace(ONCE, breaker_fail_max=1, breaker_reset=60)
    with Failover(chain, policy=policy) as client:
        client.chat.completions.create(messages=MESSAGES)  # trips the breaker
        otel.spans.clear()
        client.chat.completions.create(messages=MESSAGES)
    call, attempts = _tree(otel.spans.get_finished_spans())
    assert attempts == [] and call.attributes is not None
    assert [e.name for e in call.events] == ["failover.skipped", "failover.degraded"]
    assert call.attributes["failover.outcome"] == "degraded"
    transitions = otel.metric("failover.breaker.transitions")
    assert [
        (p.attributes["failover.target"], p.attributes["failover.state"]) for p in transitions
    ] == [("primary/model-x", "open")]


def test_without_an_sdk_nothing_is_built() -> None:
    code = (
        "import failover._telemetry.otel as t, opentelemetry.trace as tr; "
        "print(t.enabled(), type(tr.get_tracer_provider()).__name__)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "ProxyTracerProvider"]


def test_a_provider_the_environment_names_is_used() -> None:
    # failover reads the API's provider globals rather than its getters on each call;
    # the getters still load a provider named by OTEL_PYTHON_TRACER_PROVIDER.
    code = "import failover._telemetry.otel as t; t.enabled(); print(t.enabled(), t._otel.tracing)"
    env = {**os.environ, "OTEL_PYTHON_TRACER_PROVIDER": "sdk_tracer_provider"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert done.stdout.split() == ["True", "True"]


def test_the_call_span_is_a_child_of_the_applications_span(
    otel: Otel, primary: FakeProvider
) -> None:
    with (
        Failover([target(primary)], policy=ONCE) as client,
        trace.get_tracer("app").start_as_current_span("handle request") as app,
    ):
        client.chat.completions.create(messages=MESSAGES)
    call, _ = _tree(otel.spans.get_finished_spans())
    assert call.parent is not None and call.parent.span_id == app.get_span_context().span_id


def test_embeddings_attempts_are_spans_of_the_embeddings_operation(
    otel: Otel, primary: FakeProvider
) -> None:
    with FakeProvider("openai") as second:
        primary.enqueue(Fault.status(503))
        chain = [target(primary, "p", "emb-1"), target(second, "s", "emb-1")]
        with Failover([target(primary)], policy=ONCE, embedding_chain=chain) as client:
            client.embeddings.create(input=["a", "b"])
    spans = otel.spans.get_finished_spans()
    calls = [s for s in spans if s.name == "failover embeddings"]
    assert len(calls) == 1 and calls[0].attributes is not None
    assert calls[0].attributes["gen_ai.operation.name"] == "embeddings"
    attempts = sorted(
        (s for s in spans if s.name == "embeddings emb-1"), key=lambda s: s.start_time or 0
    )
    assert [s.attributes.get("error.type") for s in attempts if s.attributes] == [
        "server_error",
        None,
    ]
    assert attempts[1].attributes is not None
    assert attempts[1].attributes["gen_ai.usage.input_tokens"] == 2
    assert {p.attributes["gen_ai.operation.name"] for p in otel.metric("failover.calls")} == {
        "embeddings"
    }


def test_spans_name_each_attempts_place_and_a_move_to_a_sibling_is_no_fallback(
    otel: Otel, primary: FakeProvider, secondary: FakeProvider
) -> None:
    with FakeProvider("openai") as sibling:
        primary.enqueue(Fault.status(503))
        group = Group(target(primary, "a"), target(sibling, "b"), weights=[1000, 1])
        with Failover([group, target(secondary, "backup")], policy=ONCE) as client:
            assert client.chat.completions.with_report.create(messages=MESSAGES).target == (
                "b/model-x"
            )
    call, attempts = _tree(otel.spans.get_finished_spans())
    assert call.attributes is not None
    assert call.attributes["failover.chain"] == ("a/model-x|b/model-x", "backup/model-x")
    assert [(s.attributes or {}).get("failover.place") for s in attempts] == [1, 1]
    assert [e.name for e in call.events] == ["failover.sibling"]
    assert otel.metric("failover.fallbacks") == []


def test_a_responses_call_that_fails_over_records_its_usage_and_fallback(
    otel: Otel, primary: FakeProvider, secondary: FakeProvider
) -> None:
    """A Responses answer (converted on Anthropic) is observed as a chat answer is:
    one span per attempt, the answering model's tokens, the fallback counted."""
    primary.enqueue(Fault.status(503))
    chain = [target(primary, "primary"), target(secondary, "backup")]
    with Failover(chain, policy=ONCE) as client:
        answer = client.responses.create(input="Say hello")
    call, (failed, answered) = _tree(otel.spans.get_finished_spans())
    assert call.attributes is not None and answered.attributes is not None
    assert call.attributes["failover.target"] == "backup/model-x"
    assert failed.attributes is not None and failed.attributes["error.type"] == "server_error"
    assert answer.usage is not None
    assert answered.attributes["gen_ai.usage.input_tokens"] == answer.usage.input_tokens
    assert answered.attributes["gen_ai.usage.output_tokens"] == answer.usage.output_tokens
    assert answered.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert [p.value for p in otel.metric("failover.fallbacks")] == [1]
