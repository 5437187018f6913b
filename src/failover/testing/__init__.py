"""Fake LLM providers for tests: real HTTP servers that speak the OpenAI and Anthropic wire
formats and fail on demand.

```python
from failover.testing import FakeProvider, Fault

with FakeProvider("anthropic") as fake:
    fake.enqueue(Fault.overloaded(), Fault.cut(after_chunks=2))
    client = anthropic.Anthropic(base_url=fake.base_url, api_key="test", max_retries=0)
```

``FakeProvider("azure")`` speaks Azure OpenAI; ``"bedrock"`` and ``"vertex"`` speak Claude
on AWS Bedrock and Google Vertex AI, for the anthropic SDK's cloud clients:

```python
with FakeProvider("bedrock") as fake:  # base_url: http://127.0.0.1:PORT
    client = anthropic.AnthropicBedrock(
        base_url=fake.base_url, aws_region="us-east-1",
        aws_access_key="AKIDEXAMPLE", aws_secret_key="secret", max_retries=0,
    )
with FakeProvider("vertex") as fake:  # base_url: http://127.0.0.1:PORT/v1
    client = anthropic.AnthropicVertex(
        base_url=fake.base_url, region="us-east5", project_id="proj",
        access_token="token", max_retries=0,
    )
```

The same vendor-neutral faults apply: on Bedrock they become the errors named in
``x-amzn-ErrorType`` (``Fault.quota()`` is a 400 ``ServiceQuotaExceededException``) and
event-stream exception frames; on Vertex AI Google's ``{"error": {...}}`` bodies
(``error_code="list"`` wraps one in a JSON list). ``fake.requests[i].model`` is the
model the path named.

``FakeProvider("openai")`` and ``"azure"`` also serve OpenAI's Responses API (``responses=``
picks OpenAI's or Open Responses' stream flavour); :func:`check_event_order` checks that a
Responses stream keeps the spec's event order.

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
from ._responses_order import check_event_order
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
    "check_event_order",
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
