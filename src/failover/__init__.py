"""failover: keep LLM-powered applications answering when a provider goes down.

>>> import failover
>>> client = failover.Failover.from_env()   # FAILOVER_CHAIN=openai/gpt-4o-mini,anthropic/...
>>> client.chat.completions.create(messages=[{"role": "user", "content": "Hello"}])

Names are imported lazily so that ``import failover`` stays cheap: the vendor SDKs,
httpx2, tenacity and pybreaker load when a client is first built or used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._exceptions import (
    AllTargetsFailed,
    ConfigError,
    ContentFiltered,
    DeadlineExceeded,
    FailoverError,
    RequestRejected,
    StreamInterrupted,
    UnsupportedParameter,
)

if TYPE_CHECKING:
    from ._async_stream import AsyncChatStream
    from ._attempts import Attempt, Outcome, Report
    from ._client import AsyncFailover, Failover
    from ._config import Policy, Target
    from ._decisions import ErrorKind
    from ._health import Health, HealthStore, LocalHealth, TargetStatus
    from ._privacy import BeforeSend
    from ._redis_health import RedisHealth
    from ._stream import ChatStream

__version__ = "0.1.0"
__all__ = [
    "AllTargetsFailed",
    "AsyncChatStream",
    "AsyncFailover",
    "Attempt",
    "BeforeSend",
    "ChatStream",
    "ConfigError",
    "ContentFiltered",
    "DeadlineExceeded",
    "ErrorKind",
    "Failover",
    "FailoverError",
    "Health",
    "HealthStore",
    "LocalHealth",
    "Outcome",
    "Policy",
    "RedisHealth",
    "Report",
    "RequestRejected",
    "StreamInterrupted",
    "Target",
    "TargetStatus",
    "UnsupportedParameter",
]

_LAZY = {
    "Attempt": "._attempts",
    "Outcome": "._attempts",
    "Report": "._attempts",
    "Failover": "._client",
    "AsyncFailover": "._client",
    "Policy": "._config",
    "Target": "._config",
    "ErrorKind": "._decisions",
    "Health": "._health",
    "HealthStore": "._health",
    "LocalHealth": "._health",
    "TargetStatus": "._health",
    "BeforeSend": "._privacy",
    "RedisHealth": "._redis_health",
    "ChatStream": "._stream",
    "AsyncChatStream": "._async_stream",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'failover' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
