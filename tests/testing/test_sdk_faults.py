"""Every fault through both real SDKs: sync and async, JSON and stream.

These tests double as documentation of vendor SDK behaviour (openai 3.54, anthropic 2.12):
each states what the SDK raises, or returns, when a provider misbehaves that way. The
``caller`` fixture runs each test in all eight (vendor x sync/async x JSON/stream) modes.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

import anthropic
import httpx2
import openai
import pytest

from failover.testing import FakeProvider, Fault, Reply, ToolCall, closed_port_url
from failover.testing._reply import DEFAULT_TEXT

from ._sdk import PROMPT, Api, Caller, Flavor, Outcome, sdk

T = TypeVar("T")

FIRST_CHUNK = DEFAULT_TEXT[:8]  # chunk_size is 8 characters
FIRST_TWO_CHUNKS = DEFAULT_TEXT[:16]
PROMPT_WORDS = len(PROMPT.split())
DEFAULT_CHUNKS = 4  # "Hello from the fake provider." in 8-character chunks


def native(caller: Caller, openai_value: T, anthropic_value: T) -> T:
    """The expectation for the caller's vendor."""
    return openai_value if caller.api == "openai" else anthropic_value


# -- healthy answers ---------------------------------------------------------------------------


def test_healthy_answer_echoes_the_model_with_deterministic_usage(caller: Caller) -> None:
    out = caller.run(model="my-model-7").ok()
    assert out.text == DEFAULT_TEXT
    assert out.model == "my-model-7"
    assert out.finish_reason == native(caller, "stop", "end_turn")
    if caller.api == "anthropic" or not caller.stream:  # OpenAI streams usage only on request
        assert out.usage == (PROMPT_WORDS, DEFAULT_CHUNKS)


def test_streams_arrive_in_chunks_of_chunk_size(caller: Caller, fake: FakeProvider) -> None:
    fake.set_reply(Reply("abcdefghij", chunk_size=3))
    out = caller.run().ok()
    assert out.text == "abcdefghij"
    if caller.stream:  # openai: role + 4 + finish; anthropic: start, block start, 4, stop x3
        assert out.chunks == native(caller, 6, 9)  # the SDK hides anthropic's ping


@pytest.mark.parametrize("flavor", ["sync", "async"])
def test_openai_include_usage_adds_a_final_usage_chunk(flavor: Flavor) -> None:
    with FakeProvider("openai") as fake:
        out = Caller("openai", flavor, True, fake.base_url).run(include_usage=True).ok()
    assert out.usage == (PROMPT_WORDS, DEFAULT_CHUNKS)
    assert out.finish_reason == "stop"


def test_tool_calls_reassemble_to_the_scripted_json(caller: Caller, fake: FakeProvider) -> None:
    weather = ToolCall("get_weather", {"city": "Paris", "units": ["celsius", "kelvin"]})
    clock = ToolCall("get_time", {"tz": "Europe/Paris"}, id="call_fixed")
    fake.set_reply(Reply("Let me check.", tool_calls=[weather, clock], chunk_size=5))
    out = caller.run().ok()
    assert out.text == "Let me check."
    assert out.finish_reason == native(caller, "tool_calls", "tool_use")
    assert [(t.name, t.parsed()) for t in out.tools.values()] == [
        ("get_weather", {"city": "Paris", "units": ["celsius", "kelvin"]}),
        ("get_time", {"tz": "Europe/Paris"}),
    ]
    assert out.tools[1].id == "call_fixed"
    assert out.tools[0].id and out.tools[0].id != out.tools[1].id


@pytest.mark.parametrize(
    ("scripted", "openai_reason", "anthropic_reason"),
    [
        ("length", "length", "max_tokens"),
        ("max_tokens", "length", "max_tokens"),
        ("content_filter", "content_filter", "refusal"),
        ("stop_sequence", "stop_sequence", "stop_sequence"),
    ],
)
def test_finish_reasons_use_each_vendors_names(
    fake: FakeProvider, api: str, scripted: str, openai_reason: str, anthropic_reason: str
) -> None:
    fake.set_reply(Reply("cut short", finish_reason=scripted))
    for stream in (False, True):
        out = Caller(fake.api, "sync", stream, fake.base_url).run().ok()
        assert out.finish_reason == (openai_reason if api == "openai" else anthropic_reason)


def test_sdk_stream_helpers_accumulate_the_answer(fake: FakeProvider) -> None:
    """The SDKs' own stream helpers (which validate event order) accept the fake's streams."""
    fake.set_reply(Reply("Sure.", tool_calls=[ToolCall("lookup", {"q": "fake"})]))
    messages: Any = [{"role": "user", "content": PROMPT}]
    with httpx2.Client() as http:
        if fake.api == "openai":
            oai = openai.OpenAI(
                api_key="k", base_url=fake.base_url, max_retries=0, http_client=http
            )
            with oai.chat.completions.stream(model="m", messages=messages) as chunks:
                completion = chunks.get_final_completion()
            calls: Any = completion.choices[0].message.tool_calls
            assert json.loads(calls[0].function.arguments) == {"q": "fake"}
        else:
            ant = anthropic.Anthropic(
                api_key="k", base_url=fake.base_url, max_retries=0, http_client=http
            )
            with ant.messages.stream(model="m", max_tokens=9, messages=messages) as events:
                message = events.get_final_message()
            block: Any = message.content[1]
            assert (block.input, message.stop_reason) == ({"q": "fake"}, "tool_use")


# -- HTTP status errors ------------------------------------------------------------------------

STATUS_CASES = [
    # status, openai class, anthropic class, anthropic error type
    (400, "BadRequestError", "BadRequestError", "invalid_request_error"),
    (401, "AuthenticationError", "AuthenticationError", "authentication_error"),
    (402, "APIStatusError", "PaymentRequiredError", "billing_error"),
    (403, "PermissionDeniedError", "PermissionDeniedError", "permission_error"),
    (404, "NotFoundError", "NotFoundError", "not_found_error"),
    (409, "ConflictError", "ConflictError", "invalid_request_error"),
    (413, "APIStatusError", "ContentTooLargeError", "request_too_large"),
    (422, "UnprocessableEntityError", "UnprocessableEntityError", "invalid_request_error"),
    (429, "RateLimitError", "RateLimitError", "rate_limit_error"),
    (500, "InternalServerError", "InternalServerError", "api_error"),
    (502, "InternalServerError", "InternalServerError", "api_error"),
    (503, "InternalServerError", "ServiceUnavailableError", "api_error"),
    (504, "InternalServerError", "GatewayTimeoutError", "timeout_error"),
    (529, "InternalServerError", "OverloadedError", "overloaded_error"),
]


@pytest.mark.parametrize(
    ("status", "openai_class", "anthropic_class", "anthropic_type"), STATUS_CASES
)
def test_each_status_maps_to_the_sdks_error_class(
    fake: FakeProvider, status: int, openai_class: str, anthropic_class: str, anthropic_type: str
) -> None:
    fake.enqueue(Fault.status(status))
    error = Caller(fake.api, "sync", False, fake.base_url).run().raised(sdk(fake.api).APIError)
    name = openai_class if fake.api == "openai" else anthropic_class
    assert type(error) is getattr(sdk(fake.api), name)
    assert error.status_code == status
    if fake.api == "anthropic":
        assert error.type == anthropic_type
    elif status >= 500:
        assert error.type == "server_error"


def test_status_error_carries_retry_hints_and_headers(caller: Caller, fake: FakeProvider) -> None:
    fake.enqueue(
        Fault.status(
            503,
            retry_after=7,
            retry_after_ms=1500,
            should_retry=False,
            headers={"X-Custom": "yes"},
            message="down for maintenance",
        )
    )
    error = caller.run().raised(sdk(caller.api).InternalServerError)
    assert error.status_code == 503
    assert "down for maintenance" in str(error)
    headers = error.response.headers
    assert (headers["retry-after"], headers["retry-after-ms"]) == ("7", "1500")
    assert (headers["x-should-retry"], headers["x-custom"]) == ("false", "yes")
    assert error.request_id == "req_fake000001"


def test_retry_after_can_be_an_http_date(caller: Caller, fake: FakeProvider) -> None:
    date = "Wed, 21 Oct 2015 07:28:00 GMT"
    fake.enqueue(Fault.rate_limit(retry_after=date))
    error = caller.run().raised(sdk(caller.api).RateLimitError)
    assert error.response.headers["retry-after"] == date


def test_error_code_goes_where_each_sdk_reads_it(caller: Caller, fake: FakeProvider) -> None:
    fake.enqueue(Fault.status(400, error_code="my_code", error_type="my_type"))
    error = caller.run().raised(sdk(caller.api).BadRequestError)
    assert error.type == "my_type"
    if caller.api == "openai":
        assert error.code == "my_code"  # error.code
    else:
        assert error.error_code == "my_code"  # error.details.error_code


# -- vendor-specific errors ------------------------------------------------------------------


def test_rate_limit(caller: Caller, fake: FakeProvider) -> None:
    fake.enqueue(Fault.rate_limit(retry_after=2))
    error = caller.run().raised(sdk(caller.api).RateLimitError)
    assert error.response.headers["retry-after"] == "2"
    if caller.api == "openai":
        assert error.code == "rate_limit_exceeded"
    else:
        assert error.type == "rate_limit_error"


def test_quota_is_a_429_that_names_the_cause(caller: Caller, fake: FakeProvider) -> None:
    fake.enqueue(Fault.quota())
    out = caller.run()
    if caller.api == "openai":
        error = out.raised(openai.RateLimitError)
        assert (error.code, error.type) == ("insufficient_quota", "insufficient_quota")
    else:
        spent = out.raised(anthropic.EnforcedSpendLimitReachedError)  # a RateLimitError subclass
        assert (spent.status_code, spent.type) == (429, "rate_limit_error")
        assert spent.error_code == "enforced_spend_limit_reached"


def test_context_length(caller: Caller, fake: FakeProvider) -> None:
    fake.enqueue(Fault.context_length())
    error = caller.run().raised(sdk(caller.api).BadRequestError)
    if caller.api == "openai":
        assert error.code == "context_length_exceeded"
    else:  # no code: only the message tells
        assert error.type == "invalid_request_error"
        assert error.api_message == "prompt is too long: 210000 tokens > 200000 maximum"


def test_content_filter(caller: Caller, fake: FakeProvider) -> None:
    fake.enqueue(Fault.content_filter())
    out = caller.run()
    if caller.api == "openai":
        assert out.raised(openai.BadRequestError).code == "content_filter"
    else:  # Anthropic refuses inside a normal answer
        assert (out.ok().text, out.finish_reason) == ("", "refusal")


def test_overloaded(caller: Caller, fake: FakeProvider) -> None:
    fake.enqueue(Fault.overloaded())
    out = caller.run()
    if caller.api == "openai":
        error = out.raised(openai.InternalServerError)
        assert (error.status_code, error.type) == (503, "server_error")
    else:
        overloaded = out.raised(anthropic.OverloadedError)  # an InternalServerError subclass
        assert (overloaded.status_code, overloaded.type) == (529, "overloaded_error")


@pytest.mark.parametrize("status", [502, 503])
def test_html_error_page_from_a_proxy(caller: Caller, fake: FakeProvider, status: int) -> None:
    fake.enqueue(Fault.html(status))
    error = caller.run().raised(sdk(caller.api).InternalServerError)
    assert error.status_code == status
    assert error.response.headers["content-type"].startswith("text/html")
    assert isinstance(error.body, str) and f"<h1>{status} " in error.body


# -- timing --------------------------------------------------------------------------------


def test_hang_before_headers_times_out(caller: Caller, fake: FakeProvider) -> None:
    fake.enqueue(Fault.hang())
    out = caller.run(timeout=0.3)
    out.raised(sdk(caller.api).APITimeoutError)
    assert out.elapsed >= 0.25


def test_slow_first_byte_then_a_normal_answer(caller: Caller, fake: FakeProvider) -> None:
    fake.enqueue(Fault.slow_first_byte(0.2))
    out = caller.run().ok()
    assert out.text == DEFAULT_TEXT
    assert out.elapsed >= 0.15


def test_drip_is_slow_but_whole(caller: Caller, fake: FakeProvider) -> None:
    fake.enqueue(Fault.drip(0.04))
    out = caller.run().ok()
    assert out.text == DEFAULT_TEXT
    assert out.elapsed >= 0.03 * (DEFAULT_CHUNKS if caller.stream else 1)


def test_drip_slower_than_the_read_timeout(caller: Caller, fake: FakeProvider) -> None:
    """A stall after content has arrived: anthropic streams let the raw httpx2 error escape."""
    fake.enqueue(Fault.drip(1.0))
    out = caller.run(timeout=0.3)
    if caller.api == "anthropic" and caller.stream:
        out.raised(httpx2.ReadTimeout)
    else:
        out.raised(sdk(caller.api).APITimeoutError)
    assert out.text == (FIRST_CHUNK if caller.stream else "")


@pytest.mark.parametrize("api", ["openai", "anthropic"])
@pytest.mark.parametrize("flavor", ["sync", "async"])
def test_trickle_outlives_the_read_timeout_but_arrives_whole(api: Api, flavor: Flavor) -> None:
    """Each byte resets the SDK's read timeout: a 0.1 s timeout does not end a body that
    takes far longer. Only a wall-clock bound (failover's) cuts such an answer."""
    with FakeProvider(api, reply=Reply("Hi")) as fake:
        fake.enqueue(Fault.trickle(0.002))
        out = Caller(api, flavor, False, fake.base_url).run(timeout=0.1).ok()
    assert out.text == "Hi"
    assert out.elapsed > 0.2


# -- broken answers ----------------------------------------------------------------------------


def test_cut_connection(caller: Caller, fake: FakeProvider) -> None:
    fake.enqueue(Fault.cut(after_chunks=2))
    out = caller.run()
    if caller.api == "anthropic" and caller.stream:
        out.raised(httpx2.RemoteProtocolError)  # not wrapped in an SDK error
    else:
        out.raised(sdk(caller.api).APIConnectionError)
    assert out.text == (FIRST_TWO_CHUNKS if caller.stream else "")


def test_no_terminator_just_ends(caller: Caller, fake: FakeProvider) -> None:
    """No [DONE]/message_stop and no finish reason: neither SDK notices anything."""
    fake.enqueue(Fault.no_terminator(after_chunks=2))
    out = caller.run().ok()
    assert (out.text, out.finish_reason) == (FIRST_TWO_CHUNKS, None)


def test_inband_error(caller: Caller, fake: FakeProvider) -> None:
    fake.enqueue(Fault.inband_error(after_chunks=2))
    out = caller.run()
    if not caller.stream:  # the same error, as a status
        error = out.raised(sdk(caller.api).InternalServerError)
        assert error.status_code == native(caller, 500, 529)
        return
    assert out.text == FIRST_TWO_CHUNKS
    if caller.api == "openai":
        assert type(out.error) is openai.APIError  # no status code at all
    else:
        error = out.raised(anthropic.APIStatusError)
        assert (error.status_code, error.type) == (200, "overloaded_error")


def test_malformed_json_escapes_as_a_raw_decode_error(caller: Caller, fake: FakeProvider) -> None:
    fake.enqueue(Fault.malformed_json())
    out = caller.run()
    out.raised(json.JSONDecodeError)  # neither SDK wraps it
    assert out.text == (FIRST_CHUNK if caller.stream else "")


def test_empty_choices(caller: Caller, fake: FakeProvider) -> None:
    fake.enqueue(Fault.empty_choices())
    out = caller.run().ok()
    assert out.text == ""
    assert out.finish_reason == native(caller, None, "end_turn")


def test_connection_reset(caller: Caller, fake: FakeProvider) -> None:
    fake.enqueue(Fault.reset())
    caller.run().raised(sdk(caller.api).APIConnectionError)


def test_closed_port_is_a_connection_error(caller: Caller) -> None:
    closed = Caller(caller.api, caller.flavor, caller.stream, closed_port_url(caller.family))
    out = closed.run()
    error = out.raised(sdk(caller.api).APIConnectionError)
    assert not isinstance(error, sdk(caller.api).APITimeoutError)


def test_the_fault_log_matches_what_was_served(caller: Caller, fake: FakeProvider) -> None:
    fake.enqueue(Fault.overloaded())
    outcomes: list[Outcome] = [caller.run(), caller.run()]
    assert outcomes[0].error is not None and outcomes[1].error is None
    assert [r.fault for r in fake.requests] == [Fault.overloaded(), None]
    assert [r.stream for r in fake.requests] == [caller.stream, caller.stream]
