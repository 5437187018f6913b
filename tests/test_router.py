"""The routing client over real SDKs and real HTTP: the whole decision table, sync and async."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any, Literal

import pytest
from openai.types.chat import ChatCompletion

import failover
from failover import (
    AllTargetsFailed,
    AsyncFailover,
    ContentFiltered,
    DeadlineExceeded,
    ErrorKind,
    Failover,
    Outcome,
    Policy,
    Report,
    RequestRejected,
    Target,
)
from failover.testing import FakeProvider, Fault, Phase, Reply, Schedule, ToolCall, closed_port_url

from .conftest import FAST, MESSAGES, SECRET, target


def route(
    mode: str, chain: Sequence[Target], policy: Policy = FAST, **params: Any
) -> Report[ChatCompletion]:
    """One call through a fresh client, blocking or on an event loop."""
    params.setdefault("messages", MESSAGES)
    if mode == "sync":
        with Failover(chain, policy=policy) as client:
            return client.chat.completions.with_report.create(**params)

    async def go() -> Report[ChatCompletion]:
        async with AsyncFailover(chain, policy=policy) as client:
            return await client.chat.completions.with_report.create(**params)

    return asyncio.run(go())


def outcomes(report: Report[Any] | failover.FailoverError) -> list[tuple[str, str, str | None]]:
    return [(a.target, a.outcome.value, a.error and a.error.value) for a in report.attempts]


P, S = "openai/model-x", "anthropic/model-x"


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


# -- Retry-After -------------------------------------------------------------------


def _http_date(seconds_ahead: float) -> str:
    return format_datetime(datetime.now(UTC) + timedelta(seconds=seconds_ahead), usegmt=True)


@pytest.mark.parametrize(
    ("fault", "floor"),
    [
        pytest.param(Fault.rate_limit(retry_after=0.4), 0.4, id="seconds"),
        pytest.param(Fault.rate_limit(retry_after_ms=400), 0.4, id="ms"),
        # HTTP dates have one-second resolution: ask for 2 s, expect at least ~1 s.
        pytest.param(Fault.rate_limit(retry_after=_http_date(2)), 0.9, id="http-date"),
    ],
)
def test_retry_after_is_a_floor_on_the_wait(
    mode: str, primary: FakeProvider, fault: Fault, floor: float
) -> None:
    # The date form is computed at collection; rebuild it now so it is still ahead.
    if isinstance(fault.retry_after, str):
        fault = Fault.rate_limit(retry_after=_http_date(2))
    primary.enqueue(fault)
    report = route(mode, [target(primary)])
    assert outcomes(report) == [(P, "failed", "rate_limit"), (P, "ok", None)]
    assert report.attempts[1].slept >= floor
    first, second = primary.requests
    assert second.arrived_at - first.arrived_at >= floor


def test_retry_after_beyond_the_deadline_fails_over_at_once(
    mode: str, primary: FakeProvider, secondary: FakeProvider
) -> None:
    primary.enqueue(Fault.rate_limit(retry_after=30))
    started = time.monotonic()
    report = route(mode, [target(primary), target(secondary)], dataclasses.replace(FAST, timeout=5))
    assert time.monotonic() - started < 3
    assert outcomes(report) == [(P, "failed", "rate_limit"), (S, "ok", None)]
    assert report.attempts[1].slept == 0


def test_rate_limited_target_cools_down_without_tripping_the_breaker(
    primary: FakeProvider, secondary: FakeProvider
) -> None:
    primary.enqueue(Fault.rate_limit(retry_after=30))
    with Failover([target(primary), target(secondary)], policy=FAST) as client:
        client.chat.completions.create(messages=MESSAGES)
        report = client.chat.completions.with_report.create(messages=MESSAGES)
        assert client.breaker_state(P) == "closed"
    assert report.attempts[0].outcome is Outcome.SKIPPED
    assert "cooling_down" in report.attempts[0].detail
    assert len(primary.requests) == 1


# -- breakers ------------------------------------------------------------------------


def test_breaker_opens_skips_probes_and_recovers(
    primary: FakeProvider, secondary: FakeProvider
) -> None:
    policy = dataclasses.replace(FAST, max_retries=0, breaker_fail_max=3, breaker_reset=0.3)
    primary.set_mode(Fault.status(503))
    with Failover([target(primary), target(secondary)], policy=policy) as client:
        for _ in range(3):
            client.chat.completions.create(messages=MESSAGES)
        assert client.breaker_state(P) == "open"
        skipped = client.chat.completions.with_report.create(messages=MESSAGES)
        assert len(primary.requests) == 3  # no network call while open
        assert skipped.attempts[0].outcome is Outcome.SKIPPED
        assert "breaker_open, retry in 0." in skipped.attempts[0].detail
        primary.set_mode(None)
        time.sleep(0.35)
        probe = client.chat.completions.with_report.create(messages=MESSAGES)
        assert outcomes(probe) == [(P, "ok", None)]
        assert client.breaker_state(P) == "closed"


def test_4xx_do_not_trip_the_breaker(primary: FakeProvider, secondary: FakeProvider) -> None:
    policy = dataclasses.replace(FAST, breaker_fail_max=2, breaker_reset=0.05)
    primary.set_mode(Fault.status(404))
    with Failover([target(primary), target(secondary)], policy=policy) as client:
        for _ in range(3):
            client.chat.completions.create(messages=MESSAGES)
            time.sleep(0.06)  # let the 404 cool-down (breaker_reset) pass
        assert client.breaker_state(P) == "closed"
    assert len(primary.requests) == 3


async def test_half_open_lets_a_single_probe_through(
    primary: FakeProvider, secondary: FakeProvider
) -> None:
    policy = dataclasses.replace(FAST, max_retries=0, breaker_fail_max=1, breaker_reset=0.2)
    primary.set_mode(Fault.status(503))
    async with AsyncFailover([target(primary), target(secondary)], policy=policy) as client:
        await client.chat.completions.create(messages=MESSAGES)
        assert client.breaker_state(P) == "open"
        await asyncio.sleep(0.25)
        primary.set_mode(Fault.slow_first_byte(0.3))
        before = len(primary.requests)
        reports = await asyncio.gather(
            *(client.chat.completions.with_report.create(messages=MESSAGES) for _ in range(10))
        )
        assert len(primary.requests) - before == 1
        assert sum(r.target == P for r in reports) == 1
        assert client.breaker_state(P) == "closed"


# -- deadlines ---------------------------------------------------------------------


def test_attempt_timeout_then_overall_deadline(
    mode: str, primary: FakeProvider, secondary: FakeProvider
) -> None:
    primary.set_mode(Fault.hang())
    secondary.set_mode(Fault.hang())
    policy = dataclasses.replace(FAST, timeout=1.2, attempt_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded) as info:
        route(mode, [target(primary), target(secondary)], policy)
    elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 3.0
    kinds = {a.error for a in info.value.attempts if a.outcome is Outcome.FAILED}
    assert kinds == {ErrorKind.TIMEOUT}
    assert all(a.duration < 0.9 for a in info.value.attempts)


def test_per_call_timeout_overrides_the_policy(mode: str, primary: FakeProvider) -> None:
    primary.set_mode(Fault.hang())
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        route(mode, [target(primary)], timeout=0.6)
    assert time.monotonic() - started < 2.5


async def test_cancelling_the_caller_cancels_the_attempt_and_counts_nothing(
    primary: FakeProvider,
) -> None:
    primary.set_mode(Fault.hang())
    policy = dataclasses.replace(FAST, breaker_fail_max=1)
    seen: list[failover.Attempt] = []
    async with AsyncFailover([target(primary)], policy=policy, on_attempt=seen.append) as client:
        task = asyncio.create_task(client.chat.completions.create(messages=MESSAGES))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert client.breaker_state(P) == "closed"
    assert [a.outcome for a in seen] == [Outcome.CANCELLED]


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


# -- secrets -----------------------------------------------------------------------------


def test_no_key_material_anywhere(
    mode: str, primary: FakeProvider, secondary: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    echo = f"Incorrect API key provided: {SECRET}. Authorization: Bearer {SECRET}"
    primary.set_mode(Fault.status(401, message=echo))
    secondary.set_mode(Fault.status(400, message=echo))
    chain = [target(primary), target(secondary)]
    with pytest.raises(RequestRejected) as info:
        route(mode, chain)
    texts = [caplog.text, str(info.value), repr(info.value), repr(chain), repr(Failover(chain))]
    texts.append("".join(traceback.format_exception(info.value)))  # includes __cause__
    texts += [repr(a) for a in info.value.attempts]
    for text in texts:
        assert SECRET not in text and "SECRETKEY" not in text
    assert "Incorrect API key provided: ***" in info.value.attempts[0].detail
    assert primary.requests[0].headers["authorization"] != f"Bearer {SECRET}"


def test_unsupported_parameter_skips_only_the_target_that_cannot_take_it(
    mode: str, primary: FakeProvider, secondary: FakeProvider
) -> None:
    report = route(mode, [target(secondary), target(primary)], n=2)
    assert [(a.target, a.outcome) for a in report.attempts] == [
        (S, Outcome.SKIPPED),
        (P, Outcome.OK),
    ]
    assert "'n'" in report.attempts[0].detail and secondary.requests == []


def test_unsupported_parameter_everywhere_is_raised(mode: str, secondary: FakeProvider) -> None:
    with pytest.raises(failover.UnsupportedParameter, match="'n'"):
        route(mode, [target(secondary)], n=2)
    assert secondary.requests == []


def test_model_parameter_is_refused(mode: str, primary: FakeProvider) -> None:
    with pytest.raises(failover.UnsupportedParameter, match="model"):
        route(mode, [target(primary)], model="gpt-4o")


def test_x_should_retry_false_skips_the_same_target_retry(
    mode: str, primary: FakeProvider, secondary: FakeProvider
) -> None:
    primary.set_mode(Fault.status(503, should_retry=False))
    report = route(mode, [target(primary), target(secondary)])
    assert outcomes(report) == [(P, "failed", "server_error"), (S, "ok", None)]


def test_x_should_retry_true_retries_a_target_local_failure(
    mode: str, primary: FakeProvider
) -> None:
    primary.enqueue(Fault.status(404, should_retry=True))
    report = route(mode, [target(primary)])
    assert outcomes(report) == [(P, "failed", "not_found"), (P, "ok", None)]


def test_x_should_retry_never_resends_a_malformed_request(mode: str, primary: FakeProvider) -> None:
    primary.set_mode(Fault.status(400, should_retry=True))
    with pytest.raises(RequestRejected):
        route(mode, [target(primary)])
    assert len(primary.requests) == 1


def test_a_raising_attempt_hook_does_not_break_the_call(primary: FakeProvider) -> None:
    def broken_hook(attempt: failover.Attempt) -> None:
        raise RuntimeError("metrics backend down")

    with Failover([target(primary)], policy=FAST, on_attempt=broken_hook) as client:
        answer = client.chat.completions.create(messages=MESSAGES)
    assert answer.choices[0].message.content == "primary answer"


@pytest.mark.parametrize("api", ["openai", "anthropic"])
def test_an_html_page_served_with_200_fails_over(
    mode: str, api: Literal["openai", "anthropic"], secondary: FakeProvider
) -> None:
    with FakeProvider(api, reply="never") as odd:
        odd.set_mode(Fault.html(200))
        policy = dataclasses.replace(FAST, max_retries=0)
        report = route(mode, [target(odd, "odd"), target(secondary)], policy)
    assert outcomes(report) == [("odd/model-x", "failed", "malformed_response"), (S, "ok", None)]


def test_an_empty_anthropic_answer_fails_over(
    mode: str, primary: FakeProvider, secondary: FakeProvider
) -> None:
    secondary.set_mode(Fault.empty_choices())  # Anthropic: content [] with end_turn
    report = route(
        mode, [target(secondary), target(primary)], dataclasses.replace(FAST, max_retries=0)
    )
    assert outcomes(report) == [(S, "failed", "malformed_response"), (P, "ok", None)]


def test_a_truncated_answer_is_not_a_success(
    mode: str, primary: FakeProvider, secondary: FakeProvider
) -> None:
    secondary.set_mode(Fault.no_terminator())  # non-streaming: text with no stop reason
    report = route(
        mode, [target(secondary), target(primary)], dataclasses.replace(FAST, max_retries=0)
    )
    assert outcomes(report) == [(S, "failed", "malformed_response"), (P, "ok", None)]


def test_two_keys_for_one_model_are_two_targets(mode: str, primary: FakeProvider) -> None:
    org_a = Target(
        "openai", "model-x", base_url=primary.base_url, api_key="key-a-0000", name="org-a"
    )
    org_b = Target(
        "openai", "model-x", base_url=primary.base_url, api_key="key-b-0000", name="org-b"
    )
    primary.enqueue(Fault.quota())  # org A is out of quota; org B is not
    report = route(mode, [org_a, org_b])
    assert outcomes(report) == [("org-a", "failed", "quota"), ("org-b", "ok", None)]


def test_a_hang_is_retried_when_every_other_target_is_out_of_service(
    primary: FakeProvider, secondary: FakeProvider
) -> None:
    policy = dataclasses.replace(FAST, attempt_timeout=0.5, breaker_reset=30)
    with Failover([target(primary), target(secondary)], policy=policy) as client:
        primary.enqueue(Fault.context_length())  # fails over without touching its health
        secondary.enqueue(Fault.quota())  # the backup is now cooling down for 30 s
        with pytest.raises(AllTargetsFailed):
            client.chat.completions.create(messages=MESSAGES)
        primary.enqueue(Fault.hang())
        report = client.chat.completions.with_report.create(messages=MESSAGES)
    assert outcomes(report) == [(P, "failed", "timeout"), (P, "ok", None)]
