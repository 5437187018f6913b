"""The spans and metric points of one finished call (``_telemetry/otel.py`` decides whether
to make them, and holds the tracer and instruments as ``otel``).

One ``failover <operation>`` span per call, and under it one CLIENT span per attempt
sent to a provider, named and attributed by the GenAI semantic conventions (FACTS.md),
with the attempts' real start and end times. Skips, exclusions, adjustments, backoff
waits, fallbacks, a broken stream and a static answer are events on the call span.
Where the chain has groups, attempt spans carry ``failover.place`` and a move to a
sibling of the same group is a ``failover.sibling`` event, not a fallback.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .._config.policy import Target
from .._config.providers import default_url
from .._core.attempts import Attempt, Outcome
from .._core.decisions import ErrorKind

__all__ = ["Answered", "Finished", "build", "ns"]


@dataclass(frozen=True, slots=True)
class Answered:
    """What the answering target said about its answer."""

    model: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    finish_reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Finished:
    """One call, as it ended. Times are ``time.time()`` seconds."""

    started: float
    ended: float
    attempts: Sequence[Attempt]
    chain: Sequence[Sequence[Target]]  # the chain's places, each a group of one or more
    stream: bool = False
    answer: Answered | None = None
    error: BaseException | None = None
    outcome: str = ""  # overrides the outcome read from ``answer``/``error`` ("abandoned")
    operation: str = "chat"  # gen_ai.operation.name: "chat" or "embeddings"


# gen_ai.provider.name's well-known values, where failover's provider names differ.
_PROVIDER_NAMES = {
    "azure": "azure.ai.openai",
    "bedrock": "aws.bedrock",
    "vertex": "gcp.vertex_ai",
    "gemini": "gcp.gemini",
    "mistral": "mistral_ai",
}
_NOT_SENT = (
    Outcome.SKIPPED,
    Outcome.EXCLUDED,
    Outcome.ADJUSTED,
    Outcome.RESUMED,
    Outcome.DEGRADED,
)


def ns(seconds: float) -> int:
    return int(seconds * 1e9)


def _outcome(done: Finished) -> str:
    if done.outcome:
        return done.outcome
    if done.error is not None:
        return type(done.error).__name__
    last = done.attempts[-1] if done.attempts else None
    return "degraded" if last is not None and last.outcome is Outcome.DEGRADED else "answered"


def build(otel: Any, done: Finished, call: Any) -> None:
    """One finished call's spans (under ``call``, if it was started already) and metrics."""
    by_label: dict[str, Target] = {}
    # Where the chain has groups, each attempt span says which place its target holds.
    places: dict[str, int] = {}
    grouped = any(len(group) > 1 for group in done.chain)
    for place, group in enumerate(done.chain, 1):
        for t in group:
            by_label.setdefault(t.label, t)
            if grouped:
                places.setdefault(t.label, place)
    outcome = _outcome(done)
    answering = _answering(done)
    sent = [a for a in done.attempts if a.outcome not in _NOT_SENT]
    if call is None:
        call = otel.tracer.start_span(f"failover {done.operation}", start_time=ns(done.started))
    call.set_attributes(
        {
            "gen_ai.operation.name": done.operation,
            "gen_ai.request.stream": done.stream,
            "failover.chain": ["|".join(t.label for t in group) for group in done.chain],
            "failover.attempts": len(sent),
            "failover.outcome": outcome,
            **({"failover.target": answering.target} if answering is not None else {}),
        }
    )
    parent = otel.trace.set_span_in_context(call)
    tries: dict[str, int] = {}
    previous = ""
    for attempt in done.attempts:
        start = attempt.ended - attempt.duration
        if attempt.slept:
            call.add_event(
                "failover.backoff",
                {"failover.target": attempt.target, "failover.backoff_seconds": attempt.slept},
                timestamp=ns(start - attempt.slept),
            )
        if attempt.outcome in _NOT_SENT or attempt.error is ErrorKind.STREAM_CUT:
            name = "stream_cut" if attempt.error is ErrorKind.STREAM_CUT else attempt.outcome.value
            call.add_event(
                f"failover.{name}",
                {"failover.target": attempt.target, "failover.detail": attempt.detail},
                timestamp=ns(attempt.ended),
            )
            continue
        if previous and previous != attempt.target:
            # A move within a group (to a sibling deployment) is spreading, not falling back.
            sibling = places.get(previous, 0) == places.get(attempt.target, -1)
            call.add_event(
                "failover.sibling" if sibling else "failover.fallback",
                {"failover.from": previous, "failover.to": attempt.target},
                timestamp=ns(start),
            )
            if otel.metering and not sibling:
                otel.fallbacks.add(1, {"failover.from": previous, "failover.to": attempt.target})
        previous = attempt.target
        target = by_label.get(attempt.target)
        if target is None:
            continue
        retry = tries.get(attempt.target, 0)
        tries[attempt.target] = retry + 1
        at = places.get(attempt.target)
        _attempt_span(otel, parent, done, attempt, target, retry, attempt is answering, at)
    if done.error is not None:
        call.set_status(otel.trace.Status(otel.trace.StatusCode.ERROR, type(done.error).__name__))
        call.set_attribute("error.type", type(done.error).__name__)
    call.end(end_time=ns(done.ended))
    if otel.metering:
        otel.calls.add(1, {"failover.outcome": outcome, "gen_ai.operation.name": done.operation})


def _answering(done: Finished) -> Attempt | None:
    if done.error is not None or done.outcome:
        return None
    for attempt in reversed(done.attempts):
        if attempt.outcome is Outcome.OK:
            return attempt
    return None


def _server(target: Target) -> tuple[str, int | None]:
    url = urlsplit(target.base_url or default_url(target.api, target.region, target.project))
    port = url.port or (443 if url.scheme == "https" else 80 if url.scheme == "http" else None)
    return url.hostname or "", port


def _attempt_span(
    otel: Any,
    parent: Any,
    done: Finished,
    attempt: Attempt,
    target: Target,
    retry: int,
    answering: bool,
    place: int | None,
) -> None:
    address, port = _server(target)
    common: dict[str, Any] = {
        "gen_ai.operation.name": done.operation,
        "gen_ai.provider.name": _PROVIDER_NAMES.get(
            target.provider, _PROVIDER_NAMES.get(target.api, target.provider)
        ),
        "gen_ai.request.model": target.model,
        "server.address": address,
    }
    if port is not None:
        common["server.port"] = port
    start, end = attempt.ended - attempt.duration, attempt.ended
    extra: dict[str, Any] = {
        "gen_ai.request.stream": done.stream,
        "failover.target": attempt.target,
        "failover.retry": retry,
        "failover.backoff_seconds": attempt.slept,
    }
    if place is not None:
        extra["failover.place"] = place
    if attempt.status is not None:
        extra["http.response.status_code"] = attempt.status
    if attempt.error is not None:
        common["error.type"] = attempt.error.value
    elif attempt.outcome is Outcome.CANCELLED:
        common["error.type"] = "cancelled"
    answer = done.answer if answering else None
    if answer is not None:
        if answer.model:
            common["gen_ai.response.model"] = answer.model
        if answer.input_tokens is not None:
            extra["gen_ai.usage.input_tokens"] = answer.input_tokens
        if answer.output_tokens is not None:
            extra["gen_ai.usage.output_tokens"] = answer.output_tokens
        if answer.finish_reasons:
            extra["gen_ai.response.finish_reasons"] = list(answer.finish_reasons)
    if answering and done.stream:
        # A stream's attempt commits at its first content; its span lasts to the end.
        extra["gen_ai.response.time_to_first_chunk"] = attempt.duration
        end = max(end, done.ended)
    if otel.tracing:
        span = otel.tracer.start_span(
            f"{done.operation} {target.model}",
            context=parent,
            kind=otel.trace.SpanKind.CLIENT,
            start_time=ns(start),
            attributes={**common, **extra},
        )
        if "error.type" in common:
            span.set_status(otel.trace.Status(otel.trace.StatusCode.ERROR, attempt.detail[:120]))
        span.end(end_time=ns(end))
    if otel.metering:
        otel.duration.record(end - start, common)
        if answering and done.stream:
            otel.first_chunk.record(attempt.duration, common)
        if answer is not None:
            for kind, count in (("input", answer.input_tokens), ("output", answer.output_tokens)):
                if count is not None:
                    otel.tokens.record(count, {**common, "gen_ai.token.type": kind})
