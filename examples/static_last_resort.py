"""Degrade gracefully: when every provider is down, give a fixed, honest answer.

Real use: end the chain with a static answer, e.g.
    FAILOVER_CHAIN=openai/gpt-5.4-mini,anthropic/claude-haiku-5-5,static/busy
    FAILOVER_STATIC_MESSAGE="Our assistant is unavailable right now; please try again soon."
On fakes, all three providers are broken, so the static answer is what comes back.
"""

from __future__ import annotations

from _common import chain

from failover import Failover, Policy, Target

MESSAGE = "Our assistant is unavailable right now; please try again in a few minutes."
# Short waits keep the demo quick; the defaults suit production.
policy = Policy(max_retries=1, backoff_base=0.05, timeout=30)

with chain(break_all=True) as targets:
    if not str(targets[-1]).startswith("static/"):
        targets.append(Target.static(MESSAGE, "busy"))
    with Failover(targets, policy=policy) as client:
        report = client.chat.completions.with_report.create(
            messages=[{"role": "user", "content": "Are you still there?"}]
        )
        print(report.response.choices[0].message.content)
        print(f"degraded: {report.degraded} (answered by {report.target})")
        for attempt in report.attempts:
            print("  ", attempt.describe())
