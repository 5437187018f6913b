"""Routing: which target a call goes to next, and when it stops.

``router`` (the targets, their health and adapters, built once per client), ``call``
(one call's decisions: retry, fail over or raise, read from ``_core.decisions``),
``drive`` (the sync and async drivers that do the I/O the call asks for), ``hedge``
(a second request when the first is slow), ``retries`` (tenacity, set up once),
``retry_budget`` (no retry storms), ``balance`` (the order of a group's targets for
each call), ``param_policy`` (what each target accepts), ``privacy``
(``FAILOVER_REQUIRE`` and ``before_send``).

May import: ``_core``, ``_config``, ``_telemetry``, ``_health``, ``_adapters``.
"""
