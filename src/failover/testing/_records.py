"""The request log: what each request to a fake provider looked like and what it got."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ._faults import Fault

__all__ = ["REDACTED", "RecordedRequest", "redact_headers"]

REDACTED = "<redacted>"
_SECRET_HEADERS = frozenset({"authorization", "x-api-key", "api-key", "proxy-authorization"})


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake provider saw it.

    ``headers`` have lower-case names with credentials replaced by ``<redacted>``;
    ``body`` is the parsed JSON (or the raw text if it was not JSON, None if empty);
    ``arrived_at`` is ``time.monotonic()``; ``fault`` is what was served (None when
    the request got a healthy answer); ``query`` is the URL's query string (Azure's
    ``api-version``).
    """

    method: str
    path: str
    headers: Mapping[str, str]
    body: Any
    arrived_at: float
    fault: Fault | None
    stream: bool
    query: str = ""


def redact_headers(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Lower-case header names, join repeats with ``", "``, and hide credentials."""
    headers: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        shown = REDACTED if key in _SECRET_HEADERS else value
        headers[key] = f"{headers[key]}, {shown}" if key in headers else shown
    return headers
