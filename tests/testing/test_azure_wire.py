"""The Azure flavour of the fake, through the real ``openai.AzureOpenAI`` SDK and through
failover's ``azure`` provider: Azure's route, ``api-version``, ``api-key`` header, error
bodies and its stream's filter-results opening chunk."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest
from openai.types.chat import ChatCompletionChunk

from failover import ContentFiltered, Failover, Outcome
from failover.testing import FakeProvider, Fault

from ..conftest import MESSAGES

KEY = "azure-key-0123456789abcdef"
VERSION = "2024-10-21"


@pytest.fixture
def azure() -> Iterator[FakeProvider]:
    with FakeProvider("azure", deployment="gpt-4o-eu", reply="from azure") as fake:
        yield fake


def _sdk(fake: FakeProvider) -> openai.AzureOpenAI:
    return openai.AzureOpenAI(
        azure_endpoint=fake.base_url, api_key=KEY, api_version=VERSION, max_retries=0
    )


def test_the_sdk_reaches_the_deployment_with_version_and_key(azure: FakeProvider) -> None:
    with _sdk(azure) as client:
        answer = client.chat.completions.create(model="gpt-4o-eu", messages=MESSAGES)  # type: ignore[arg-type]
        assert answer.choices[0].message.content == "from azure"
        chunks: list[ChatCompletionChunk] = list(
            client.chat.completions.create(model="gpt-4o-eu", messages=MESSAGES, stream=True)  # type: ignore[arg-type]
        )
    assert chunks[0].choices == []  # Azure opens with prompt filter results only
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "from azure"
    first = azure.requests[0]
    assert first.path == "/openai/deployments/gpt-4o-eu/chat/completions"
    assert first.query == f"api-version={VERSION}"
    assert first.headers["api-key"] == "<redacted>" and "authorization" not in first.headers


def test_azure_refuses_what_azure_refuses(azure: FakeProvider) -> None:
    with _sdk(azure) as client, pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="gpt-4o-us", messages=MESSAGES)  # type: ignore[arg-type]
    assert missing.value.code == "DeploymentNotFound"
    plain = openai.OpenAI(base_url=azure.url + "/openai/deployments/gpt-4o-eu", api_key=KEY)
    with plain, pytest.raises(openai.NotFoundError, match="Resource not found"):
        plain.chat.completions.create(model="gpt-4o-eu", messages=MESSAGES, timeout=5)  # type: ignore[arg-type]
    assert azure.requests[-1].query == ""  # no api-version


@pytest.mark.parametrize(
    ("fault", "error", "code"),
    [
        (Fault.rate_limit(retry_after=1), openai.RateLimitError, "429"),
        (Fault.status(500), openai.InternalServerError, "InternalServerError"),
        (Fault.content_filter(), openai.BadRequestError, "content_filter"),
    ],
)
def test_errors_come_in_azures_shape(
    azure: FakeProvider, fault: Fault, error: type[openai.APIStatusError], code: str
) -> None:
    azure.enqueue(fault)
    with _sdk(azure) as client, pytest.raises(error) as info:
        client.chat.completions.create(model="gpt-4o-eu", messages=MESSAGES)  # type: ignore[arg-type]
    assert info.value.code == code
    body = info.value.body
    assert isinstance(body, dict) and "type" not in body  # Azure sends no OpenAI type


def test_failover_uses_azures_route_version_and_header(azure: FakeProvider) -> None:
    env = {
        "FAILOVER_CHAIN": "azure/gpt-4o-eu",
        "AZURE_OPENAI_ENDPOINT": azure.base_url,
        "AZURE_OPENAI_API_KEY": KEY,
        "OPENAI_API_VERSION": VERSION,
        "FAILOVER_MAX_RETRIES": "0",
    }
    with Failover.from_env(env) as client:
        assert client.chat.completions.create(messages=MESSAGES).choices[0].message.content == (
            "from azure"
        )
        stream = client.chat.completions.create(messages=MESSAGES, stream=True)
        assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == (
            "from azure"
        )
        azure.enqueue(Fault.content_filter())
        with pytest.raises(ContentFiltered) as info:  # a filtered prompt never fails over
            client.chat.completions.create(messages=MESSAGES)
        assert info.value.attempts[-1].outcome is Outcome.FAILED
    assert [r.query for r in azure.requests] == [f"api-version={VERSION}"] * 3
    assert all(r.path.endswith("/gpt-4o-eu/chat/completions") for r in azure.requests)
