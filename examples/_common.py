"""Shared by the examples: use real providers when FAILOVER_CHAIN is set, else fakes."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

from failover import Target
from failover.testing import FakeProvider, Fault


@dataclass
class Fakes:
    """Three local fakes: an OpenAI primary, an Anthropic backup, a "local" Ollama model."""

    primary: FakeProvider
    backup: FakeProvider
    local: FakeProvider

    @property
    def targets(self) -> list[Target | str]:
        return [
            Target("openai", "gpt-5.4-mini", base_url=self.primary.base_url, api_key="fake"),
            Target(
                "anthropic",
                "claude-haiku-5-5",
                api="anthropic",
                base_url=self.backup.base_url,
                api_key="fake",
            ),
            # On this machine's loopback address: tagged "local" by default.
            Target("ollama", "llama3.2", base_url=self.local.base_url),
        ]


@contextlib.contextmanager
def fakes(*, break_primary: bool = False, break_all: bool = False) -> Iterator[Fakes]:
    """With ``break_primary`` the OpenAI primary answers 503 and the Anthropic backup 529,
    so the answer has to come from the local target; ``break_all`` breaks that one too."""
    print("FAILOVER_CHAIN is not set: running on local fake providers (no keys, no network).")
    with (
        FakeProvider("openai", reply="Hello from the (fake) OpenAI primary.") as primary,
        FakeProvider("anthropic", reply="Hello from the (fake) Anthropic backup.") as backup,
        FakeProvider("openai", reply="Hello from the (fake) local Ollama model.") as local,
    ):
        if break_primary or break_all:
            primary.set_mode(Fault.status(503))
            backup.set_mode(Fault.overloaded())
        if break_all:
            local.set_mode(Fault.reset())
        yield Fakes(primary, backup, local)


def configured() -> list[Target | str] | None:
    """FAILOVER_CHAIN's items when it is set (real providers), else None."""
    chain = os.environ.get("FAILOVER_CHAIN")
    if not chain:
        return None
    print(f"Using real providers: FAILOVER_CHAIN={chain}")
    return [item.strip() for item in chain.split(",") if item.strip()]


@contextlib.contextmanager
def chain(*, break_primary: bool = False, break_all: bool = False) -> Iterator[list[Target | str]]:
    """Yield a chain: FAILOVER_CHAIN when set, else the three fakes (see :func:`fakes`)."""
    real = configured()
    if real is not None:
        yield real
        return
    with fakes(break_primary=break_primary, break_all=break_all) as made:
        yield made.targets
