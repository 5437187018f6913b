"""Claude on three clouds: Anthropic, AWS Bedrock and Vertex AI, through the anthropic
SDK's own clients (SigV4 or a bearer token, Bedrock's binary event streams, Vertex's
rawPredict) against the fakes on 127.0.0.1."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from failover import AsyncFailover, Failover, RequestRejected, Target
from failover.testing import FakeProvider, Fault, Reply, ToolCall

from .conftest import FAST, MESSAGES, SECRET, target

ONE_TRY = dataclasses.replace(FAST, max_retries=0)
BEDROCK_MODEL = "us.anthropic.claude-sonnet-5-5-20260101-v1:0"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


def bedrock(fake: FakeProvider, name: str = "bedrock", key: str | None = SECRET) -> Target:
    return Target(
        name, BEDROCK_MODEL, api="bedrock", region="us-east-1", base_url=fake.base_url, api_key=key
    )


def vertex(fake: FakeProvider) -> Target:
    return Target(
        "vertex",
        "claude-sonnet-5-5",
        api="vertex",
        region="us-east5",
        project="my-project",
        base_url=fake.base_url,
        api_key=SECRET,
    )


@pytest.fixture
def clouds() -> Iterator[tuple[FakeProvider, FakeProvider, FakeProvider]]:
    with (
        FakeProvider("anthropic", reply="from anthropic", name="anthropic") as first,
        FakeProvider("bedrock", reply="from bedrock", name="bedrock") as second,
        FakeProvider("vertex", reply="from vertex", name="vertex") as third,
    ):
        yield first, second, third


def _chain(clouds: tuple[FakeProvider, FakeProvider, FakeProvider]) -> list[Target]:
    first, second, third = clouds
    return [target(first, "anthropic", "claude-sonnet-5-5"), bedrock(second), vertex(third)]


def test_anthropic_down_bedrock_answers_plain_and_streamed(
    clouds: tuple[FakeProvider, FakeProvider, FakeProvider],
) -> None:
    first, second, _ = clouds
    first.set_mode(Fault.status(503))
    with Failover(_chain(clouds), policy=ONE_TRY) as client:
        report = client.chat.completions.with_report.create(messages=MESSAGES)
        assert (report.target, report.response.choices[0].message.content) == (
            f"bedrock/{BEDROCK_MODEL}",
            "from bedrock",
        )
        with client.chat.completions.create(messages=MESSAGES, stream=True) as stream:
            text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        assert text == "from bedrock" and stream.target is not None
        assert stream.target.api == "bedrock"
    assert [r.model for r in second.requests] == [BEDROCK_MODEL] * 2  # the model, in the path


def test_anthropic_down_bedrock_answers_with_tools(
    clouds: tuple[FakeProvider, FakeProvider, FakeProvider],
) -> None:
    first, second, _ = clouds
    first.set_mode(Fault.status(503))
    second.set_reply(Reply(tool_calls=[ToolCall("get_weather", {"city": "Paris"})]))
    with Failover(_chain(clouds), policy=ONE_TRY) as client:
        answer = client.chat.completions.create(messages=MESSAGES, tools=TOOLS)
        with client.chat.completions.create(messages=MESSAGES, tools=TOOLS, stream=True) as s:
            pieces = [c.choices[0].delta.tool_calls for c in s if c.choices]
    calls = answer.choices[0].message.tool_calls or []
    assert [(c.function.name, c.function.arguments) for c in calls if c.type == "function"] == [
        ("get_weather", '{"city": "Paris"}')
    ]
    streamed = "".join(t.function.arguments or "" for p in pieces if p for t in p if t.function)
    assert streamed.replace(" ", "") == '{"city":"Paris"}'
    assert second.requests[0].body["tools"][0]["name"] == "get_weather"


async def test_anthropic_and_bedrock_down_vertex_answers(
    clouds: tuple[FakeProvider, FakeProvider, FakeProvider],
) -> None:
    first, second, third = clouds
    first.set_mode(Fault.status(503))
    second.set_mode(Fault.status(500))
    async with AsyncFailover(_chain(clouds), policy=ONE_TRY) as client:
        report = await client.chat.completions.with_report.create(messages=MESSAGES)
        stream = await client.chat.completions.create(messages=MESSAGES, stream=True)
        async with stream:
            text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert report.target == "vertex/claude-sonnet-5-5" and text == "from vertex"
    assert [a.error.value if a.error else None for a in report.attempts] == [
        "server_error",
        "server_error",
        None,
    ]
    assert [r.model for r in third.requests] == ["claude-sonnet-5-5"] * 2


def test_a_bedrock_throttle_fails_over_and_cools_the_target_down_for_its_retry_after(
    clouds: tuple[FakeProvider, FakeProvider, FakeProvider],
) -> None:
    _, second, third = clouds
    second.set_mode(Fault.rate_limit(retry_after=30))
    with Failover([bedrock(second), vertex(third)], policy=ONE_TRY) as client:
        report = client.chat.completions.with_report.create(messages=MESSAGES)
        assert report.target == "vertex/claude-sonnet-5-5"
        assert report.attempts[0].error is not None
        assert report.attempts[0].error.value == "rate_limit"
        status = client.health()[0]
        assert status.state == "cooling-down" and status.retry_at is not None
        assert status.retry_at > time.time() + 25
        client.chat.completions.create(messages=MESSAGES)  # skips Bedrock while it cools
    assert len(second.requests) == 1


def test_a_bedrock_service_quota_exceeded_400_fails_over_rather_than_being_a_bad_request(
    clouds: tuple[FakeProvider, FakeProvider, FakeProvider],
) -> None:
    _, second, third = clouds
    second.set_mode(Fault.quota())
    with Failover([bedrock(second), vertex(third)], policy=FAST) as client:
        report = client.chat.completions.with_report.create(messages=MESSAGES)
    assert report.target == "vertex/claude-sonnet-5-5"
    first = report.attempts[0]
    assert (first.status, first.error.value if first.error else None) == (400, "quota")
    assert len(second.requests) == 1  # a spent quota is not retried in place
    # A true bad request still stops the call: the backup would only fail too.
    second.set_mode(Fault.status(400))
    with (
        Failover([bedrock(second), vertex(third)], policy=FAST) as client,
        pytest.raises(RequestRejected),
    ):
        client.chat.completions.create(messages=MESSAGES)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_bedrock_exception_frame_before_the_first_content_fails_over(
    clouds: tuple[FakeProvider, FakeProvider, FakeProvider], mode: str
) -> None:
    _, second, third = clouds
    second.set_mode(Fault.inband_error(after_chunks=0))
    chain = [bedrock(second), vertex(third)]

    async def read_async() -> tuple[str, str]:
        async with AsyncFailover(chain, policy=ONE_TRY) as client:
            stream = await client.chat.completions.create(messages=MESSAGES, stream=True)
            async with stream:
                text = "".join(
                    [c.choices[0].delta.content or "" async for c in stream if c.choices]
                )
            return text, stream.target.label if stream.target else ""

    if mode == "async":
        text, label = asyncio.run(read_async())
    else:
        with Failover(chain, policy=ONE_TRY) as client:
            with client.chat.completions.create(messages=MESSAGES, stream=True) as stream:
                text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
            label = stream.target.label if stream.target else ""
    assert (text, label) == ("from vertex", "vertex/claude-sonnet-5-5")


def test_a_vertex_resource_exhausted_list_body_is_a_rate_limit(
    clouds: tuple[FakeProvider, FakeProvider, FakeProvider],
) -> None:
    first, _, third = clouds
    # RESOURCE_EXHAUSTED in a JSON list, as Vertex sometimes sends it; no Retry-After.
    third.set_mode(Fault.status(429, error_code="list"))
    chain = [vertex(third), target(first, "anthropic", "claude-sonnet-5-5")]
    with Failover(chain, policy=ONE_TRY) as client:
        report = client.chat.completions.with_report.create(messages=MESSAGES)
    assert report.target == "anthropic/claude-sonnet-5-5"
    assert report.attempts[0].error is not None
    assert (report.attempts[0].status, report.attempts[0].error.value) == (429, "rate_limit")
    assert report.attempts[0].detail.startswith("Error code: 429 - [{'error'")  # the list


def test_bedrock_without_a_token_signs_with_the_aws_credential_chain(
    clouds: tuple[FakeProvider, FakeProvider, FakeProvider], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, second, _ = clouds
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY")
    monkeypatch.delenv("AWS_BEARER_TOKEN_BEDROCK", raising=False)
    with Failover([bedrock(second, key=None)], policy=ONE_TRY) as client:
        answer = client.chat.completions.create(messages=MESSAGES)
    assert answer.choices[0].message.content == "from bedrock"
    assert second.requests[0].headers["authorization"].startswith("AWS4-HMAC-SHA256 ")


# In a process of its own: the anthropic SDK keeps the AWS session it made (credentials
# included) for the life of the process, so this must be one that never had any.
_NO_CREDENTIALS = """
import sys
from failover import AllTargetsFailed, Failover, Policy, Target

policy = Policy(max_retries=0, timeout=10.0)
hello = [{"role": "user", "content": "hi"}]
bedrock = Target(
    "bedrock", "m", api="bedrock", region="us-east-1", base_url=sys.argv[1]
)
backup = Target("anthropic", "m", api="anthropic", base_url=sys.argv[2], api_key="k")
with Failover([bedrock, backup], policy=policy) as client:
    report = client.chat.completions.with_report.create(messages=hello)
    print(report.target, report.attempts[0].error.value)
with Failover([bedrock], policy=policy) as client:
    try:
        client.chat.completions.create(messages=hello)
    except AllTargetsFailed as exc:
        print("raised:", " ".join(str(exc).split()))
"""


def test_bedrock_with_no_credentials_at_all_fails_over_as_an_auth_failure(
    clouds: tuple[FakeProvider, FakeProvider, FakeProvider], tmp_path: Path
) -> None:
    first, second, _ = clouds
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    nowhere = str(tmp_path / "none")
    env |= {
        "AWS_CONFIG_FILE": nowhere,
        "AWS_SHARED_CREDENTIALS_FILE": nowhere,
        "AWS_EC2_METADATA_DISABLED": "true",  # no instance role to ask
    }
    done = subprocess.run(
        [sys.executable, "-c", _NO_CREDENTIALS, second.base_url, first.base_url],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answered, raised = done.stdout.splitlines()
    assert answered == "anthropic/m auth" and not second.requests
    assert raised.startswith("raised:") and "credentials" in raised


class City(BaseModel):
    city: str


def test_structured_outputs_effort_and_images_go_to_the_clouds_as_to_anthropic(
    clouds: tuple[FakeProvider, FakeProvider, FakeProvider],
) -> None:
    _, second, third = clouds
    second.set_reply('{"city": "Paris"}')
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    looking = [{"role": "user", "content": [{"type": "text", "text": "Where?"}, image]}]
    with Failover([bedrock(second)], policy=ONE_TRY) as client:
        parsed = client.chat.completions.parse(messages=looking, response_format=City)
    assert parsed.choices[0].message.parsed == City(city="Paris")
    body = second.requests[0].body
    assert body["output_config"]["format"]["schema"]["required"] == ["city"]
    assert body["messages"][0]["content"][1]["source"]["media_type"] == "image/png"
    with Failover([vertex(third)], policy=ONE_TRY) as client:
        client.chat.completions.create(messages=MESSAGES, reasoning_effort="high")
    assert third.requests[0].body["output_config"] == {"effort": "high"}


def test_a_cut_bedrock_stream_resumes_on_vertex_as_a_prefill(
    clouds: tuple[FakeProvider, FakeProvider, FakeProvider],
) -> None:
    _, second, third = clouds
    whole = "One model, three clouds, and an answer that survives a cut."
    second.set_reply(Reply(whole, chunk_size=8))
    second.set_mode(Fault.cut(after_chunks=2))  # 16 characters, then the connection drops
    third.set_reply(Reply(whole[16:], chunk_size=8))
    resume = dataclasses.replace(ONE_TRY, stream_resume=True)
    with (
        Failover([bedrock(second), vertex(third)], policy=resume) as client,
        client.chat.completions.create(messages=MESSAGES, stream=True) as stream,
    ):
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == whole
    continued = third.requests[0].body["messages"][-1]
    assert continued["role"] == "assistant" and whole[:16].rstrip() in str(continued["content"])
