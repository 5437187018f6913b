"""Quickstart: one OpenAI-shaped call over a chain of providers, and what happened.

Set FAILOVER_CHAIN (and the providers' keys) to use real providers, e.g.
    export FAILOVER_CHAIN=openai/gpt-5.4-mini,anthropic/claude-haiku-5-5
    export OPENAI_API_KEY=... ANTHROPIC_API_KEY=...
    python examples/quickstart.py
Without it, the example runs on local fake providers.
"""

from __future__ import annotations

from _common import chain

from failover import Failover

with chain() as targets, Failover(targets) as client:
    report = client.chat.completions.with_report.create(
        messages=[{"role": "user", "content": "Say hello in five words."}], max_tokens=64
    )
    print(report.response.choices[0].message.content)
    print(f"answered by {report.target} after {len(report.attempts)} attempt(s)")
