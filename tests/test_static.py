"""The static last resort: a fixed, honest answer when every provider is down."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from failover import AsyncFailover, ConfigError, Failover, Outcome, Target
from failover.testing import FakeProvider, Fault

from .conftest import FAST, MESSAGES, target

SORRY = "Our assistant is unavailable right now; please try again in a few minutes."
KEYS = {"OPENAI_API_KEY": "sk-test-openai-0000"}


def test_static_ends_a_chain_from_the_environment() -> None:
    env = {**KEYS, "FAILOVER_CHAIN": "openai/gpt-4o-mini,static/sorry"}
    with Failover.from_env({**env, "FAILOVER_STATIC_MESSAGE": SORRY}) as client:
        last = client.targets[-1]
    assert (last.label, last.static_message, last.degraded) == ("static/sorry", SORRY, True)


@pytest.mark.parametrize("unset", [{}, {"FAILOVER_STATIC_MESSAGE": "  "}])
def test_static_without_its_message_names_the_variable(unset: dict[str, str]) -> None:
    env = {**KEYS, "FAILOVER_CHAIN": "openai/gpt-4o-mini,static/sorry", **unset}
    with pytest.raises(ConfigError, match="FAILOVER_STATIC_MESSAGE"):
        Failover.from_env(env)


def test_static_anywhere_but_the_end_is_refused() -> None:
    env = {
        **KEYS,
        "FAILOVER_CHAIN": "static/sorry,openai/gpt-4o-mini",
        "FAILOVER_STATIC_MESSAGE": SORRY,
    }
    with pytest.raises(ConfigError, match=r"FAILOVER_CHAIN: static/sorry .* may only end"):
        Failover.from_env(env)
    with pytest.raises(ConfigError, match=r"static/default .* may only end"):
        Failover([Target.static(SORRY), "openai/gpt-4o-mini"], env=KEYS)
    with pytest.raises(ConfigError, match="needs a message"):
        Target.static("")


def call(mode: str, chain: list[Target], stream: bool) -> tuple[Any, list[Any], bool]:
    """(answer or chunks, attempts, degraded) of one call through a fresh client."""
    if mode == "sync":
        with Failover(chain, policy=FAST) as client:
            if stream:
                with client.chat.completions.create(messages=MESSAGES, stream=True) as s:
                    return list(s), list(s.attempts), s.degraded
            report = client.chat.completions.with_report.create(messages=MESSAGES)
            return report.response, list(report.attempts), report.degraded

    async def go() -> tuple[Any, list[Any], bool]:
        async with AsyncFailover(chain, policy=FAST) as client:
            if stream:
                s = await client.chat.completions.create(messages=MESSAGES, stream=True)
                async with s:
                    chunks = [c async for c in s]
                return chunks, list(s.attempts), s.degraded
            report = await client.chat.completions.with_report.create(messages=MESSAGES)
            return report.response, list(report.attempts), report.degraded

    return asyncio.run(go())


def test_static_answers_when_every_provider_is_down(
    mode: str, primary: FakeProvider, secondary: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    primary.set_mode(Fault.status(503))
    secondary.set_mode(Fault.overloaded())
    chain = [target(primary), target(secondary), Target.static(SORRY, "sorry")]
    with caplog.at_level(logging.WARNING, logger="failover"):
        answer, attempts, degraded = call(mode, chain, stream=False)
    assert isinstance(answer, ChatCompletion)
    assert answer.choices[0].message.content == SORRY
    assert answer.choices[0].finish_reason == "stop"
    assert answer.model == "static/sorry"
    assert answer.usage is not None and answer.usage.total_tokens == 0
    assert degraded
    assert attempts[-1].target == "static/sorry" and attempts[-1].outcome is Outcome.DEGRADED
    assert {a.target for a in attempts[:-1]} == {"openai/model-x", "anthropic/model-x"}
    # One WARNING per degraded answer (besides the transitions: breakers, falling back).
    degraded_lines = [r for r in caplog.records if "gave its static answer" in r.getMessage()]
    assert len(degraded_lines) == 1 and degraded_lines[0].levelno == logging.WARNING
    assert "static/sorry" in degraded_lines[0].getMessage()


def test_static_streams_the_same_text(mode: str, primary: FakeProvider) -> None:
    primary.set_mode(Fault.status(503))
    chunks, attempts, degraded = call(mode, [target(primary), Target.static(SORRY)], stream=True)
    assert all(isinstance(c, ChatCompletionChunk) for c in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == SORRY
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert degraded and attempts[-1].outcome is Outcome.DEGRADED


def test_static_is_not_used_while_a_provider_answers(mode: str, primary: FakeProvider) -> None:
    answer, attempts, degraded = call(mode, [target(primary), Target.static(SORRY)], stream=False)
    assert answer.choices[0].message.content == "primary answer"
    assert not degraded and [a.outcome for a in attempts] == [Outcome.OK]


def test_a_hanging_last_provider_is_retried_before_degrading(primary: FakeProvider) -> None:
    # A static answer is not "another target" for the hang rule: the real provider gets
    # its retries first, and only then does the call degrade.
    primary.enqueue(Fault.hang(), Fault.hang())
    policy = dataclasses.replace(FAST, attempt_timeout=0.3)
    with Failover([target(primary), Target.static(SORRY)], policy=policy) as client:
        report = client.chat.completions.with_report.create(messages=MESSAGES)
    assert report.response.choices[0].message.content == "primary answer"
    assert [a.outcome for a in report.attempts] == [Outcome.FAILED, Outcome.FAILED, Outcome.OK]
