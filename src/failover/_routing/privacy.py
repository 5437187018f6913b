"""Which targets may see a request: required tags, and the ``before_send`` hook.

A client's :class:`Guard` fails closed. A target that lacks a required tag is never
sent the request, not even as a half-open probe: the chain walk passes it by and logs
it as ``excluded``. A ``before_send`` hook sees each target and the request before the
target's first attempt; it may return changed parameters (say, with e-mail addresses
masked) or raise to keep the request from that target. A chain in which no provider
carries the required tags is refused when the client (or ``with_options``) is made,
before any request, with the missing tag named.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._config.policy import Target
from .._core.errors import ConfigError

__all__ = ["BeforeSend", "Guard", "Refused"]

BeforeSend = Callable[[Target, dict[str, Any]], Any]
"""``before_send(target, params)``: returns the parameters to send (a dict), or None to
send them unchanged, or raises to keep the request from ``target``. With
:class:`~failover.AsyncFailover` it may be a coroutine function."""


class Refused(Exception):
    """``before_send`` kept the request from a target; the message says why."""


@dataclass(frozen=True, slots=True)
class Guard:
    """A client's data policy: the tags every target must carry, and ``before_send``."""

    require: frozenset[str] = frozenset()
    before_send: BeforeSend | None = None
    source: str = "require"  # the variable or parameter the requirement came from

    def excludes(self, target: Target) -> str:
        """Why ``target`` may not see this client's requests ("" if it may)."""
        if not self.require:
            return ""
        missing = target.missing(self.require)
        return f"policy: lacks tag {', '.join(missing)} ({self.source})" if missing else ""

    def check(self, targets: Sequence[Target]) -> None:
        """Refuse a requirement that no provider in the chain meets, naming the tag."""
        providers = [t for t in targets if not t.degraded]
        if not self.require or any(not t.missing(self.require) for t in providers):
            return
        nobody = sorted(tag for tag in self.require if all(tag not in t.tags for t in providers))
        lacking = "; ".join(
            f"{t.label} lacks {', '.join(t.missing(self.require))}" for t in providers
        )
        named = f"tag {', '.join(nobody)}" if nobody else f"tags {', '.join(sorted(self.require))}"
        raise ConfigError(
            f"{self.source} requires {named}, which no target in the chain carries "
            f"({lacking}); tag a target that may see such requests "
            "(FAILOVER_PROVIDER_<NAME>_TAGS or Target(tags=...))",
            variable=self.source,
        )

    def prepare(self, target: Target, params: dict[str, Any]) -> dict[str, Any]:
        """The parameters to send to ``target``; raises :class:`Refused`."""
        if self.before_send is None:
            return params
        result = self._hook(target, params)
        if inspect.isawaitable(result):
            _discard(result)
            raise ConfigError(
                "before_send returned an awaitable: a Failover client needs a plain "
                "function (AsyncFailover accepts a coroutine function)",
                variable="before_send",
            )
        return _checked(result, params)

    async def aprepare(self, target: Target, params: dict[str, Any]) -> dict[str, Any]:
        """:meth:`prepare` for the async client: the hook may be a coroutine function."""
        if self.before_send is None:
            return params
        result = self._hook(target, params)
        if inspect.isawaitable(result):
            try:
                result = await result
            except Exception as exc:
                raise Refused(_why(exc)) from exc
        return _checked(result, params)

    def _hook(self, target: Target, params: dict[str, Any]) -> Any:
        assert self.before_send is not None
        try:
            # A copy: a hook that edits what it was given must not change the request
            # that the next target receives.
            return self.before_send(target, copy.deepcopy(params))
        except Exception as exc:
            raise Refused(_why(exc)) from exc


def _checked(result: Any, params: dict[str, Any]) -> dict[str, Any]:
    if result is None:
        return params
    # The request's payload (chat "messages", embeddings "input") must survive the hook.
    payload = "messages" if "messages" in params else "input"
    if not isinstance(result, Mapping) or payload not in result:
        raise ConfigError(
            f"before_send must return the parameters (a dict with {payload!r}) or None, "
            f"got {type(result).__name__}",
            variable="before_send",
        )
    if "model" in result:
        raise ConfigError(
            "before_send may not set 'model': each target names its own", variable="before_send"
        )
    return dict(result)


def _why(exc: Exception) -> str:
    return f"refused by before_send: {type(exc).__name__}: {exc}"[:200]


def _discard(awaitable: Awaitable[Any]) -> None:
    close = getattr(awaitable, "close", None)
    if close is not None:  # a coroutine never awaited would warn at garbage collection
        close()
