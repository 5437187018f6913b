"""Fake LLM providers for tests: real HTTP servers that speak the OpenAI and Anthropic wire
formats and fail on demand.

```python
from failover.testing import FakeProvider, Fault

with FakeProvider("anthropic") as fake:
    fake.enqueue(Fault.overloaded(), Fault.cut(after_chunks=2))
    client = anthropic.Anthropic(base_url=fake.base_url, api_key="test", max_retries=0)
```

:class:`FakeProvider` needs the ``testing`` extra (starlette and uvicorn). The scripting
types (:class:`Fault`, :class:`Reply`, :class:`Schedule`...) and :func:`closed_port_url`
import without it, so the pytest plugin and the CLI parser load for every user.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._faults import Fault
from ._ports import closed_port_url
from ._records import RecordedRequest
from ._reply import Reply, ToolCall
from ._schedule import Phase, Schedule

if TYPE_CHECKING:
    from ._provider import FakeProvider

__all__ = [
    "FakeProvider",
    "Fault",
    "Phase",
    "RecordedRequest",
    "Reply",
    "Schedule",
    "ToolCall",
    "closed_port_url",
]

INSTALL_HINT = (
    'failover.testing.FakeProvider needs starlette and uvicorn: pip install "failover[testing]"'
)


def __getattr__(name: str) -> Any:
    """Import the server side on first use, with an install hint when the extra is missing."""
    if name != "FakeProvider":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise ImportError(INSTALL_HINT, name=exc.name) from exc
    from ._provider import FakeProvider

    return FakeProvider
