"""Shared by the examples: use real providers when FAILOVER_CHAIN is set, else fakes."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from failover import Target
from failover.testing import FakeProvider, Fault


@contextlib.contextmanager
def chain(
    *, break_primary: bool = False, break_all: bool = False
) -> Iterator[list[Target | str]]:
    """Yield a chain: FAILOVER_CHAIN when set, else three local fakes.

    With ``break_primary`` the fake OpenAI primary answers 503 and the fake Anthropic
    secondary 529, so the answer has to come from the last, "local" target. With
    ``break_all`` the local one refuses connections too.
    """
    configured = os.environ.get("FAILOVER_CHAIN")
    if configured:
        print(f"Using real providers: FAILOVER_CHAIN={configured}")
        yield [item.strip() for item in configured.split(",") if item.strip()]
        return
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
        yield [
            Target("openai", "gpt-4o-mini", base_url=primary.base_url, api_key="fake"),
            Target(
                "anthropic",
                "claude-haiku-4-5",
                api="anthropic",
                base_url=backup.base_url,
                api_key="fake",
            ),
            Target("ollama", "llama3.2", base_url=local.base_url),
        ]
