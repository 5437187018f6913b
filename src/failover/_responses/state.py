"""Conversation state that survives failover: failover's own response ids and the
transcripts behind them.

A vendor's ``previous_response_id`` only means something to the vendor that made it,
so failover answers with ids of its own (``resp_fo_<target>_<random>``, the target's
label in base32, so an id says which target answered) and keeps each response's whole
transcript: the input items so far and the output items. A follow-up then goes
natively to the target that made the previous response (with that vendor's own id)
while that target is healthy, and is otherwise replayed statelessly, as input items,
on whichever target answers. Reasoning items (encrypted content, signatures) are never
replayed to another target: only their maker can read them.

Transcripts live in process (bounded, each for :data:`KEEP_SECONDS`) and, when the
client shares health through Redis, in Redis too, so that a follow-up on another
worker finds them. Redis being away loses nothing already kept in process.
"""

from __future__ import annotations

import base64
import binascii
import collections
import json
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "KEEP_SECONDS",
    "Shared",
    "Transcripts",
    "Turn",
    "as_items",
    "maker_of",
    "output_items",
    "response_id",
]

KEEP_SECONDS = 3600.0  # how long a response's transcript is kept for a follow-up
MAX_KEPT = 10_000  # transcripts kept in one process (the oldest go first)
_PREFIX = "resp_fo_"


def response_id(label: str) -> str:
    """A new id of failover's own, naming the target (``label``) that answered."""
    name = base64.b32encode(label.encode()).decode().rstrip("=").lower()
    return f"{_PREFIX}{name}_{secrets.token_hex(12)}"


def maker_of(rid: str) -> str | None:
    """The label of the target an id of failover's own names; None for another id."""
    if not rid.startswith(_PREFIX):
        return None
    name = rid[len(_PREFIX) :].rpartition("_")[0].upper()
    try:
        return base64.b32decode(name + "=" * (-len(name) % 8)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None


def as_items(given: Any) -> list[Any]:
    """A request's ``input`` as a list of items (a string is one user message)."""
    if isinstance(given, str):
        return [{"role": "user", "content": given}]
    return list(given or ())


@dataclass(frozen=True)
class Turn:
    """What is kept of one response: who made it, and the whole transcript."""

    target: str  # the label of the target that answered
    vendor_id: str | None  # the vendor's own response id, where the vendor kept it
    items: list[Any]  # every input item so far, then this response's output items

    def replay(self, same_target: bool) -> list[Any]:
        """The transcript as input items; reasoning only for the target that made it."""
        if same_target:
            return list(self.items)
        return [i for i in self.items if not (isinstance(i, Mapping) and _reasoning(i))]


def _reasoning(item: Mapping[str, Any]) -> bool:
    return item.get("type") == "reasoning"


@runtime_checkable
class Shared(Protocol):
    """Where transcripts are kept fleet-wide (``RedisHealth``)."""

    def keep(self, key: str, value: str, seconds: float) -> None: ...

    def recall(self, key: str) -> str | None: ...

    async def arecall(self, key: str) -> str | None: ...


class Transcripts:
    """Kept transcripts: in process, bounded, with a TTL; and in ``shared``, if given."""

    def __init__(self, shared: Shared | None = None, *, seconds: float = KEEP_SECONDS) -> None:
        self._shared = shared
        self._seconds = seconds
        self._kept: collections.OrderedDict[str, tuple[float, Turn]] = collections.OrderedDict()
        self._lock = threading.Lock()

    def keep(self, rid: str, turn: Turn) -> None:
        with self._lock:
            self._kept[rid] = (time.monotonic() + self._seconds, turn)
            while len(self._kept) > MAX_KEPT:
                self._kept.popitem(last=False)
        if self._shared is not None:
            self._shared.keep(rid, json.dumps(asdict(turn), default=str), self._seconds)

    def _local(self, rid: str) -> Turn | None:
        with self._lock:
            found = self._kept.get(rid)
            if found is not None and found[0] < time.monotonic():
                del self._kept[rid]
                return None
        return found[1] if found is not None else None

    def find(self, rid: str) -> Turn | None:
        """The transcript behind ``rid``, or None when it is not (or no longer) kept."""
        found = self._local(rid)
        if found is None and self._shared is not None:
            found = _turn(self._shared.recall(rid))
        return found

    async def afind(self, rid: str) -> Turn | None:
        """:meth:`find` from an event loop."""
        found = self._local(rid)
        if found is None and self._shared is not None:
            found = _turn(await self._shared.arecall(rid))
        return found


def _turn(kept: str | None) -> Turn | None:
    if kept is None:
        return None
    try:
        data = json.loads(kept)
        return Turn(data["target"], data["vendor_id"], list(data["items"]))
    except (ValueError, KeyError, TypeError):
        return None  # another version's record: as good as expired


def output_items(response: Any) -> Sequence[Any]:
    """A response's output items as plain dicts, as they would be sent back as input."""
    return [item.model_dump(exclude_none=True) for item in response.output]
