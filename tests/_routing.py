"""Helpers shared by the routing tests: one call through a fresh client, and its log."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from openai.types.chat import ChatCompletion

import failover
from failover import AsyncFailover, Failover, Policy, Report, Target

from .conftest import FAST, MESSAGES


def route(
    mode: str, chain: Sequence[Target], policy: Policy = FAST, **params: Any
) -> Report[ChatCompletion]:
    """One call through a fresh client, blocking or on an event loop."""
    params.setdefault("messages", MESSAGES)
    if mode == "sync":
        with Failover(chain, policy=policy) as client:
            return client.chat.completions.with_report.create(**params)

    async def go() -> Report[ChatCompletion]:
        async with AsyncFailover(chain, policy=policy) as client:
            return await client.chat.completions.with_report.create(**params)

    return asyncio.run(go())


def outcomes(report: Report[Any] | failover.FailoverError) -> list[tuple[str, str, str | None]]:
    return [(a.target, a.outcome.value, a.error and a.error.value) for a in report.attempts]


P, S = "openai/model-x", "anthropic/model-x"
