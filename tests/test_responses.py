"""``client.responses`` (not streamed): the Open Responses compliance cases on three
chains (OpenAI native; OpenAI down, then Anthropic; OpenAI down, then a chat-only
server), each answer validated by openai's own ``Response`` type, and what each target
received checked on the wire."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from typing import Any

import pydantic
import pytest
from openai.types.responses import Response

from failover import AsyncFailover, Failover, Target, UnsupportedParameter
from failover.testing import FakeProvider, Fault, Reply, ToolCall

from .conftest import FAST, SECRET

POLICY = dataclasses.replace(FAST, max_retries=0)
IMAGE = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAA"
    "AAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
}


@pytest.fixture
def openai_native() -> Iterator[FakeProvider]:
    with FakeProvider("openai", reply="native answer", name="openai") as fake:
        yield fake


@pytest.fixture
def claude() -> Iterator[FakeProvider]:
    with FakeProvider("anthropic", reply="claude answer", name="claude") as fake:
        yield fake


@pytest.fixture
def chat_only() -> Iterator[FakeProvider]:
    with FakeProvider("openai", reply="chat answer", name="chat", responses="none") as fake:
        yield fake


def _native(fake: FakeProvider) -> Target:
    return Target("openai", "gpt-5.4-mini", base_url=fake.base_url, api_key=SECRET)


def _chains(
    openai_native: FakeProvider, claude: FakeProvider, chat_only: FakeProvider
) -> dict[str, tuple[list[Target], FakeProvider, str]]:
    """name -> (chain, the fake that answers, its reply text); OpenAI is down in the
    chains that fall over."""
    anthropic = Target(
        "anthropic", "claude-sonnet-5-5", api="anthropic", base_url=claude.base_url, api_key=SECRET
    )
    chat = Target("chat", "chat-model", base_url=chat_only.base_url, api_key=SECRET)
    return {
        "native": ([_native(openai_native), anthropic], openai_native, "native answer"),
        "to-anthropic": ([_native(openai_native), anthropic], claude, "claude answer"),
        "to-chat-only": ([_native(openai_native), chat], chat_only, "chat answer"),
    }


@pytest.fixture(params=["native", "to-anthropic", "to-chat-only"])
def chain(
    request: pytest.FixtureRequest,
    openai_native: FakeProvider,
    claude: FakeProvider,
    chat_only: FakeProvider,
) -> tuple[list[Target], FakeProvider, str]:
    found = _chains(openai_native, claude, chat_only)[request.param]
    if request.param != "native":
        openai_native.set_mode(Fault.status(503))
    return found


def _valid(answer: Response) -> Response:
    """``answer`` after a round trip through openai's own type (what a user stores)."""
    assert isinstance(answer, Response)
    return Response.model_validate(answer.model_dump())


def _last_body(fake: FakeProvider) -> dict[str, Any]:
    body = fake.requests[-1].body
    assert isinstance(body, dict)
    return body


def _said(fake: FakeProvider) -> str:
    """Everything the fake received, as text (what reached it, in any vendor's shape)."""
    return str(_last_body(fake))


def test_basic_text(chain: tuple[list[Target], FakeProvider, str]) -> None:
    targets, answering, text = chain
    with Failover(targets, policy=POLICY) as client:
        answer = _valid(client.responses.create(input="Say hello in one word"))
    assert answer.output_text == text and answer.status == "completed"
    assert answer.usage is not None and answer.usage.output_tokens > 0
    assert answer.usage.input_tokens_details.cached_tokens == 0
    assert "Say hello in one word" in _said(answering)
    native = answering.requests[-1].path.endswith("/responses")
    assert native == (answering.name == "openai")


def test_system_prompt(chain: tuple[list[Target], FakeProvider, str]) -> None:
    targets, answering, _ = chain
    with Failover(targets, policy=POLICY) as client:
        client.responses.create(
            instructions="You are a pirate.",
            input=[
                {"role": "developer", "content": "Answer briefly."},
                {"role": "user", "content": "Hello"},
            ],
        )
    body = _last_body(answering)
    if answering.name == "claude":
        assert body["system"] == "You are a pirate.\n\nAnswer briefly."
    elif answering.name == "chat":
        assert body["messages"][:2] == [
            {"role": "system", "content": "You are a pirate."},
            {"role": "system", "content": "Answer briefly."},
        ]
    else:
        assert body["instructions"] == "You are a pirate."


def test_tool_calling(chain: tuple[list[Target], FakeProvider, str]) -> None:
    targets, answering, _ = chain
    answering.set_reply(Reply(text="", tool_calls=[ToolCall("get_weather", {"city": "Paris"})]))
    with Failover(targets, policy=POLICY) as client:
        answer = _valid(
            client.responses.create(
                input="What is the weather in Paris?", tools=[WEATHER], tool_choice="auto"
            )
        )
    calls = [item for item in answer.output if item.type == "function_call"]
    assert len(calls) == 1 and calls[0].name == "get_weather"
    assert calls[0].arguments.replace(" ", "") == '{"city":"Paris"}' and calls[0].call_id
    sent = _said(answering)
    assert "get_weather" in sent and "The weather in a city" in sent


def test_image_input(chain: tuple[list[Target], FakeProvider, str]) -> None:
    targets, answering, text = chain
    content = [
        {"type": "input_text", "text": "What is in this image?"},
        {"type": "input_image", "image_url": IMAGE},
    ]
    with Failover(targets, policy=POLICY) as client:
        answer = client.responses.create(input=[{"role": "user", "content": content}])
    assert answer.output_text == text
    sent = _said(answering)
    assert "iVBORw0KGgo" in sent  # the image itself reached the target, in its shape


def test_multi_turn_with_a_tool_result(chain: tuple[list[Target], FakeProvider, str]) -> None:
    """A transcript carried in ``input``: an earlier answer, its tool call and the
    tool's output go to whichever target answers, with the call id kept."""
    targets, answering, text = chain
    history: list[dict[str, Any]] = [
        {"role": "user", "content": "What is the weather in Paris?"},
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Let me look.", "annotations": []}],
        },
        {
            "type": "function_call",
            "call_id": "call_paris_1",
            "name": "get_weather",
            "arguments": '{"city": "Paris"}',
        },
        {"type": "function_call_output", "call_id": "call_paris_1", "output": "18 C, sunny"},
        {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "opaque"},
        {"role": "user", "content": "And should I take an umbrella?"},
    ]
    with Failover(targets, policy=POLICY) as client:
        answer = client.responses.create(input=history, tools=[WEATHER])
    assert answer.output_text == text
    body = _last_body(answering)
    sent = str(body)
    assert "call_paris_1" in sent and "18 C, sunny" in sent and "Let me look." in sent
    if answering.name == "chat":
        roles = [m["role"] for m in body["messages"]]
        assert roles == ["user", "assistant", "tool", "user"]
        assert body["messages"][1]["tool_calls"][0]["id"] == "call_paris_1"
    if answering.name != "openai":
        assert "opaque" not in sent  # another vendor's reasoning is never sent


def test_structured_output_parses_on_every_target(
    chain: tuple[list[Target], FakeProvider, str],
) -> None:
    class City(pydantic.BaseModel):
        name: str
        population: int

    targets, answering, _ = chain
    answering.set_reply('{"name": "Paris", "population": 2100000}')
    with Failover(targets, policy=POLICY) as client:
        answer = client.responses.parse(input="Describe Paris", text_format=City)
    assert answer.output_parsed == City(name="Paris", population=2100000)
    assert "population" in _said(answering)  # the schema went, in the target's shape


def test_max_output_tokens_and_an_answer_cut_short(
    chain: tuple[list[Target], FakeProvider, str],
) -> None:
    targets, answering, _ = chain
    answering.set_reply(Reply(text="cut", finish_reason="length"))
    with Failover(targets, policy=POLICY) as client:
        answer = _valid(client.responses.create(input="Hi", max_output_tokens=16))
    assert answer.status == "incomplete"
    assert answer.incomplete_details is not None
    assert answer.incomplete_details.reason == "max_output_tokens"
    body = _last_body(answering)
    wanted = {"claude": "max_tokens", "chat": "max_completion_tokens"}
    assert body[wanted.get(answering.name, "max_output_tokens")] == 16


def test_a_built_in_tool_skips_the_targets_that_cannot_run_it(
    openai_native: FakeProvider, chat_only: FakeProvider
) -> None:
    chat = Target("chat", "chat-model", base_url=chat_only.base_url, api_key=SECRET)
    with Failover([chat, _native(openai_native)], policy=POLICY) as client:
        report = client.responses.with_report.create(
            input="What happened today?", tools=[{"type": "web_search"}]
        )
    assert report.target == "openai/gpt-5.4-mini" and not chat_only.requests
    skipped = report.attempts[0]
    assert skipped.target == "chat/chat-model" and skipped.outcome.value == "skipped"
    assert "web_search" in skipped.detail
    assert _last_body(openai_native)["tools"] == [{"type": "web_search"}]
    with Failover([chat], policy=POLICY) as client, pytest.raises(UnsupportedParameter) as raised:
        client.responses.create(input="Hi", tools=[{"type": "web_search"}])
    assert "web_search" in str(raised.value) and raised.value.attempts


def test_model_and_a_missing_input_are_refused_before_any_request(
    openai_native: FakeProvider,
) -> None:
    with Failover([_native(openai_native)], policy=POLICY) as client:
        with pytest.raises(UnsupportedParameter, match="'model'"):
            client.responses.create(model="gpt-5.4", input="Hi")
        with pytest.raises(UnsupportedParameter, match="'input'"):
            client.responses.create(instructions="Hi")
        with pytest.raises(UnsupportedParameter, match="attempts"):
            client.responses.with_report.create(input="Hi", stream=True)
    assert not openai_native.requests


def test_async_falls_over_to_anthropic(openai_native: FakeProvider, claude: FakeProvider) -> None:
    chain, _, _ = _chains(openai_native, claude, claude)["to-anthropic"]
    openai_native.set_mode(Fault.status(503))

    async def run() -> Response:
        async with AsyncFailover(chain, policy=POLICY) as client:
            report = await client.responses.with_report.create(input="Hello")
            assert report.target == "anthropic/claude-sonnet-5-5"
            return report.response

    answer = _valid(asyncio.run(run()))
    assert answer.output_text == "claude answer" and answer.model == "claude-sonnet-5-5"
    assert SECRET not in str(answer.model_dump())


def test_azure_openai_answers_natively_through_its_own_client() -> None:
    """``azure/<deployment>`` from the environment reaches Azure's Responses route
    through ``openai.AzureOpenAI`` (the deployment is the model)."""
    with FakeProvider("azure", reply="azure answer", deployment="gpt-54-east") as azure:
        env = {
            "FAILOVER_CHAIN": "azure/gpt-54-east",
            "AZURE_OPENAI_API_KEY": SECRET,
            "AZURE_OPENAI_ENDPOINT": azure.base_url,
            "OPENAI_API_VERSION": "2025-04-01-preview",
        }
        with Failover.from_env(env) as client:
            answer = _valid(client.responses.create(input="Hello"))
        assert answer.output_text == "azure answer"
        sent = azure.requests[-1]
        assert sent.path == "/openai/responses" and "api-version=" in sent.query
        assert _last_body(azure)["model"] == "gpt-54-east"


@pytest.mark.parametrize(
    ("spec", "setting", "native"),
    [
        ("openai/gpt-5.4-mini", None, True),
        ("groq/llama-4", None, False),
        ("groq/llama-4", "native", True),
        ("openai/gpt-5.4-mini", "chat", False),
        ("anthropic/claude-haiku-5-5", None, False),
    ],
)
def test_which_targets_take_responses_natively(
    spec: str, setting: str | None, native: bool
) -> None:
    from failover._config.env import resolve_target

    name = spec.partition("/")[0].upper()
    env = {"OPENAI_API_KEY": "k", "GROQ_API_KEY": "k", "ANTHROPIC_API_KEY": "k"}
    if setting is not None:
        env[f"FAILOVER_PROVIDER_{name}_RESPONSES"] = setting
    assert resolve_target(spec, env).native_responses is native


def test_a_bad_responses_setting_is_named() -> None:
    from failover import ConfigError
    from failover._config.env import resolve_target

    env = {"ANTHROPIC_API_KEY": "k", "FAILOVER_PROVIDER_ANTHROPIC_RESPONSES": "native"}
    with pytest.raises(ConfigError, match="FAILOVER_PROVIDER_ANTHROPIC_RESPONSES"):
        resolve_target("anthropic/claude-haiku-5-5", env)
    env = {"OPENAI_API_KEY": "k", "FAILOVER_PROVIDER_OPENAI_RESPONSES": "sometimes"}
    with pytest.raises(ConfigError, match=r"FAILOVER_PROVIDER_OPENAI_RESPONSES.*native or chat"):
        resolve_target("openai/gpt-5.4-mini", env)
    with pytest.raises(ConfigError, match="responses"):
        Target("anthropic", "claude-haiku-5-5", api="anthropic", responses="native")


def test_doctor_says_how_responses_reach_each_target() -> None:
    import io
    import json

    from failover._cli.doctor import run_doctor

    env = {
        "FAILOVER_CHAIN": "openai/gpt-5.4-mini,groq/llama-4,anthropic/claude-haiku-5-5",
        "OPENAI_API_KEY": SECRET,
        "GROQ_API_KEY": SECRET,
        "ANTHROPIC_API_KEY": SECRET,
        "FAILOVER_PROVIDER_GROQ_RESPONSES": "native",
    }
    out = io.StringIO()
    assert run_doctor(env, offline=True, out=out) == 0
    assert (
        "client.responses: openai/gpt-5.4-mini native; groq/llama-4 native; "
        "anthropic/claude-haiku-5-5 converted to chat"
    ) in out.getvalue()
    out = io.StringIO()
    run_doctor(env, offline=True, as_json=True, out=out)
    rows = json.loads(out.getvalue())["targets"]
    assert [r["responses"] for r in rows] == ["native", "native", "converted to chat"]
    assert SECRET not in out.getvalue()
