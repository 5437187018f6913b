"""The fakes' Responses API (``POST /v1/responses``), through the real openai SDK over HTTP:
answers, both stream flavours, event order, faults, and Azure's routes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx2
import openai
import pytest
from openai.types.responses import Response, ResponseStreamEvent
from pydantic import TypeAdapter

from failover.testing import FakeProvider, Fault, Reply, ToolCall, check_event_order

TEXT = "Hello from the fake Responses API."
CALLS = [ToolCall("get_weather", {"city": "Paris"}, id="call_1"), ToolCall("f")]
EVENT: TypeAdapter[Any] = TypeAdapter(ResponseStreamEvent)
KEY = "azure-key-0123456789abcdef"
Raw = list[tuple[str | None, str]]


@pytest.fixture(params=["openai", "open"])
def flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def fake(flavour: Any) -> Iterator[FakeProvider]:
    with FakeProvider("openai", reply=TEXT, responses=flavour) as provider:
        yield provider


def _client(fake: FakeProvider) -> openai.OpenAI:
    return openai.OpenAI(base_url=fake.base_url, api_key="k", max_retries=0, timeout=5)


def _stream(client: openai.OpenAI) -> list[Any]:
    return list(client.responses.create(model="gpt-fake", input="Say hello", stream=True))


def _raw(url: str, **body: Any) -> tuple[int, str]:
    request = {"model": "gpt-fake", "input": "Say hello", "stream": True, **body}
    with httpx2.Client(timeout=5.0) as http:
        response = http.post(url, json={k: v for k, v in request.items() if v is not None})
    return response.status_code, response.text


def _sse(text: str) -> Raw:
    """``(event name, data)`` of each server-sent event."""
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields.get("event"), fields["data"]))
    return events


def _parsed(raw: Raw) -> list[dict[str, Any]]:
    return [json.loads(data) for _, data in raw if data != "[DONE]"]


# -- non-streamed answers ----------------------------------------------------------------------


def test_create_returns_a_response_with_the_text_and_usage(fake: FakeProvider) -> None:
    with _client(fake) as client:
        raw = client.responses.with_raw_response.create(
            model="gpt-fake", input="one two three", instructions="be brief"
        )
    Response.model_validate(raw.http_response.json())  # every required field is there
    answer = raw.parse()
    assert answer.output_text == TEXT and answer.status == "completed"
    assert answer.id.startswith("resp_fake") and answer.model == "gpt-fake"
    assert answer.instructions == "be brief" and answer.output[0].type == "message"
    assert answer.output[0].id.startswith("msg_") and answer.usage is not None
    chunks = Reply(TEXT).chunk_count()
    assert answer.usage.input_tokens == 5  # the words of input and instructions
    assert (answer.usage.output_tokens, answer.usage.total_tokens) == (chunks, 5 + chunks)


def test_input_items_count_as_prompt_tokens(fake: FakeProvider) -> None:
    items: Any = [
        {"role": "user", "content": "one two"},
        {"role": "user", "content": [{"type": "input_text", "text": "three four five"}]},
    ]
    with _client(fake) as client:
        answer = client.responses.create(model="gpt-fake", input=items)
    assert answer.usage is not None and answer.usage.input_tokens == 5


def test_tool_calls_come_back_as_function_call_items(fake: FakeProvider) -> None:
    fake.set_reply(Reply("", tool_calls=CALLS))
    with _client(fake) as client:
        answer = client.responses.create(model="gpt-fake", input="weather?")
    calls = [item for item in answer.output if item.type == "function_call"]
    assert [c.name for c in calls] == ["get_weather", "f"] and len(answer.output) == 2
    assert calls[0].call_id == "call_1" and calls[1].call_id.startswith("call_")
    assert json.loads(calls[0].arguments) == {"city": "Paris"} and calls[1].arguments == "{}"
    assert all(c.id and c.id.startswith("fc_") and c.status == "completed" for c in calls)


@pytest.mark.parametrize(
    ("finish", "reason"),
    [
        ("length", "max_output_tokens"),
        ("max_tokens", "max_output_tokens"),
        ("refusal", "content_filter"),
    ],
)
def test_a_cut_short_answer_is_incomplete(fake: FakeProvider, finish: str, reason: str) -> None:
    fake.set_reply(Reply("cut short", finish_reason=finish))
    with _client(fake) as client:
        answer = client.responses.create(model="gpt-fake", input="x")
        events = _stream(client)
    assert answer.status == "incomplete" and answer.incomplete_details is not None
    message = answer.output[0]
    assert message.type == "message" and message.status == "incomplete"
    assert answer.incomplete_details.reason == reason
    assert events[-1].type == "response.incomplete"  # as OpenAI ends such a stream
    check_event_order(events)


def test_requests_missing_input_or_model_get_openais_400(fake: FakeProvider) -> None:
    for missing in ("input", "model"):
        status, text = _raw(fake.url + "/v1/responses", stream=None, **{missing: None})
        error = json.loads(text)["error"]
        assert status == 400 and error["param"] == missing
        assert error["message"] == f"Missing required parameter: '{missing}'."


# -- streams -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply", [Reply(TEXT), Reply("", tool_calls=CALLS), Reply("Hi", tool_calls=CALLS)]
)
def test_stream_events_are_valid_and_in_the_specs_order(
    fake: FakeProvider, flavour: str, reply: Reply
) -> None:
    fake.set_reply(reply)
    raw = _sse(_raw(fake.url + "/v1/responses")[1])
    events = _parsed(raw)
    for (name, _), event in zip(raw, events, strict=False):
        EVENT.validate_python(event)  # each one is a member of openai's union
        assert name == event["type"]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    check_event_order(events)
    assert sum(e["type"].endswith(".delta") for e in events) == reply.chunk_count()
    assert events[-1]["type"] == "response.completed"
    assert [data for _, data in raw].count("[DONE]") == (flavour == "open")
    assert (raw[-1][1] == "[DONE]") == (flavour == "open")


def test_the_sdk_stream_gives_the_text_and_a_completed_response(fake: FakeProvider) -> None:
    with _client(fake) as client:
        events = _stream(client)
    check_event_order(events)
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == TEXT
    last = events[-1]
    assert last.type == "response.completed" and last.response.output_text == TEXT
    assert last.response.usage is not None and last.response.usage.output_tokens > 0


def test_the_stream_helper_builds_the_final_response(fake: FakeProvider) -> None:
    fake.set_reply(Reply(TEXT, tool_calls=[ToolCall("get_weather", {"city": "Oslo"})]))
    with _client(fake) as client, client.responses.stream(model="gpt-fake", input="x") as stream:
        seen = list(stream)
        final = stream.get_final_response()
    check_event_order(seen)
    assert final.output_text == TEXT and final.status == "completed"
    call = final.output[1]
    assert call.type == "function_call" and json.loads(call.arguments) == {"city": "Oslo"}


def test_async_streams_work_too(fake: FakeProvider) -> None:
    async def final_text() -> str:
        client = openai.AsyncOpenAI(base_url=fake.base_url, api_key="k", max_retries=0)
        async with client, client.responses.stream(model="gpt-fake", input="x") as stream:
            return (await stream.get_final_response()).output_text

    assert asyncio.run(final_text()) == TEXT


def test_an_empty_answer_completes_with_no_output(fake: FakeProvider) -> None:
    fake.enqueue(Fault.empty_choices(), Fault.empty_choices())
    with _client(fake) as client:
        answer = client.responses.create(model="gpt-fake", input="x")
        events = _stream(client)
    assert answer.output == [] and answer.status == "completed"
    check_event_order(events)
    assert events[-1].response.output == []


# -- in-band errors ----------------------------------------------------------------------------


def test_openais_inband_error_is_flat_and_ends_the_stream() -> None:
    with FakeProvider("openai", reply=TEXT) as fake, _client(fake) as client:
        fake.enqueue(Fault.inband_error(after_chunks=2), Fault.inband_error(after_chunks=2))
        events = _stream(client)  # the SDK yields a flat error event: it has no `error` key
        helper = client.responses.stream(model="gpt-fake", input="x")
        with helper as stream, pytest.raises(RuntimeError, match=r"response\.completed"):
            stream.get_final_response()
    error = events[-1]
    EVENT.validate_python(error.model_dump())
    assert error.type == "error" and error.code == "server_error" and error.message
    assert sum(e.type == "response.output_text.delta" for e in events) == 2
    assert [e.sequence_number for e in events] == list(range(len(events)))
    check_event_order(events)


def test_open_responses_inband_error_is_nested_then_failed() -> None:
    with FakeProvider("openai", reply=TEXT, responses="open") as fake:
        fake.enqueue(Fault.inband_error(after_chunks=2), Fault.inband_error(after_chunks=2))
        with _client(fake) as client, pytest.raises(openai.APIError, match="server had an error"):
            _stream(client)  # the nested `error` object makes the SDK raise
        raw = _sse(_raw(fake.url + "/v1/responses")[1])
    assert [name for name, _ in raw[-3:]] == ["error", "response.failed", None]
    assert raw[-1][1] == "[DONE]"
    events = _parsed(raw)
    error, failed = events[-2:]
    assert error["error"]["type"] == "server_error" and error["error"]["message"]
    assert failed["response"]["status"] == "failed" and failed["response"]["error"]["code"]
    EVENT.validate_python(failed)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    check_event_order(events)


# -- faults ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.status(503), openai.InternalServerError),
        (Fault.rate_limit(), openai.RateLimitError),
        (Fault.context_length(), openai.BadRequestError),
        (Fault.html(502), openai.InternalServerError),
    ],
)
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_error_faults_raise_the_sdks_errors(
    fake: FakeProvider, fault: Fault, error: type[openai.APIStatusError], stream: bool
) -> None:
    fake.enqueue(fault)
    with _client(fake) as client, pytest.raises(error) as info:
        _stream(client) if stream else client.responses.create(model="gpt-fake", input="x")
    if fault.kind == "context_length":
        assert info.value.code == "context_length_exceeded" and info.value.param == "input"


def test_broken_streams_break_the_sdk_stream(fake: FakeProvider) -> None:
    fake.enqueue(Fault.cut(after_chunks=2), Fault.no_terminator(after_chunks=2), Fault.reset())
    with _client(fake) as client:
        seen: list[Any] = []
        with pytest.raises(openai.APIConnectionError):
            seen.extend(client.responses.create(model="gpt-fake", input="x", stream=True))
        check_event_order(seen, complete=False)
        assert sum(e.type == "response.output_text.delta" for e in seen) == 2
        unfinished = _stream(client)  # ends cleanly, without response.completed
        with pytest.raises(AssertionError, match="ended without"):
            check_event_order(unfinished)
        with pytest.raises(openai.APIConnectionError):
            client.responses.create(model="gpt-fake", input="x")


def test_stalls_time_the_sdk_out(fake: FakeProvider) -> None:
    fake.enqueue(Fault.hang(2.0), Fault.drip(2.0))
    client = openai.OpenAI(base_url=fake.base_url, api_key="k", max_retries=0, timeout=0.3)
    with client:
        with pytest.raises(openai.APITimeoutError):
            client.responses.create(model="gpt-fake", input="x")
        with pytest.raises(openai.APITimeoutError):
            _stream(client)


def test_a_partial_answer_is_incomplete(fake: FakeProvider) -> None:
    fake.enqueue(Fault.no_terminator(after_chunks=1))
    with _client(fake) as client:
        answer = client.responses.create(model="gpt-fake", input="x")
    assert answer.status == "incomplete" and answer.output_text == TEXT[:8]


def test_a_chat_only_server_has_no_responses_route() -> None:
    with FakeProvider("openai", responses="none") as fake, _client(fake) as client:
        with pytest.raises(openai.NotFoundError, match="Invalid URL"):
            client.responses.create(model="gpt-fake", input="x")
        assert client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}]
        )
    with pytest.raises(ValueError, match="responses must be"):
        FakeProvider("openai", responses="both")  # type: ignore[arg-type]


def test_anthropic_fakes_do_not_serve_it() -> None:
    with FakeProvider("anthropic") as fake:
        status, _ = _raw(fake.url + "/v1/responses")
    assert status == 404


# -- Azure -------------------------------------------------------------------------------------


@pytest.fixture
def azure() -> Iterator[FakeProvider]:
    with FakeProvider("azure", deployment="gpt-4o-eu", reply=TEXT) as fake:
        yield fake


def test_azure_serves_it_on_its_v1_route(azure: FakeProvider) -> None:
    with openai.OpenAI(base_url=azure.url + "/openai/v1", api_key=KEY, max_retries=0) as client:
        assert client.responses.create(model="gpt-4o-eu", input="x").output_text == TEXT
        with client.responses.stream(model="gpt-4o-eu", input="x") as stream:
            assert stream.get_final_response().output_text == TEXT
        with pytest.raises(openai.NotFoundError) as missing:
            client.responses.create(model="gpt-4o-us", input="x")
        assert missing.value.code == "DeploymentNotFound"
        azure.enqueue(Fault.status(503))
        with pytest.raises(openai.InternalServerError) as failed:
            client.responses.create(model="gpt-4o-eu", input="x")
        assert failed.value.code == "ServiceUnavailable"  # Azure's error body
    assert azure.requests[0].path == "/openai/v1/responses"
    status, text = _raw(azure.url + "/openai/v1/responses", model="gpt-4o-eu")  # no key
    assert status == 401 and "subscription key" in text


def test_azure_openai_client_reaches_the_versioned_route(azure: FakeProvider) -> None:
    client = openai.AzureOpenAI(
        azure_endpoint=azure.url, api_key=KEY, api_version="2025-04-01-preview", max_retries=0
    )
    with client:
        assert client.responses.create(model="gpt-4o-eu", input="x").output_text == TEXT
    assert azure.requests[-1].path == "/openai/responses"
    assert azure.requests[-1].query == "api-version=2025-04-01-preview"


# -- the order checker itself ------------------------------------------------------------------


def _events(*kinds: str, **fields: Any) -> list[dict[str, Any]]:
    where = {"output_index": 0, "item_id": "m", "content_index": 0}
    return [{"type": kind, "sequence_number": i, **where, **fields} for i, kind in enumerate(kinds)]


@pytest.mark.parametrize(
    ("events", "problem"),
    [
        ([], "is empty"),
        (_events("response.in_progress"), "must start with response.created"),
        (
            _events("response.created", "response.output_text.delta", delta="x"),
            "outside any output_item",
        ),
        (
            [*_events("response.created"), {"type": "response.completed", "sequence_number": 0}],
            "not above the previous 0",
        ),
        (
            _events(
                "response.created",
                "response.output_item.added",
                "response.output_text.delta",
                item={"id": "m", "type": "message"},
                delta="x",
            ),
            "before its content_part.added",
        ),
        (
            _events(
                "response.created",
                "response.output_item.added",
                "response.output_item.added",
                item={"id": "m", "type": "message"},
            ),
            "still open",
        ),
    ],
)
def test_the_checker_names_what_is_out_of_order(events: list[Any], problem: str) -> None:
    with pytest.raises(AssertionError, match=problem):
        check_event_order(events)
