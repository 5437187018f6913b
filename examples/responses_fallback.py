"""The Responses API with failover: a conversation that outlives its provider.

Real use: set FAILOVER_CHAIN and the keys, e.g.
    FAILOVER_CHAIN=openai/gpt-5.4-mini,anthropic/claude-haiku-5-5
    OPENAI_API_KEY=...  ANTHROPIC_API_KEY=...
OpenAI answers natively; Anthropic, which has no Responses API, answers through chat,
and the client returns openai's own Response either way. With FAILOVER_CHAIN unset, it
runs on two local fakes: OpenAI answers the first turn, goes down, and the second turn
(``previous_response_id``) is answered by Claude with the whole conversation, streamed.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from failover import Failover, Policy, Target
from failover.testing import FakeProvider, Fault

# Short waits keep the demo quick; the defaults suit production.
policy = Policy(max_retries=1, backoff_base=0.05, timeout=30)


def converse(client: Failover, between: Callable[[], object] = lambda: None) -> None:
    """Three turns of one conversation; ``between`` runs after the first."""
    first = client.responses.create(
        instructions="Answer in one sentence.", input="What is the capital of France?"
    )
    print(f"turn 1: {first.output_text}  [{first.id[:24]}...]")
    between()
    report = client.responses.with_report.create(
        input="How many people live there?", previous_response_id=first.id
    )
    print(f"turn 2: {report.response.output_text}  (answered by {report.target})")
    print("turn 3, streamed: ", end="")
    stream = client.responses.create(
        input="And which river runs through it?",
        previous_response_id=report.response.id,
        stream=True,
    )
    for event in stream:
        if event.type == "response.output_text.delta":
            print(event.delta, end="", flush=True)
    print(f"  (streamed by {stream.target.label if stream.target else '?'})")


if os.environ.get("FAILOVER_CHAIN"):
    print(f"Using real providers: FAILOVER_CHAIN={os.environ['FAILOVER_CHAIN']}")
    with Failover.from_env() as client:
        converse(client)
else:
    print("FAILOVER_CHAIN is not set: running on local fakes (no keys, no network).")
    with (
        FakeProvider("openai", reply="Paris is the capital of France.") as openai_fake,
        FakeProvider("anthropic", reply="About two million people; the Seine.") as claude,
    ):
        chain = [
            Target("openai", "gpt-5.4-mini", base_url=openai_fake.base_url, api_key="fake"),
            Target(
                "anthropic",
                "claude-haiku-5-5",
                api="anthropic",
                base_url=claude.base_url,
                api_key="fake",
            ),
        ]
        with Failover(chain, policy=policy) as client:
            converse(client, between=lambda: openai_fake.set_mode(Fault.status(503)))
        said = str(claude.requests[0].body["messages"])
        print(f"Claude received turn 1 as well: {'Paris is the capital' in said}")
