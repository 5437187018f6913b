"""The routing client over real SDKs and real HTTP: the decision table, sync and async."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time

import pytest
from openai.types.chat import ChatCompletion

from failover import (
    AllTargetsFailed,
    AsyncFailover,
    ContentFiltered,
    DeadlineExceeded,
    RequestRejected,
    Target,
)
from failover.testing import FakeProvider, Fault, Phase, Reply, Schedule, ToolCall, closed_port_url

from ._routing import P, S, outcomes, route
from .conftest import FAST, MESSAGES, SECRET, target


def test_healthy_primary_answers_with_openai_types(mode: str, primary: FakeProvider) -> None:
    report = route(mode, [target(primary)])
    assert isinstance(report.response, ChatCompletion)
    assert report.response.choices[0].message.content == "primary answer"
    assert report.response.model == "model-x"
    assert report.target == P and outcomes(report) == [(P, "ok", None)]


# (fault served by the primary on every request, expected attempt log)
TRANSIENT = [
    pytest.param(Fault.status(500), "server_error", id="500"),
    pytest.param(Fault.status(503), "server_error", id="503"),
    pytest.param(Fault.html(502), "server_error", id="html-502"),
    pytest.param(Fault.status(408), "request_timeout", id="408"),
    pytest.param(Fault.reset(), "connection", id="reset"),
    pytest.param(Fault.malformed_json(), "malformed_response", id="malformed"),
    pytest.param(Fault.empty_choices(), "malformed_response", id="empty-choices"),
]


@pytest.mark.parametrize(("fault", "kind"), TRANSIENT)
def test_transient_failures_retry_then_fail_over(
    mode: str, primary: FakeProvider, secondary: FakeProvider, fault: Fault, kind: str
) -> None:
    primary.set_mode(fault)
    policy = dataclasses.replace(FAST, attempt_timeout=0.5)
    report = route(mode, [target(primary), target(secondary)], policy)
    assert report.response.choices[0].message.content == "secondary answer"
    assert outcomes(report) == [(P, "failed", kind)] * 3 + [(S, "ok", None)]
    assert len(primary.requests) == 3


def test_a_hang_fails_over_at_once_and_is_retried_only_as_last_resort(
    mode: str, primary: FakeProvider, secondary: FakeProvider
) -> None:
    primary.set_mode(Fault.hang())
    policy = dataclasses.replace(FAST, attempt_timeout=0.5)
    report = route(mode, [target(primary), target(secondary)], policy)
    assert outcomes(report) == [(P, "failed", "timeout"), (S, "ok", None)]
    assert len(primary.requests) == 1

    secondary.set_mode(None)
    secondary.enqueue(Fault.hang())  # alone in the chain, the hung target is retried
    report = route(mode, [target(secondary)], policy)
    assert outcomes(report) == [(S, "failed", "timeout"), (S, "ok", None)]


def test_no_backoff_is_slept_when_the_breaker_opened_meanwhile(
    mode: str, primary: FakeProvider, secondary: FakeProvider
) -> None:
    primary.set_mode(Fault.status(503))
    policy = dataclasses.replace(
        FAST, breaker_fail_max=1, breaker_reset=30, backoff_base=2.0, backoff_max=2.0
    )
    started = time.monotonic()
    report = route(mode, [target(primary), target(secondary)], policy)
    assert time.monotonic() - started < 1.5
    assert outcomes(report) == [(P, "failed", "server_error"), (S, "ok", None)]
    assert all(a.slept == 0 for a in report.attempts)


def test_anthropic_overloaded_529_is_retried(mode: str, secondary: FakeProvider) -> None:
    secondary.enqueue(Fault.overloaded())
    report = route(mode, [target(secondary)])
    assert outcomes(report) == [(S, "failed", "overloaded"), (S, "ok", None)]
    assert report.attempts[0].status == 529


def test_one_transient_error_is_retried_on_the_same_target(
    mode: str, primary: FakeProvider, secondary: FakeProvider
) -> None:
    primary.enqueue(Fault.status(500))
    report = route(mode, [target(primary), target(secondary)])
    assert outcomes(report) == [(P, "failed", "server_error"), (P, "ok", None)]
    assert secondary.requests == []


def test_connection_refused_fails_over(mode: str, secondary: FakeProvider) -> None:
    dead = Target("dead", "m", base_url=closed_port_url("openai"), api_key=SECRET)
    report = route(mode, [dead, target(secondary)])
    assert outcomes(report) == [("dead/m", "failed", "connection")] * 3 + [(S, "ok", None)]


TARGET_LOCAL = [
    pytest.param(Fault.quota(), "quota", id="quota"),
    pytest.param(Fault.status(401), "auth", id="401"),
    pytest.param(Fault.status(403), "auth", id="403"),
    pytest.param(Fault.status(404), "not_found", id="404"),
    pytest.param(Fault.context_length(), "context_length", id="context-length"),
]


@pytest.mark.parametrize(("fault", "kind"), TARGET_LOCAL)
def test_target_local_failures_fail_over_without_retry(
    mode: str, primary: FakeProvider, secondary: FakeProvider, fault: Fault, kind: str
) -> None:
    primary.set_mode(fault)
    report = route(mode, [target(primary), target(secondary)])
    assert outcomes(report) == [(P, "failed", kind), (S, "ok", None)]
    assert len(primary.requests) == 1


def test_anthropic_spend_limit_is_quota(
    mode: str, primary: FakeProvider, secondary: FakeProvider
) -> None:
    secondary.set_mode(Fault.quota())
    report = route(mode, [target(secondary), target(primary)])
    assert outcomes(report) == [(S, "failed", "quota"), (P, "ok", None)]


def test_anthropic_prompt_too_long_is_context_length(
    mode: str, primary: FakeProvider, secondary: FakeProvider
) -> None:
    secondary.set_mode(Fault.context_length())
    report = route(mode, [target(secondary), target(primary)])
    assert outcomes(report) == [(S, "failed", "context_length"), (P, "ok", None)]


@pytest.mark.parametrize("status", [400, 422])
def test_malformed_request_is_raised_and_never_reaches_the_backup(
    mode: str, primary: FakeProvider, secondary: FakeProvider, status: int
) -> None:
    primary.set_mode(Fault.status(status))
    with pytest.raises(RequestRejected) as info:
        route(mode, [target(primary), target(secondary)])
    assert not isinstance(info.value, ContentFiltered)
    assert outcomes(info.value) == [(P, "failed", "bad_request")]
    assert secondary.requests == []
    assert info.value.__cause__ is not None  # the vendor exception is chained


def test_content_filter_is_raised(
    mode: str, primary: FakeProvider, secondary: FakeProvider
) -> None:
    primary.set_mode(Fault.content_filter())
    with pytest.raises(ContentFiltered):
        route(mode, [target(primary), target(secondary)])
    assert secondary.requests == []


def test_all_targets_failed_carries_the_log(
    mode: str, primary: FakeProvider, secondary: FakeProvider
) -> None:
    primary.set_mode(Fault.status(503))
    secondary.set_mode(Fault.status(500))
    policy = dataclasses.replace(FAST, max_retries=1)
    with pytest.raises(AllTargetsFailed) as info:
        route(mode, [target(primary), target(secondary)], policy)
    assert not isinstance(info.value, DeadlineExceeded)
    assert (
        outcomes(info.value)
        == [(P, "failed", "server_error")] * 2 + [(S, "failed", "server_error")] * 2
    )
    assert "openai/model-x: failed, server_error, HTTP 503" in str(info.value)


# -- mixed chain with tools ------------------------------------------------------------

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


def test_mixed_chain_with_tool_calls(
    mode: str, primary: FakeProvider, secondary: FakeProvider
) -> None:
    primary.set_mode(Fault.status(503))
    secondary.set_reply(
        Reply(text="Let me check.", tool_calls=[ToolCall("get_weather", {"city": "Paris"})])
    )
    chain = [target(primary), target(secondary)]
    report = route(
        mode, chain, dataclasses.replace(FAST, max_retries=0), tools=TOOLS, tool_choice="auto"
    )
    choice = report.response.choices[0]
    assert report.target == S and choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "get_weather"  # type: ignore[union-attr]
    assert json.loads(call.function.arguments) == {"city": "Paris"}  # type: ignore[union-attr]
    sent = secondary.requests[-1].body
    assert sent["tools"][0]["input_schema"]["properties"] == {"city": {"type": "string"}}
    assert sent["tool_choice"] == {"type": "auto"}

    # The tool result goes back through the same chain and reaches Anthropic as tool_result.
    followup = [
        *MESSAGES,
        choice.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "18C, sunny"},
    ]
    secondary.set_reply("It is 18C and sunny in Paris.")
    final = route(
        mode, chain, dataclasses.replace(FAST, max_retries=0), messages=followup, tools=TOOLS
    )
    assert final.response.choices[0].message.content == "It is 18C and sunny in Paris."
    last = secondary.requests[-1].body["messages"][-1]
    assert last["role"] == "user" and last["content"][0]["type"] == "tool_result"
    assert last["content"][0]["tool_use_id"] == call.id


# -- load ------------------------------------------------------------------------------


async def test_100_concurrent_calls_against_a_flaky_primary(
    primary: FakeProvider, secondary: FakeProvider
) -> None:
    primary.set_schedule(Schedule([Phase(60, Fault.status(503), rate=0.4)], seed=7))
    policy = dataclasses.replace(FAST, breaker_fail_max=50)
    async with AsyncFailover([target(primary), target(secondary)], policy=policy) as client:
        reports = await asyncio.gather(
            *(client.chat.completions.with_report.create(messages=MESSAGES) for _ in range(100))
        )
    assert len(reports) == 100
    assert all(r.response.choices[0].message.content for r in reports)
    served = {r.target for r in reports}
    assert P in served  # most calls still succeed on the primary after a retry
    assert sum(len(r.attempts) for r in reports) > 100  # and faults really happened
