"""Every error failover raises, in one tree.

```
FailoverError                  any failure of a call; carries ``.attempts``
├── ConfigError                bad configuration (also a ``ValueError``), raised before any request
├── RequestRejected            the request itself is at fault; no target is tried after it
│   ├── ContentFiltered        a provider's content filter refused the prompt or answer
│   ├── UnsupportedParameter   a parameter the answering provider cannot honour
│   └── ConversationExpired    a previous_response_id whose transcript is no longer kept
├── AllTargetsFailed           every target failed, was skipped, or was out of reach
│   └── DeadlineExceeded       the call's overall deadline ran out first
└── StreamInterrupted          a stream failed after content had reached the caller
```

The vendor exception that decided the outcome (if any) is chained as ``__cause__``.
Messages never contain API keys: they are built from status codes, error kinds and
provider messages, which are scrubbed by :func:`failover._core.redact.redact`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .attempts import Attempt

__all__ = [
    "AllTargetsFailed",
    "ConfigError",
    "ContentFiltered",
    "ConversationExpired",
    "DeadlineExceeded",
    "FailoverError",
    "RequestRejected",
    "StreamInterrupted",
    "UnsupportedParameter",
]


class FailoverError(Exception):
    """Base class of every error failover raises; ``.attempts`` is the log of the call."""

    def __init__(self, message: str, *, attempts: Sequence[Attempt] = ()) -> None:
        super().__init__(message)
        self.attempts: tuple[Attempt, ...] = tuple(attempts)

    def __str__(self) -> str:
        base = super().__str__()
        if not self.attempts:
            return base
        lines = "\n".join(f"  {a.describe()}" for a in self.attempts)
        return f"{base}\nattempts:\n{lines}"


class ConfigError(FailoverError, ValueError):
    """Raised when a setting (environment variable or argument) is invalid; names the setting.

    ``variable`` is the environment variable or parameter at fault, when there is one,
    so that tools such as ``failover doctor`` can point at it without parsing the text.
    """

    def __init__(self, message: str, *, variable: str | None = None) -> None:
        super().__init__(message)
        self.variable = variable


class RequestRejected(FailoverError):
    """Raised when a provider rejects the request as malformed (400/422); retrying cannot help."""


class ContentFiltered(RequestRejected):
    """Raised when a provider's content filter refuses the request."""


class UnsupportedParameter(RequestRejected):
    """Raised before sending when a parameter cannot be mapped to the target's API."""


class ConversationExpired(RequestRejected):
    """``previous_response_id`` names a response whose transcript failover no longer
    keeps (or never made): raised before any request is sent."""


class AllTargetsFailed(FailoverError):
    """Raised when no target produced an answer: each failed, was skipped, or was cooling down."""


class DeadlineExceeded(AllTargetsFailed):
    """Raised when the call's overall deadline (``FAILOVER_TIMEOUT``) ran out."""


class StreamInterrupted(FailoverError):
    """Raised when a stream fails after content reached the caller; holds what was received.

    ``partial_text`` is the text delivered so far, ``partial_tool_calls`` the tool calls
    assembled so far (``{"index", "id", "name", "arguments"}`` dicts, arguments possibly
    truncated JSON), and ``usage`` the token usage if the provider reported it.
    """

    def __init__(
        self,
        message: str,
        *,
        attempts: Sequence[Attempt] = (),
        partial_text: str = "",
        partial_tool_calls: Sequence[dict[str, Any]] = (),
        usage: Any = None,
    ) -> None:
        super().__init__(message, attempts=attempts)
        self.partial_text = partial_text
        self.partial_tool_calls = list(partial_tool_calls)
        self.usage = usage
