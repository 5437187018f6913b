"""One model on several deployments: calls spread over the group, the next group only
when the whole group fails.

Real use (two OpenAI projects' keys, say, then Claude; keys in the usual variables):
    FAILOVER_CHAIN="openai/gpt-5.4-mini|second/gpt-5.4-mini,anthropic/claude-haiku-5-5"
    FAILOVER_PROVIDER_SECOND_API=openai FAILOVER_PROVIDER_SECOND_API_KEY=...
    FAILOVER_PROVIDER_SECOND_BASE_URL=https://api.openai.com/v1
    FAILOVER_PROVIDER_OPENAI_WEIGHT=2    # the first project has twice the quota
With FAILOVER_CHAIN unset, it runs on local fakes: three OpenAI-shaped deployments of
one model, weighted 2:1:1, one of which has spent its quota (429), and an Anthropic
fake behind them.
"""

from __future__ import annotations

import collections
import contextlib
import os
from collections.abc import Iterator, Mapping

from failover import Failover
from failover.testing import FakeProvider, Fault


@contextlib.contextmanager
def environment() -> Iterator[Mapping[str, str]]:
    if os.environ.get("FAILOVER_CHAIN"):
        print(f"Using real providers: FAILOVER_CHAIN={os.environ['FAILOVER_CHAIN']}")
        yield os.environ
        return
    print("FAILOVER_CHAIN is not set: running on local fake providers (no keys, no network).")
    with contextlib.ExitStack() as stack:
        names = ("east", "west", "north")
        fakes = {n: stack.enter_context(FakeProvider("openai", name=n)) for n in names}
        claude = stack.enter_context(FakeProvider("anthropic", name="claude"))
        fakes["north"].set_mode(Fault.rate_limit(retry_after=30))  # its quota is spent
        env = {
            "FAILOVER_CHAIN": "east/gpt-5.4-mini|west/gpt-5.4-mini|north/gpt-5.4-mini,"
            "anthropic/claude-haiku-5-5",
            "ANTHROPIC_BASE_URL": claude.base_url,
            "ANTHROPIC_API_KEY": "fake-anthropic-key",
            "FAILOVER_BALANCE_SEED": "1",  # the same spread on every run
        }
        for name, fake in fakes.items():
            prefix = f"FAILOVER_PROVIDER_{name.upper()}_"
            env |= {prefix + "API": "openai", prefix + "BASE_URL": fake.base_url}
            env[prefix + "API_KEY"] = f"fake-{name}-key"
        env["FAILOVER_PROVIDER_EAST_WEIGHT"] = "2"
        yield env
        got = ", ".join(f"{n} {len(f.requests)}" for n, f in fakes.items())
        print(f"requests received: {got}; the next group: {len(claude.requests)}")


with environment() as env, Failover.from_env(env) as client:
    answered: collections.Counter[str] = collections.Counter()
    for _ in range(40):
        report = client.chat.completions.with_report.create(
            messages=[{"role": "user", "content": "Hello"}]
        )
        answered[report.target] += 1
    for label, count in answered.most_common():
        print(f"{count:3} answered by {label}")
