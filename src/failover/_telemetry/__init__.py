"""Telemetry: OpenTelemetry spans and metrics (GenAI conventions) built from what the
router already records, the attempt log and the breaker transitions.

``otel`` (the tracer, the meter and the calls the router makes at the end of a call or
an attempt), ``spans`` (building spans and their attributes). If this folder vanished,
routing would keep its decisions: it is told, it never decides.

May import: ``_core``, ``_config``.
"""
