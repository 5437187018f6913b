"""Prove your app survives a provider outage, with failover.testing in your own pytest suite.

Run it: pytest examples/test_your_app.py
The fixtures fake_openai / fake_anthropic come with failover[testing].
"""

from __future__ import annotations

from failover import Failover, Policy, Target
from failover.testing import FakeProvider, Fault


def answer_question(client: Failover, question: str) -> str:
    """Your application code: it only knows the OpenAI-shaped interface."""
    reply = client.chat.completions.create(messages=[{"role": "user", "content": question}])
    return reply.choices[0].message.content or ""


def make_client(fake_openai: FakeProvider, fake_anthropic: FakeProvider) -> Failover:
    return Failover(
        [
            Target("openai", "gpt-5.4-mini", base_url=fake_openai.base_url, api_key="test"),
            Target(
                "anthropic",
                "claude-haiku-5-5",
                api="anthropic",
                base_url=fake_anthropic.base_url,
                api_key="test",
            ),
        ],
        policy=Policy(backoff_base=0.001, backoff_max=0.01),  # millisecond waits in tests
    )


def test_app_answers_while_openai_is_down(
    fake_openai: FakeProvider, fake_anthropic: FakeProvider
) -> None:
    fake_openai.set_mode(Fault.status(503))
    fake_anthropic.set_reply("Paris.")
    with make_client(fake_openai, fake_anthropic) as client:
        assert answer_question(client, "Capital of France?") == "Paris."
    assert len(fake_anthropic.requests) == 1


def test_app_rides_out_a_rate_limit(
    fake_openai: FakeProvider, fake_anthropic: FakeProvider
) -> None:
    fake_openai.enqueue(Fault.rate_limit(retry_after=0.2))
    fake_openai.set_reply("Still here.")
    with make_client(fake_openai, fake_anthropic) as client:
        assert answer_question(client, "Hello?") == "Still here."
    assert fake_anthropic.requests == []  # Retry-After was honoured on the same provider
