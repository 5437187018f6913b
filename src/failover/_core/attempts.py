"""The attempt log: one :class:`Attempt` per try, skip or switch, kept for every call."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, TypeVar

from .decisions import ErrorKind

__all__ = ["LOCAL_ANSWER", "Attempt", "AttemptHook", "Outcome", "Report", "WithReport"]

T = TypeVar("T")


class Outcome(StrEnum):
    """How one attempt ended."""

    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"  # not sent: breaker open, cooling down, or not eligible
    EXCLUDED = "excluded"  # never sent: the data policy keeps the request from it
    ADJUSTED = "adjusted"  # the request was fitted to the target (FAILOVER_DROP_PARAMS)
    CANCELLED = "cancelled"  # the caller gave up; never counted against the target
    RESUMED = "resumed"  # a stream broke and the next target continued it
    DEGRADED = "degraded"  # answered by a static last resort, not by a model


# The detail of an answer from a model run inside this process (``local/<model>``).
LOCAL_ANSWER = "answered in this process by a local model"


@dataclass(frozen=True, slots=True)
class Attempt:
    """One entry of the attempt log.

    ``target`` is the target's label (``openai/gpt-5.4-mini``), ``error`` the kind of
    failure (None on success), ``status`` the HTTP status if there was one,
    ``duration`` the seconds the attempt took and ``slept`` the backoff slept before it.
    ``detail`` is a short, key-free explanation. ``ended`` is when it was logged
    (``time.time()``), so it started at ``ended - duration``.
    """

    target: str
    outcome: Outcome
    error: ErrorKind | None = None
    status: int | None = None
    duration: float = 0.0
    slept: float = 0.0
    detail: str = ""
    ended: float = field(default_factory=time.time, compare=False, repr=False)

    def describe(self) -> str:
        """One human-readable line, as used in exception messages."""
        parts = [f"{self.target}: {self.outcome.value}"]
        if self.error is not None:
            parts.append(self.error.value)
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.outcome not in (Outcome.EXCLUDED, Outcome.ADJUSTED):  # no time to show
            parts.append(f"{self.duration * 1000:.0f} ms")
        if self.slept:
            parts.append(f"after {self.slept * 1000:.0f} ms backoff")
        text = ", ".join(parts)
        return f"{text} ({self.detail})" if self.detail else text


@dataclass(frozen=True, slots=True)
class Report(Generic[T]):
    """An answer together with how it was obtained.

    Returned by ``client.chat.completions.with_report.create(...)``: ``response`` is
    the ``openai`` object, ``target`` the label of the target that answered and
    ``attempts`` the full log.
    """

    response: T
    target: str
    attempts: tuple[Attempt, ...]

    @property
    def degraded(self) -> bool:
        """True when the answer is the static last resort's fixed text, not a model's."""
        return bool(self.attempts) and self.attempts[-1].outcome is Outcome.DEGRADED

    @property
    def local(self) -> bool:
        """True when a model inside this process answered (``local/<model>``): no
        provider could, or was allowed to, and the request never left the machine."""
        last = self.attempts[-1] if self.attempts else None
        return last is not None and last.outcome is Outcome.OK and last.detail == LOCAL_ANSWER


class WithReport(Generic[T]):
    """``client.chat.completions.with_report.create(...)`` (and ``embeddings``): the
    answer together with its attempt log."""

    def __init__(self, create: Callable[..., T]) -> None:
        self.create = create


AttemptHook = Callable[[Attempt], None]
"""``on_attempt=``: called with every :class:`Attempt` as it is logged."""
