"""Private data during an outage: a private request may go only to the local model, and
fails closed when that is down too, rather than leak to a provider that is still up.

Real use: tag what you vouch for and require it for private calls, e.g.
    FAILOVER_CHAIN=openai/gpt-5.4-mini,anthropic/claude-haiku-5-5,ollama/llama3.2
(an ollama or vllm target on this machine is tagged ``local`` by default; tag others with
FAILOVER_PROVIDER_<NAME>_TAGS=local). With FAILOVER_CHAIN unset, it runs on local fakes:
the OpenAI primary is down, the Anthropic backup is up, and then the local model fails.
"""

from __future__ import annotations

from _common import Fakes, configured, fakes

from failover import AllTargetsFailed, Failover, Policy, Target
from failover.testing import Fault

# Short waits keep the demo quick; the defaults suit production.
policy = Policy(max_retries=1, backoff_base=0.05, timeout=30)
PRIVATE = [{"role": "user", "content": "Summarise patient 4411's discharge notes."}]
PUBLIC = [{"role": "user", "content": "What are your opening hours?"}]


def demo(targets: list[Target | str], made: Fakes | None) -> None:
    with Failover(targets, policy=policy) as client:
        private = client.with_options(require=["local"])  # shares connections and health
        report = private.chat.completions.with_report.create(messages=PRIVATE)
        print(f"private call answered by {report.target}:")
        for attempt in report.attempts:
            print("  ", attempt.describe())
        if made is None:
            return  # real providers: we cannot take your local model down for the demo
        made.backup.set_mode(None)  # the cloud backup is up again; the local model fails
        made.local.set_mode(Fault.reset())
        try:
            private.chat.completions.create(messages=PRIVATE)
        except AllTargetsFailed as exc:
            print("private call with the local model down: refused, sent nowhere else")
            for attempt in exc.attempts:
                print("  ", attempt.describe())
        public = client.chat.completions.with_report.create(messages=PUBLIC)
        print(f"an ordinary call still fails over: answered by {public.target}")
        print(f"private prompts the cloud backup received: {_private_seen(made)}")


def _private_seen(made: Fakes) -> int:
    return sum("patient" in str(r.body) for r in made.primary.requests + made.backup.requests)


real = configured()
if real is not None:
    demo(real, None)
else:
    with fakes(break_primary=True) as made:
        demo(made.targets, made)
