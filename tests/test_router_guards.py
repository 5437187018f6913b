"""Routing over real SDKs and real HTTP: secrets, parameters a target cannot take,
x-should-retry, and answers that are not answers."""

from __future__ import annotations

import dataclasses
import logging
import traceback
from typing import Literal

import pytest

import failover
from failover import AllTargetsFailed, Failover, Outcome, RequestRejected, Target
from failover.testing import FakeProvider, Fault

from ._routing import P, S, outcomes, route
from .conftest import FAST, MESSAGES, SECRET, target

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
