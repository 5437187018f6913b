"""OpenTelemetry spans and metrics, made from each finished call's record.

A room of its own (STYLE.md: telemetry reads what the router already records). When a
call ends, the client hands :func:`record` what happened: when the call started and
ended, its attempt log, and the answer or the error. From that, after the fact and
with the real times, come one span per call (``failover chat``) and under it one
CLIENT span per attempt sent to a provider, named and attributed by the GenAI semantic
conventions (FACTS.md), and the metrics. Skips, exclusions, backoff waits, fallbacks
and a static answer are events on the call span. The routing code does not know any of
this exists.

Only ``opentelemetry-api`` is used; the SDK and its exporters are the application's
choice. Until the application installs an SDK the API's global providers are proxies,
:func:`enabled` says so, and a call builds nothing at all. Metric names are those of
semantic conventions v1.41.0, or the latest ones under
``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from typing import Any

from .._config.policy import Target
from .._core.attempts import Attempt
from .._version import __version__
from .spans import Answered, Finished, build, ns

__all__ = [
    "Answered",
    "Finished",
    "Watch",
    "answered",
    "enabled",
    "observe",
    "record",
    "transition",
]

logger = logging.getLogger("failover")


class _Otel:
    """The API's tracer and instruments, remade if the application swaps providers."""

    def __init__(self) -> None:
        from opentelemetry import metrics, trace
        from opentelemetry.metrics import _internal as metrics_globals

        self.trace, self.metrics = trace, metrics
        # The API's getters look in os.environ on every call while no provider is set
        # (OTEL_PYTHON_*_PROVIDER; two misses that raise KeyError inside os.environ, about
        # 1 µs a call). The globals they return say the same without that. Calling each
        # getter once loads a provider the environment names; should an API version move
        # the globals, the getters are used.
        trace.get_tracer_provider()
        metrics.get_meter_provider()
        known = hasattr(trace, "_TRACER_PROVIDER") and hasattr(metrics_globals, "_METER_PROVIDER")
        self._globals = (trace, metrics_globals) if known else None
        self.providers: tuple[Any, Any] = (None, None)  # None: not set, the API's proxies
        self.tracing = self.metering = False
        latest = "gen_ai_latest_experimental" in os.environ.get("OTEL_SEMCONV_STABILITY_OPT_IN", "")
        self.names = (
            ("gen_ai.client.inference.duration", "gen_ai.client.inference.time_to_first_chunk")
            if latest
            else ("gen_ai.client.operation.duration", "gen_ai.client.operation.time_to_first_chunk")
        )

    def active(self) -> bool:
        if self._globals is None:
            tracing, metering = self.trace.get_tracer_provider(), self.metrics.get_meter_provider()
        else:
            tracing, metering = self._globals[0]._TRACER_PROVIDER, self._globals[1]._METER_PROVIDER
        if (tracing, metering) != self.providers:
            self._build(tracing, metering)
        return self.tracing or self.metering

    def _build(self, tracing: Any, metering: Any) -> None:
        self.providers = (tracing, metering)
        self.tracing, self.metering = _installed(tracing), _installed(metering)
        self.tracer = self.trace.get_tracer("failover", __version__)
        meter = self.metrics.get_meter("failover", __version__)
        duration, first_chunk = self.names
        self.duration = meter.create_histogram(
            duration, unit="s", description="GenAI operation duration"
        )
        self.first_chunk = meter.create_histogram(
            first_chunk, unit="s", description="Time to the first chunk of a streamed answer"
        )
        self.tokens = meter.create_histogram(
            "gen_ai.client.token.usage", unit="{token}", description="Input and output tokens used"
        )
        self.calls = meter.create_counter(
            "failover.calls", unit="{call}", description="Calls by outcome"
        )
        self.fallbacks = meter.create_counter(
            "failover.fallbacks", unit="{fallback}", description="Moves to the next target"
        )
        self.transitions = meter.create_counter(
            "failover.breaker.transitions",
            unit="{transition}",
            description="Changes of a target's health, by its new state",
        )


def observe(
    started: float,
    attempts: Sequence[Attempt],
    chain: Sequence[Sequence[Target]],
    *,
    stream: bool = False,
    answer: Answered | None = None,
    error: BaseException | None = None,
    outcome: str = "",
) -> None:
    """Record a call that just ended, if an OpenTelemetry SDK is installed."""
    if enabled():
        done = Finished(
            started, time.time(), tuple(attempts), chain, stream, answer, error, outcome
        )
        record(done)


class Watch:
    """``with Watch(...) as watch:`` around a non-streamed call; set ``watch.answer``.

    With an SDK installed the call span starts here and is the current span during the
    call, so that spans the vendor SDKs make (anthropic's) nest under it. A stream's
    call span is made when the stream ends instead: a context cannot stay attached
    across the caller's reads.

    A class, not ``@contextmanager``: it runs on every call, where a generator-based
    manager costs several times more.
    """

    __slots__ = (
        "_attempts",
        "_chain",
        "_on",
        "_operation",
        "_span",
        "_started",
        "_token",
        "answer",
    )

    def __init__(
        self,
        started: float,
        attempts: Sequence[Attempt],
        chain: Sequence[Sequence[Target]],
        operation: str = "chat",
    ):
        self._started, self._attempts, self._chain = started, attempts, chain
        self._operation = operation
        self.answer: Any = None
        self._span: Any = None

    def __enter__(self) -> Watch:
        # Asked once per call; the attempts are recorded from the log when it ends.
        self._on = enabled()
        if self._on and _otel is not None and _otel.tracing:
            from opentelemetry import context

            name = f"failover {self._operation}"
            self._span = _otel.tracer.start_span(name, start_time=ns(self._started))
            self._token = context.attach(_otel.trace.set_span_in_context(self._span))
        return self

    def __exit__(self, kind: object, error: BaseException | None, trace: object) -> None:
        if self._span is not None:
            from opentelemetry import context

            context.detach(self._token)
        if self._on:
            answer = answered(self.answer) if error is None else None
            ended, attempts = time.time(), tuple(self._attempts)
            done = Finished(
                self._started,
                ended,
                attempts,
                self._chain,
                answer=answer,
                error=error,
                operation=self._operation,
            )
            record(done, self._span)


def answered(answer: Any) -> Answered:
    """What a ``ChatCompletion``, a ``CreateEmbeddingResponse`` or a Responses
    ``Response`` says about itself."""
    usage = getattr(answer, "usage", None)
    choices = getattr(answer, "choices", None)
    if choices is None and hasattr(answer, "output"):  # a Response: its usage and status
        details = getattr(answer, "incomplete_details", None)
        reason = details.reason if details is not None else "stop"
        return Answered(
            answer.model,
            getattr(usage, "input_tokens", None),
            getattr(usage, "output_tokens", None),
            (reason or "stop",) if answer.status in ("completed", "incomplete") else (),
        )
    return Answered(
        getattr(answer, "model", None),
        getattr(usage, "prompt_tokens", None),
        getattr(usage, "completion_tokens", None),
        tuple(c.finish_reason for c in choices or () if c.finish_reason),
    )


def _installed(provider: Any) -> bool:
    # The API's global providers are unset, proxies or no-ops until an SDK is installed.
    if provider is None:
        return False
    name = type(provider).__name__
    return "Proxy" not in name and "NoOp" not in name


_otel: _Otel | None = None
_missing = False


def enabled() -> bool:
    """True when the application has installed an OpenTelemetry SDK (traces or metrics)."""
    global _otel, _missing
    if _otel is None:
        if _missing:
            return False
        try:
            _otel = _Otel()
        except ImportError:  # opentelemetry-api is a dependency, but be safe
            _missing = True
            return False
    return _otel.active()


def record(done: Finished, span: Any = None) -> None:
    """Turn a finished call into spans and metrics (under ``span``, the call's own span if
    it was started already); never raises into the call."""
    if _otel is None:
        return
    try:
        build(_otel, done, span)
    except Exception:
        logger.exception("failover: recording telemetry failed; the call is unaffected")


def transition(target: str, state: str, *, shared: bool) -> None:
    """Count a change of ``target``'s health (``_health/transitions.py`` logs it)."""
    if enabled() and _otel is not None and _otel.metering:
        attributes: dict[str, str | bool] = {
            "failover.target": target,
            "failover.state": state,
            "failover.shared": shared,
        }
        _otel.transitions.add(1, attributes)
