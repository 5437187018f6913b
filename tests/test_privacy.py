"""Privacy-aware routing, counted at the fakes: a request that requires tags goes only to
targets that carry them, fails closed when they are down, and ``before_send`` can mask
or refuse what a target would receive."""

from __future__ import annotations

import dataclasses
import io
import json
import re
from typing import Any

import pytest

from failover import (
    AllTargetsFailed,
    AsyncFailover,
    ConfigError,
    Failover,
    Outcome,
    Target,
)
from failover._cli.doctor import run_doctor
from failover.testing import FakeProvider, Fault

from .conftest import FAST, MESSAGES, target

ONCE = dataclasses.replace(FAST, max_retries=0)


def tagged(fake: FakeProvider, name: str, *tags: str) -> Target:
    return dataclasses.replace(target(fake, name), tags=list(tags))


def test_a_requirement_routes_past_untagged_targets_without_contacting_them(
    primary: FakeProvider, secondary: FakeProvider
) -> None:
    chain = [tagged(primary, "cloud"), tagged(secondary, "private", "zdr", "region:eu")]
    with Failover(chain, policy=ONCE, require=["ZDR"]) as client:
        report = client.chat.completions.with_report.create(messages=MESSAGES)
    assert report.target == "private/model-x"
    assert report.response.choices[0].message.content == "secondary answer"
    assert len(primary.requests) == 0 and len(secondary.requests) == 1
    first = report.attempts[0]
    assert first.outcome is Outcome.EXCLUDED and first.target == "cloud/model-x"
    assert "zdr" in first.detail


def test_it_fails_closed_when_every_qualifying_target_is_down(
    primary: FakeProvider, secondary: FakeProvider
) -> None:
    primary.set_mode(Fault.status(503))
    chain = [tagged(primary, "local", "local"), tagged(secondary, "cloud")]
    with Failover(chain, policy=ONCE, require=["local"]) as client:
        for _ in range(4):  # enough to open the local target's breaker (fail_max 3)
            with pytest.raises(AllTargetsFailed) as info:
                client.chat.completions.create(messages=MESSAGES)
            outcomes = {a.target: a.outcome for a in info.value.attempts}
            assert outcomes["cloud/model-x"] is Outcome.EXCLUDED
        assert client.breaker_state("local/model-x") == "open"
    assert len(secondary.requests) == 0  # not even as a probe
    assert len(primary.requests) == 3


def test_a_static_last_resort_may_answer_a_private_call(
    primary: FakeProvider, secondary: FakeProvider
) -> None:
    primary.set_mode(Fault.status(503))
    chain = [tagged(primary, "local", "local"), tagged(secondary, "cloud"), Target.static("Busy")]
    with Failover(chain, policy=ONCE, require=["local"]) as client:
        report = client.chat.completions.with_report.create(messages=MESSAGES)
    assert report.degraded and len(secondary.requests) == 0


def test_a_tag_no_target_carries_is_named_before_any_request(primary: FakeProvider) -> None:
    chain = [tagged(primary, "eu", "region:eu", "zdr")]
    with pytest.raises(ConfigError, match="region:us") as info:
        Failover(chain, require=["region:us", "zdr"])
    assert info.value.variable == "require"
    with Failover(chain) as client, pytest.raises(ConfigError, match="region:us"):
        client.with_options(require=["region:us"])
    env = {
        "FAILOVER_CHAIN": "p/m",
        "FAILOVER_PROVIDER_P_API": "openai",
        "FAILOVER_PROVIDER_P_BASE_URL": primary.base_url,
        "FAILOVER_PROVIDER_P_TAGS": "zdr",
        "FAILOVER_REQUIRE": "zdr, hipaa",
    }
    with pytest.raises(ConfigError, match="hipaa") as env_info:
        Failover.from_env(env)
    assert env_info.value.variable == "FAILOVER_REQUIRE"
    assert len(primary.requests) == 0


def test_with_options_derives_a_client_with_its_own_requirement(
    primary: FakeProvider, secondary: FakeProvider
) -> None:
    chain = [tagged(primary, "cloud"), tagged(secondary, "private", "zdr")]
    with Failover(chain, policy=ONCE) as client:
        private = client.with_options(require=["zdr"])
        assert private.require == {"zdr"} and client.require == frozenset()
        assert private.chat.completions.with_report.create(messages=MESSAGES).target == (
            "private/model-x"
        )
        private.close()  # shares the parent's connections: closes nothing
        assert client.chat.completions.with_report.create(messages=MESSAGES).target == (
            "cloud/model-x"
        )
    assert len(primary.requests) == 1 and len(secondary.requests) == 1


def test_the_environment_tags_targets_and_sets_the_requirement(
    primary: FakeProvider, secondary: FakeProvider
) -> None:
    env = {
        "FAILOVER_CHAIN": "cloud/m,onprem/m",
        "FAILOVER_PROVIDER_CLOUD_API": "openai",
        "FAILOVER_PROVIDER_CLOUD_BASE_URL": primary.base_url,
        "FAILOVER_PROVIDER_ONPREM_API": "anthropic",
        "FAILOVER_PROVIDER_ONPREM_BASE_URL": secondary.base_url,
        "FAILOVER_PROVIDER_ONPREM_API_KEY": "k",
        "FAILOVER_PROVIDER_ONPREM_TAGS": "local, HIPAA",
        "FAILOVER_REQUIRE": "hipaa",
        "FAILOVER_MAX_RETRIES": "0",
    }
    with Failover.from_env(env) as client:
        assert client.targets[1].tags == {"local", "hipaa"}
        assert client.chat.completions.with_report.create(messages=MESSAGES).target == "onprem/m"
    assert len(primary.requests) == 0
    with pytest.raises(ConfigError) as info:
        Failover.from_env({**env, "FAILOVER_PROVIDER_ONPREM_TAGS": "local,region eu"})
    assert info.value.variable == "FAILOVER_PROVIDER_ONPREM_TAGS"


def test_default_tags() -> None:
    assert Target("ollama", "llama3.2").tags == {"local"}
    assert Target("vllm", "m", base_url="http://127.0.0.1:8000/v1").tags == {"local"}
    # Another host may be anyone's server: only the operator can vouch for it.
    assert Target("ollama", "llama3.2", base_url="https://ollama.example.com/v1").tags == set()
    assert Target("ollama", "llama3.2", tags=[]).tags == set()  # given: replaces the default
    assert Target("openai", "gpt-4o", base_url="http://localhost:4000/v1").tags == set()
    with pytest.raises(ConfigError, match="not a string"):
        Target("openai", "gpt-4o", tags="zdr")


def _mask(target: Target, params: dict[str, Any]) -> dict[str, Any] | None:
    if "zdr" in target.tags:
        return None
    for message in params["messages"]:
        message["content"] = re.sub(r"\S+@\S+", "[email]", message["content"])
    return params


PRIVATE = [{"role": "user", "content": "Write to jane.doe@example.com about the results"}]


def test_before_send_masks_what_a_target_without_zdr_receives(
    primary: FakeProvider, secondary: FakeProvider
) -> None:
    primary.set_mode(Fault.status(503))
    chain = [tagged(primary, "zdr-provider", "zdr"), tagged(secondary, "other")]
    with Failover(chain, policy=ONCE, before_send=_mask) as client:
        assert client.chat.completions.with_report.create(messages=PRIVATE).target == (
            "other/model-x"
        )
    assert "jane.doe@example.com" in str(primary.requests[0].body)
    sent = str(secondary.requests[0].body)
    assert "[email]" in sent and "jane.doe" not in sent
    assert PRIVATE[0]["content"].startswith("Write to jane.doe@")  # the caller's copy


def test_before_send_that_raises_keeps_the_request_from_that_target(
    primary: FakeProvider, secondary: FakeProvider
) -> None:
    def only_zdr(target: Target, params: dict[str, Any]) -> None:
        if "zdr" not in target.tags:
            raise PermissionError("no zero-data-retention agreement")

    chain = [tagged(primary, "cloud"), tagged(secondary, "private", "zdr")]
    with Failover(chain, policy=ONCE, before_send=only_zdr) as client:
        report = client.chat.completions.with_report.create(messages=MESSAGES)
        assert report.target == "private/model-x"
        assert report.attempts[0].outcome is Outcome.EXCLUDED
        assert "PermissionError: no zero-data-retention" in report.attempts[0].detail
        with pytest.raises(ConfigError, match="before_send"):
            client.with_options(before_send=lambda t, p: "oops").chat.completions.create(
                messages=MESSAGES
            )
    assert len(primary.requests) == 0


async def test_async_clients_route_stream_and_await_an_async_before_send(
    primary: FakeProvider, secondary: FakeProvider
) -> None:
    seen: list[str] = []

    async def note(target: Target, params: dict[str, Any]) -> dict[str, Any]:
        seen.append(target.label)
        return {**params, "messages": [*params["messages"], {"role": "user", "content": "EU"}]}

    chain = [tagged(primary, "us"), tagged(secondary, "eu", "region:eu")]
    async with AsyncFailover(chain, policy=ONCE, before_send=note) as client:
        eu = client.with_options(require=["region:eu"])
        stream = await eu.chat.completions.create(messages=MESSAGES, stream=True)
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        assert (
            text == "secondary answer"
            and stream.target is not None
            and stream.target.label == "eu/model-x"
        )
        answer = await client.chat.completions.create(messages=MESSAGES)
        assert answer.choices[0].message.content == "primary answer"
    assert seen == ["eu/model-x", "us/model-x"]
    assert "EU" in str(secondary.requests[0].body) and len(primary.requests) == 1


def test_a_sync_client_refuses_a_coroutine_before_send(primary: FakeProvider) -> None:
    async def hook(target: Target, params: dict[str, Any]) -> None:
        return None

    with (
        Failover([target(primary)], policy=ONCE, before_send=hook) as client,
        pytest.raises(ConfigError, match="AsyncFailover"),
    ):
        client.chat.completions.create(messages=MESSAGES)
    assert len(primary.requests) == 0


def test_doctor_shows_tags_and_what_the_requirement_leaves_out(primary: FakeProvider) -> None:
    env = {
        "FAILOVER_CHAIN": "p/m,ollama/llama3.2",
        "FAILOVER_PROVIDER_P_API": "openai",
        "FAILOVER_PROVIDER_P_BASE_URL": primary.base_url,
        "FAILOVER_PROVIDER_P_TAGS": "zdr,region:eu",
        "FAILOVER_REQUIRE": "zdr",
    }
    out = io.StringIO()
    assert run_doctor(env, offline=True, as_json=True, out=out) == 0
    doc = json.loads(out.getvalue())
    assert doc["require"] == ["zdr"]
    rows = {row["target"]: row for row in doc["targets"]}
    assert rows["p/m"]["tags"] == ["region:eu", "zdr"] and not rows["p/m"]["excluded_by_require"]
    assert rows["ollama/llama3.2"]["excluded_by_require"] == "lacks zdr"
    out = io.StringIO()
    assert run_doctor({**env, "FAILOVER_REQUIRE": "hipaa"}, offline=True, out=out) == 3
    assert re.search(
        r"error +FAILOVER_REQUIRE +FAILOVER_REQUIRE requires tag hipaa", out.getvalue()
    )
    assert len(primary.requests) == 0
