"""The request log: what each request to a fake provider looked like and what it got."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._faults import Fault

__all__ = ["REDACTED", "RecordedRequest", "redact_headers"]

REDACTED = "<redacted>"
_SECRET_HEADERS = frozenset({"authorization", "x-api-key", "api-key", "proxy-authorization"})


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake provider saw it.

    ``headers`` have lower-case names with credentials replaced by ``<redacted>`` (the
    ``authorization`` scheme stays: ``Bearer <redacted>``, ``AWS4-HMAC-SHA256 <redacted>``);
    ``body`` is the parsed JSON (or the raw text if it was not JSON, None if empty);
    ``arrived_at`` is ``time.monotonic()``; ``fault`` is what was served (None when
    the request got a healthy answer); ``query`` is the URL's query string (Azure's
    ``api-version``); ``route`` is what the path names (Bedrock: ``model``; Vertex AI:
    ``project``, ``region`` and ``model``; empty for other APIs and refused requests).
    """

    method: str
    path: str
    headers: Mapping[str, str]
    body: Any
    arrived_at: float
    fault: Fault | None
    stream: bool
    query: str = ""
    route: Mapping[str, str] = field(default_factory=dict)

    @property
    def model(self) -> str | None:
        """The model asked for: in the path (Bedrock, Vertex AI) or the body; None if none."""
        named = self.route.get("model")
        if named is None and isinstance(self.body, Mapping):
            named = self.body.get("model")
        return named if isinstance(named, str) else None


def redact_headers(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Lower-case header names, join repeats with ``", "``, and hide credentials."""
    headers: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        shown = _redact(key, value) if key in _SECRET_HEADERS else value
        headers[key] = f"{headers[key]}, {shown}" if key in headers else shown
    return headers


def _redact(key: str, value: str) -> str:
    """``<redacted>``; an ``authorization`` header keeps its scheme, which is no secret and
    tells how the client signed in (``Bearer <redacted>``, ``AWS4-HMAC-SHA256 <redacted>``)."""
    scheme, space, _ = value.strip().partition(" ")
    keep = key.endswith("authorization") and space and scheme.replace("-", "").isalnum()
    return f"{scheme} {REDACTED}" if keep else REDACTED
