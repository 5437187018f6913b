"""failover: keep LLM-powered applications answering when a provider goes down.

>>> import failover
>>> client = failover.Failover.from_env()   # FAILOVER_CHAIN=openai/gpt-5.4-mini,anthropic/...
>>> client.chat.completions.create(messages=[{"role": "user", "content": "Hello"}])

Names are imported lazily so that ``import failover`` stays cheap: the vendor SDKs,
httpx2, tenacity and pybreaker load when a client is first built or used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._core.errors import (
    AllTargetsFailed,
    ConfigError,
    ContentFiltered,
    ConversationExpired,
    DeadlineExceeded,
    FailoverError,
    RequestRejected,
    StreamInterrupted,
    UnsupportedParameter,
)
from ._version import __version__ as __version__

if TYPE_CHECKING:
    from ._api.async_stream import AsyncChatStream
    from ._api.stream import ChatStream
    from ._client import AsyncFailover, Failover
    from ._config.chains import Group
    from ._config.policy import Policy, Target
    from ._core.attempts import Attempt, Outcome, Report
    from ._core.decisions import ErrorKind
    from ._health.redis import RedisHealth
    from ._health.store import Health, HealthStore, LocalHealth, TargetStatus
    from ._routing.privacy import BeforeSend

__all__ = [
    "AllTargetsFailed",
    "AsyncChatStream",
    "AsyncFailover",
    "Attempt",
    "BeforeSend",
    "ChatStream",
    "ConfigError",
    "ContentFiltered",
    "ConversationExpired",
    "DeadlineExceeded",
    "ErrorKind",
    "Failover",
    "FailoverError",
    "Group",
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
    "Attempt": "._core.attempts",
    "Outcome": "._core.attempts",
    "Report": "._core.attempts",
    "Failover": "._client",
    "AsyncFailover": "._client",
    "Group": "._config.chains",
    "Policy": "._config.policy",
    "Target": "._config.policy",
    "ErrorKind": "._core.decisions",
    "Health": "._health.store",
    "HealthStore": "._health.store",
    "LocalHealth": "._health.store",
    "TargetStatus": "._health.store",
    "BeforeSend": "._routing.privacy",
    "RedisHealth": "._health.redis",
    "ChatStream": "._api.stream",
    "AsyncChatStream": "._api.async_stream",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'failover' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
