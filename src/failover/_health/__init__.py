"""Provider health: is a target worth a try now, in this process or across a fleet.

``store`` (the ``HealthStore`` / ``Health`` interface, ``LocalHealth``, and the choice
from the environment), ``breaker`` (pybreaker, wrapped once), ``window`` (failure-rate
windows), ``transitions`` (what is logged and counted when a target's state changes),
``headroom`` (rate-limit headers that say a deployment has nothing left),
``shared`` (one target's state shared through a store it names as a Protocol),
``redis`` (``RedisHealth``), ``redis_link`` (one guarded connection: Redis trouble
never fails or stalls a call), ``redis_async`` and ``redis_scripts`` (the atomic Lua).

May import: ``_core``, ``_config``, ``_telemetry``.
"""
