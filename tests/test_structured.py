"""Structured outputs across vendors: ``response_format`` with a JSON schema becomes
Anthropic's ``output_config.format``; what Anthropic would reject is never sent to it."""

from __future__ import annotations

import dataclasses
import io
import json
from typing import Any

import pydantic
import pytest

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
from failover._adapters._anthropic_schema import schema_problem
from failover.testing import FakeProvider, Fault

from .conftest import FAST, MESSAGES, target

ONCE = dataclasses.replace(FAST, max_retries=0)
SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "minimum": {"type": "integer"}},
    "required": ["city", "minimum"],
    "additionalProperties": False,
}
ANSWER = json.dumps({"city": "Paris", "minimum": 3})
BOUNDED = {"type": "integer", "minimum": 0}


def _format(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": "place", "schema": schema}}


def _chain(primary: FakeProvider, secondary: FakeProvider, model: str) -> list[Target]:
    return [target(primary, "openai"), target(secondary, "anthropic", model)]


def test_a_schema_falls_back_to_anthropic_as_output_config(
    primary: FakeProvider, secondary: FakeProvider
) -> None:
    primary.set_mode(Fault.status(503))
    secondary.set_reply(ANSWER)
    chain = _chain(primary, secondary, "claude-sonnet-4-6")
    with Failover(chain, policy=ONCE) as client:
        report = client.chat.completions.with_report.create(
            messages=MESSAGES, response_format=_format(SCHEMA)
        )
    assert report.target == "anthropic/claude-sonnet-4-6"
    assert json.loads(report.response.choices[0].message.content or "") == json.loads(ANSWER)
    sent = secondary.requests[0].body
    assert sent["output_config"] == {"format": {"type": "json_schema", "schema": SCHEMA}}
    assert "response_format" not in sent
    assert primary.requests[0].body["response_format"] == _format(SCHEMA)  # as given


@pytest.mark.parametrize(
    ("model", "response_format", "why"),
    [
        (
            "claude-haiku-4-5",
            _format({**SCHEMA, "properties": {"n": {"type": "integer", "minimum": 0}}}),
            "'minimum'",
        ),
        ("claude-haiku-4-5", _format({"type": "object", "properties": {}}), "additionalProperties"),
        ("claude-3-5-haiku-latest", _format(SCHEMA), "predates structured outputs"),
        ("claude-haiku-4-5", {"type": "json_object"}, "no anthropic equivalent"),
    ],
)
def test_what_anthropic_would_reject_skips_it_and_another_target_answers(
    primary: FakeProvider,
    secondary: FakeProvider,
    model: str,
    response_format: dict[str, Any],
    why: str,
) -> None:
    with FakeProvider("openai", reply=ANSWER) as third:
        primary.set_mode(Fault.status(503))
        chain = [*_chain(primary, secondary, model), target(third, "vllm")]
        with Failover(chain, policy=ONCE) as client:
            report = client.chat.completions.with_report.create(
                messages=MESSAGES, response_format=response_format
            )
    assert report.target == "vllm/model-x" and len(secondary.requests) == 0
    skipped = [a for a in report.attempts if a.outcome is Outcome.SKIPPED]
    assert len(skipped) == 1 and why in skipped[0].detail


def test_no_target_able_to_take_it_fails_before_any_request(secondary: FakeProvider) -> None:
    chain = [target(secondary, "anthropic", "claude-opus-4-5")]
    with Failover(chain, policy=ONCE) as client, pytest.raises(UnsupportedParameter) as info:
        client.chat.completions.create(messages=MESSAGES, response_format={"type": "json_object"})
    assert "json_object" in str(info.value) and len(secondary.requests) == 0


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        (SCHEMA, ""),  # a property may be called "minimum"
        ({"type": "array", "items": {"type": "string"}, "minItems": 2}, "minItems"),
        ({"type": "string", "maxLength": 5}, "maxLength"),
        ({"$ref": "https://example.com/s.json"}, "not a local definition"),
        (
            {
                "$defs": {
                    "node": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {"next": {"$ref": "#/$defs/node"}},
                    }
                },
                "$ref": "#/$defs/node",
            },
            "recursive",
        ),
        (
            {"anyOf": [{"type": "string"}, {"type": "object", "properties": {}}]},
            "additionalProperties",
        ),
    ],
)
def test_the_schema_subset(schema: dict[str, Any], problem: str) -> None:
    found = schema_problem(schema)
    assert (problem in found and found) if problem else found == ""


class Place(pydantic.BaseModel):
    city: str
    minimum: int


def test_parse_returns_the_model_whoever_answers(
    primary: FakeProvider, secondary: FakeProvider
) -> None:
    primary.set_mode(Fault.status(503))
    secondary.set_reply(ANSWER)
    with Failover(_chain(primary, secondary, "claude-sonnet-4-6"), policy=ONCE) as client:
        answer = client.chat.completions.parse(messages=MESSAGES, response_format=Place)
    assert answer.choices[0].message.parsed == Place(city="Paris", minimum=3)
    schema = secondary.requests[0].body["output_config"]["format"]["schema"]
    assert schema["required"] == ["city", "minimum"] and schema["additionalProperties"] is False


async def test_an_answer_that_does_not_validate_fails_over(
    primary: FakeProvider, secondary: FakeProvider
) -> None:
    primary.set_reply('{"city": "Paris"}')  # valid JSON, missing a required field
    secondary.set_reply(ANSWER)
    chain = _chain(primary, secondary, "claude-haiku-4-5")
    async with AsyncFailover(chain, policy=ONCE) as client:
        report = await client.chat.completions.with_report.create(
            messages=MESSAGES, response_format=_format(SCHEMA)
        )  # create() does not validate: the JSON is returned as it came
        assert report.target == "openai/model-x"
        answer = await client.chat.completions.parse(messages=MESSAGES, response_format=Place)
    assert answer.choices[0].message.parsed == Place(city="Paris", minimum=3)
    assert primary.requests[-1].body["response_format"]["type"] == "json_schema"
    assert len(secondary.requests) == 1


def test_a_sampling_parameter_is_dropped_where_it_is_lacking_and_logged(
    primary: FakeProvider, secondary: FakeProvider
) -> None:
    primary.set_mode(Fault.status(503))
    with Failover(_chain(primary, secondary, "claude-haiku-4-5"), policy=ONCE) as client:
        report = client.chat.completions.with_report.create(messages=MESSAGES, seed=7)
    assert report.target == "anthropic/claude-haiku-4-5"
    assert primary.requests[0].body["seed"] == 7 and "seed" not in secondary.requests[0].body
    adjusted = [a for a in report.attempts if a.outcome is Outcome.ADJUSTED]
    assert len(adjusted) == 1 and "dropped seed=7" in adjusted[0].detail


def test_with_nothing_to_drop_no_target_takes_it_and_the_error_names_them(
    primary: FakeProvider, secondary: FakeProvider
) -> None:
    keep = dataclasses.replace(ONCE, drop_params=frozenset())
    chain = [target(secondary, "anthropic", "claude-haiku-4-5")]
    with Failover(chain, policy=keep) as client, pytest.raises(UnsupportedParameter) as info:
        client.chat.completions.create(messages=MESSAGES, seed=7)
    message = str(info.value)
    assert "anthropic/claude-haiku-4-5" in message and "'seed'=7" in message
    with Failover(chain, policy=ONCE) as client, pytest.raises(UnsupportedParameter, match="'n'"):
        client.chat.completions.create(messages=MESSAGES, n=2)  # meaning: never dropped
    assert len(secondary.requests) == 0


def test_drop_params_from_the_environment() -> None:
    env = {"FAILOVER_CHAIN": "ollama/llama3.2", "FAILOVER_DROP_PARAMS": "seed, logit_bias"}
    with Failover.from_env(env) as client:
        assert client.policy.drop_params == {"seed", "logit_bias"}
    for value in ("n", "seed,logprobs"):
        with pytest.raises(ConfigError, match="never dropped") as info:
            Failover.from_env({**env, "FAILOVER_DROP_PARAMS": value})
        assert info.value.variable == "FAILOVER_DROP_PARAMS"
    with Failover.from_env({**env, "FAILOVER_DROP_PARAMS": "none"}) as client:
        assert client.policy.drop_params == frozenset()
    assert Policy(drop_params=["seed"]).drop_params == frozenset({"seed"})  # from JSON, say
    with pytest.raises(ConfigError, match="only name sampling parameters"):
        Policy(drop_params=["n"])


@pytest.mark.parametrize(
    ("asked", "sent"), [("high", "high"), ("minimal", "low"), ("xhigh", "xhigh"), ("none", None)]
)
def test_reasoning_effort_arrives_at_anthropic_mapped(
    primary: FakeProvider, secondary: FakeProvider, asked: str, sent: str | None
) -> None:
    primary.set_mode(Fault.status(503))
    with Failover(_chain(primary, secondary, "claude-opus-4-6"), policy=ONCE) as client:
        client.chat.completions.create(messages=MESSAGES, reasoning_effort=asked)
    body = secondary.requests[0].body
    assert body.get("output_config", {}).get("effort") == sent
    assert primary.requests[0].body["reasoning_effort"] == asked


def test_a_model_without_effort_is_skipped_for_it(
    primary: FakeProvider, secondary: FakeProvider
) -> None:
    primary.set_mode(Fault.status(503))
    with (
        Failover(_chain(primary, secondary, "claude-3-7-sonnet-latest"), policy=ONCE) as client,
        pytest.raises(AllTargetsFailed) as info,
    ):
        client.chat.completions.create(messages=MESSAGES, reasoning_effort="high")
    skipped = info.value.attempts[-1]
    assert skipped.outcome is Outcome.SKIPPED and "does not take an effort" in skipped.detail
    assert len(secondary.requests) == 0


def test_doctor_lists_what_each_target_does_with_these_parameters() -> None:
    from failover._cli.doctor import run_doctor

    env = {
        "FAILOVER_CHAIN": "openai/gpt-4o-mini,anthropic/claude-haiku-4-5",
        "OPENAI_API_KEY": "sk-test-0123456789abcdef",
        "ANTHROPIC_API_KEY": "sk-ant-test-0123456789abcdef",
        "FAILOVER_DROP_PARAMS": "seed",
    }
    out = io.StringIO()
    assert run_doctor(env, offline=True, as_json=True, out=out) == 0
    openai_row, anthropic_row = json.loads(out.getvalue())["targets"]
    assert openai_row["supports"] == {"everything": "yes, as given"}
    features = anthropic_row["supports"]
    assert features["response_format json_schema"] == "yes"
    assert features["reasoning_effort"] == "no (skipped)"  # Haiku 4.5 takes no effort
    assert features["seed"] == "dropped" and features["logit_bias"] == "no (skipped)"
