"""Degrade gracefully: when the cloud providers are down, a local model answers.

Real use: end the chain with your in-house model, e.g.
    FAILOVER_CHAIN=openai/gpt-5.4-mini,anthropic/claude-haiku-5-5,ollama/llama3.2
On fakes, the OpenAI primary answers 503 and the Anthropic backup 529 (overloaded).
"""

from __future__ import annotations

from _common import chain

from failover import Failover, Policy

# Short waits keep the demo quick; the defaults suit production.
policy = Policy(max_retries=1, backoff_base=0.05, timeout=30)

with chain(break_primary=True) as targets, Failover(targets, policy=policy) as client:
    report = client.chat.completions.with_report.create(
        messages=[{"role": "user", "content": "Are you still there?"}]
    )
    print(report.response.choices[0].message.content)
    for attempt in report.attempts:
        print("  ", attempt.describe())
