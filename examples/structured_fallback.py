"""Structured outputs that survive an outage: a Pydantic model, whoever answers.

Real use: a chain of OpenAI and a recent Claude model, e.g.
    FAILOVER_CHAIN=openai/gpt-5.4-mini,anthropic/claude-haiku-5-5
With FAILOVER_CHAIN unset, it runs on local fakes: OpenAI is down, and Anthropic answers
through its native structured outputs (the schema goes in ``output_config.format``).
"""

from __future__ import annotations

import pydantic
from _common import configured

from failover import Failover, Policy, Target
from failover.testing import FakeProvider, Fault

# Short waits keep the demo quick; the defaults suit production.
policy = Policy(max_retries=1, backoff_base=0.05, timeout=30)
ASK = [{"role": "user", "content": "Which city hosts the Louvre, and in which country?"}]


class City(pydantic.BaseModel):
    city: str
    country: str


def ask(chain: list[Target | str]) -> None:
    with Failover(chain, policy=policy) as client:
        answer = client.chat.completions.parse(messages=ASK, response_format=City)
        print(f"parsed: {answer.choices[0].message.parsed!r} (model {answer.model})")


real = configured()
if real is not None:
    ask(real)
else:
    print("FAILOVER_CHAIN is not set: running on local fake providers (no keys, no network).")
    with FakeProvider("openai") as openai, FakeProvider("anthropic") as anthropic:
        openai.set_mode(Fault.status(503))
        anthropic.set_reply('{"city": "Paris", "country": "France"}')
        ask(
            [
                Target("openai", "gpt-5.4-mini", base_url=openai.base_url, api_key="fake"),
                Target(
                    "anthropic",
                    "claude-haiku-5-5",
                    api="anthropic",
                    base_url=anthropic.base_url,
                    api_key="fake",
                ),
            ]
        )
        sent = anthropic.requests[0].body["output_config"]["format"]["schema"]
        print(f"Anthropic received the schema as output_config: {sorted(sent['properties'])}")
