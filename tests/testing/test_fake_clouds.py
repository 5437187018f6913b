"""Claude on the clouds: ``FakeProvider("bedrock")`` and ``FakeProvider("vertex")`` through
the anthropic SDK's own ``AnthropicBedrock`` and ``AnthropicVertex`` clients (sync and
async, JSON and streams) over real HTTP: routes, model ids, event-stream frames as
botocore decodes them, and each cloud's errors as the SDK raises them."""

from __future__ import annotations

import argparse
import base64
import json
import time
from collections.abc import Iterator

import anthropic
import httpx2
import pytest

from failover.testing import FakeProvider, Fault, closed_port_url
from failover.testing._cli import add_fake_server_parser

from ._clouds import (
    ARN,
    BEDROCK_MODEL,
    CORAL,
    FIRST_CHUNK,
    MESSAGES,
    TOOL_REPLY,
    VERTEX_MODEL,
    Cloud,
    ask,
    ask_async,
    check_text,
    check_tool_call,
    client,
    frames,
    model_for,
    post_bedrock,
    stream_until_error,
)


@pytest.fixture(params=["bedrock", "vertex"])
def cloud(request: pytest.FixtureRequest) -> Cloud:
    value: Cloud = request.param
    return value


@pytest.fixture
def fake(cloud: Cloud) -> Iterator[FakeProvider]:
    with FakeProvider(cloud) as provider:
        yield provider


@pytest.fixture
def bedrock() -> Iterator[FakeProvider]:
    with FakeProvider("bedrock") as provider:
        yield provider


@pytest.fixture
def vertex() -> Iterator[FakeProvider]:
    with FakeProvider("vertex") as provider:
        yield provider


@pytest.fixture
def http() -> Iterator[httpx2.Client]:
    with httpx2.Client(timeout=5.0) as raw:
        yield raw


# -- healthy answers ---------------------------------------------------------------------------


def test_base_urls_are_what_the_cloud_clients_expect() -> None:
    with FakeProvider("bedrock") as bedrock, FakeProvider("vertex") as vertex:
        assert (bedrock.api, bedrock.base_url) == ("bedrock", bedrock.url)
        assert (vertex.api, vertex.base_url) == ("vertex", f"{vertex.url}/v1")
        assert repr(bedrock) == f"FakeProvider('bedrock', name='fake-bedrock', {bedrock.url})"
    assert closed_port_url("vertex").endswith("/v1") and closed_port_url("bedrock")[-4:] != "/v1"


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_answers(fake: FakeProvider, cloud: Cloud, stream: bool) -> None:
    check_text(ask(fake, stream=stream, model=model_for(cloud)), model_for(cloud))
    assert fake.requests[0].stream is stream and fake.requests[0].fault is None
    fake.set_reply(TOOL_REPLY)
    check_tool_call(ask(fake, stream=stream))


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_answers_async(fake: FakeProvider, stream: bool) -> None:
    check_text(await ask_async(fake, stream=stream))
    fake.set_reply(TOOL_REPLY)
    check_tool_call(await ask_async(fake, stream=stream))


# -- what the request looked like --------------------------------------------------------------


@pytest.mark.parametrize("model", [BEDROCK_MODEL, ARN, "anthropic.claude-3-haiku-20240307-v1:0"])
def test_bedrock_records_the_model_id_from_the_path(bedrock: FakeProvider, model: str) -> None:
    assert ask(bedrock, stream=False, model=model).model == model
    ask(bedrock, stream=True, model=model)
    plain, streamed = bedrock.requests
    assert (plain.model, streamed.model) == (model, model)
    assert plain.route == {"model": model}
    assert plain.path == f"/model/{model}/invoke"
    assert streamed.path == f"/model/{model}/invoke-with-response-stream" and streamed.stream
    for request in (plain, streamed):
        assert set(request.body) == {"anthropic_version", "max_tokens", "messages"}
        assert request.headers["authorization"] == "AWS4-HMAC-SHA256 <redacted>"


def test_vertex_records_model_project_and_region(vertex: FakeProvider) -> None:
    ask(vertex, stream=False, model=VERTEX_MODEL)
    ask(vertex, stream=True, model=VERTEX_MODEL)
    plain, streamed = vertex.requests
    route = {"project": "proj", "region": "us-east5", "model": VERTEX_MODEL}
    assert plain.route == streamed.route == route and plain.model == VERTEX_MODEL
    prefix = f"/v1/projects/proj/locations/us-east5/publishers/anthropic/models/{VERTEX_MODEL}"
    assert (plain.path, streamed.path) == (f"{prefix}:rawPredict", f"{prefix}:streamRawPredict")
    assert "model" not in plain.body and "anthropic_version" in plain.body
    assert streamed.body["stream"] is True and streamed.stream
    assert plain.headers["authorization"] == "Bearer <redacted>"


def test_bedrock_takes_a_bearer_token_and_checks_the_body(
    bedrock: FakeProvider, http: httpx2.Client
) -> None:
    with anthropic.AnthropicBedrock(
        base_url=bedrock.base_url, aws_region="us-east-1", api_key="bedrock-key", max_retries=0
    ) as sdk:
        sdk.messages.create(model="m", max_tokens=5, messages=MESSAGES)
    assert bedrock.requests[0].headers["authorization"] == "Bearer <redacted>"
    assert "bedrock-key" not in repr(bedrock.requests)
    refused = post_bedrock(http, bedrock, auth=None)
    assert refused.status_code == 403
    assert refused.headers["x-amzn-ErrorType"].startswith("UnrecognizedClientException:")
    missing = post_bedrock(http, bedrock, body={"messages": [], "max_tokens": 5})
    assert missing.status_code == 400 and "[anthropic_version]" in missing.json()["message"]
    extra = post_bedrock(
        http,
        bedrock,
        body={"anthropic_version": "v", "messages": [], "max_tokens": 5, "model": "m"},
    )
    assert "extraneous key [model]" in extra.json()["message"]


def test_vertex_needs_a_bearer_token(vertex: FakeProvider, http: httpx2.Client) -> None:
    path = "/v1/projects/p/locations/r/publishers/anthropic/models/m:rawPredict"
    refused = http.post(vertex.url + path, json={"messages": []})
    assert refused.status_code == 401
    assert refused.json()["error"]["status"] == "UNAUTHENTICATED"
    lost = http.post(vertex.url + "/projects/p/x:rawPredict", headers={"authorization": "Bearer t"})
    assert (lost.status_code, lost.json()["error"]["status"]) == (404, "NOT_FOUND")


# -- Bedrock: event-stream frames and errors -------------------------------------------------------


def test_every_bedrock_frame_decodes_in_botocore(
    bedrock: FakeProvider, http: httpx2.Client
) -> None:
    """Each Anthropic stream event goes in one frame, both CRCs right."""
    bedrock.set_reply(TOOL_REPLY)
    auth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/..."
    response = post_bedrock(
        http, bedrock, f"/model/{BEDROCK_MODEL}/invoke-with-response-stream", auth=auth
    )
    assert response.headers["content-type"] == "application/vnd.amazon.eventstream"
    decoded = frames(response.content)
    assert {f.headers[":event-type"] for f in decoded} == {"chunk"}
    assert {f.headers[":message-type"] for f in decoded} == {"event"}
    assert {f.headers[":content-type"] for f in decoded} == {"application/json"}
    events = [json.loads(base64.b64decode(json.loads(f.payload)["bytes"])) for f in decoded]
    assert events[-1]["amazon-bedrock-invocationMetrics"]["outputTokenCount"] > 0
    with FakeProvider("anthropic", reply=TOOL_REPLY) as ant:  # the same events as Anthropic's
        body = {"model": "m", "messages": MESSAGES, "max_tokens": 9, "stream": True}
        sse = http.post(f"{ant.url}/v1/messages", json=body)
    names = [line[7:] for line in sse.text.splitlines() if line.startswith("event: ")]
    assert [e["type"] for e in events] == names


def test_bedrock_exception_frame_on_the_wire(bedrock: FakeProvider, http: httpx2.Client) -> None:
    bedrock.enqueue(Fault.inband_error(after_chunks=0))
    last = frames(post_bedrock(http, bedrock).content)[-1]
    assert last.headers[":message-type"] == "exception"
    assert last.headers[":exception-type"] == "internalServerException"
    assert set(json.loads(last.payload)) == {"message"}


NOT_READY = "ModelNotReadyException"
BEDROCK_ERRORS = [
    (Fault.rate_limit(retry_after=2), 429, "ThrottlingException", anthropic.RateLimitError),
    (Fault.quota(), 400, "ServiceQuotaExceededException", anthropic.BadRequestError),
    (Fault.overloaded(), 503, "ServiceUnavailableException", anthropic.ServiceUnavailableError),
    (Fault.context_length(), 400, "ValidationException", anthropic.BadRequestError),
    (Fault.status(500), 500, "InternalServerException", anthropic.InternalServerError),
    (Fault.status(503), 503, "ServiceUnavailableException", anthropic.ServiceUnavailableError),
    (Fault.status(408), 408, "ModelTimeoutException", anthropic.RequestTimeoutError),
    (Fault.status(424), 424, "ModelErrorException", anthropic.APIStatusError),
    (Fault.status(429), 429, "ThrottlingException", anthropic.RateLimitError),
    (Fault.status(400), 400, "ValidationException", anthropic.BadRequestError),
    (Fault.status(403), 403, "AccessDeniedException", anthropic.PermissionDeniedError),
    (Fault.status(404), 404, "ResourceNotFoundException", anthropic.NotFoundError),
    (Fault.status(429, error_type=NOT_READY), 429, NOT_READY, anthropic.RateLimitError),
]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize(
    ("fault", "status", "name", "error_class"),
    BEDROCK_ERRORS,
    ids=[str(e[0]) for e in BEDROCK_ERRORS],
)
def test_bedrock_errors_carry_their_name_in_x_amzn_errortype(
    bedrock: FakeProvider,
    stream: bool,
    fault: Fault,
    status: int,
    name: str,
    error_class: type[anthropic.APIStatusError],
) -> None:
    bedrock.enqueue(fault)
    with pytest.raises(anthropic.APIStatusError) as info:
        ask(bedrock, stream=stream)
    error = info.value
    assert type(error) is error_class and error.status_code == status
    assert error.response.headers["x-amzn-ErrorType"] == name + CORAL
    assert error.response.headers["x-amzn-RequestId"]
    assert isinstance(error.body, dict) and set(error.body) == {"message"}
    assert error.response.headers.get("retry-after") == ("2" if fault.retry_after else None)
    if fault.kind == "context_length":
        assert error.body["message"] == "prompt is too long: 210000 tokens > 200000 maximum"


@pytest.mark.parametrize(
    ("error_type", "exception"),
    [
        (None, "internalServerException"),
        ("ThrottlingException", "throttlingException"),
        ("ModelStreamErrorException", "modelStreamErrorException"),
    ],
)
def test_bedrock_exception_frame_mid_stream(
    bedrock: FakeProvider, error_type: str | None, exception: str
) -> None:
    """The SDK turns the frame into an SSE ``error`` event: a bare ``APIStatusError`` whose
    status is the stream's 200 and whose type is the frame's ``:exception-type``."""
    bedrock.enqueue(
        Fault.parse("inband_error=1" + (f";error_type={error_type}" if error_type else ""))
    )
    text, error = stream_until_error(bedrock)
    assert text == FIRST_CHUNK
    assert type(error) is anthropic.APIStatusError and error.status_code == 200
    assert error.type == exception and exception in str(error)
    assert bedrock.requests[0].fault is not None


def test_bedrock_stream_faults_between_frames(bedrock: FakeProvider) -> None:
    """Faults break a stream between whole frames (or inside the JSON a frame carries)."""
    bedrock.enqueue(Fault.cut(after_chunks=1), Fault.malformed_json(after_chunks=1))
    text, error = stream_until_error(bedrock)
    assert (text, type(error)) == (FIRST_CHUNK, httpx2.RemoteProtocolError)
    text, error = stream_until_error(bedrock)
    assert (text, type(error)) == (FIRST_CHUNK, json.JSONDecodeError)
    bedrock.enqueue(Fault.no_terminator(after_chunks=1), Fault.content_filter())
    assert ask(bedrock, stream=True).stop_reason is None
    refusal = ask(bedrock, stream=False)
    assert (refusal.stop_reason, refusal.content) == ("refusal", [])


def test_bedrock_keepalive_is_silence(bedrock: FakeProvider, http: httpx2.Client) -> None:
    """Bedrock has no keep-alive frame: the headers at once, nothing, then the answer."""
    healthy = post_bedrock(http, bedrock).content
    bedrock.enqueue(Fault.keepalive(0.3))
    started = time.monotonic()
    body = {"anthropic_version": "v", "messages": MESSAGES, "max_tokens": 9}
    path = f"{bedrock.url}/model/m/invoke-with-response-stream"
    with http.stream("POST", path, json=body, headers={"authorization": "Bearer k"}) as response:
        headers_after = time.monotonic() - started
        assert len(frames(response.read())) == len(frames(healthy))  # and no other frame
    assert headers_after < 0.25 <= time.monotonic() - started


def test_bedrock_quota_is_a_throttle_without_headroom_headers(bedrock: FakeProvider) -> None:
    bedrock.set_quota(1, per=60.0)
    with client(bedrock) as sdk:
        first = sdk.messages.with_raw_response.create(model="m", max_tokens=5, messages=MESSAGES)
        assert not any("ratelimit" in name for name in first.headers)
        with pytest.raises(anthropic.RateLimitError) as info:
            sdk.messages.create(model="m", max_tokens=5, messages=MESSAGES)
    headers = info.value.response.headers
    assert headers["x-amzn-ErrorType"] == "ThrottlingException" + CORAL and headers["retry-after"]


# -- Vertex AI: Google's errors ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "status", "error_class"),
    [
        (Fault.rate_limit(), "RESOURCE_EXHAUSTED", anthropic.RateLimitError),
        (Fault.quota(), "RESOURCE_EXHAUSTED", anthropic.RateLimitError),
        (Fault.status(404), "NOT_FOUND", anthropic.NotFoundError),
        (Fault.status(500), "INTERNAL", anthropic.InternalServerError),
        (Fault.status(503), "UNAVAILABLE", anthropic.ServiceUnavailableError),
        (Fault.status(400), "INVALID_ARGUMENT", anthropic.BadRequestError),
        (Fault.status(401), "UNAUTHENTICATED", anthropic.AuthenticationError),
        (Fault.status(403), "PERMISSION_DENIED", anthropic.PermissionDeniedError),
    ],
    ids=str,
)
@pytest.mark.parametrize("as_list", [False, True], ids=["object", "list"])
def test_vertex_errors_have_googles_shape(
    vertex: FakeProvider,
    fault: Fault,
    status: str,
    error_class: type[anthropic.APIStatusError],
    as_list: bool,
) -> None:
    vertex.enqueue(Fault.parse(f"{fault};error_code=list") if as_list else fault)
    with pytest.raises(anthropic.APIStatusError) as info:
        ask(vertex, model=VERTEX_MODEL, stream=False)
    error = info.value
    assert type(error) is error_class
    body = error.body
    if as_list:
        assert isinstance(body, list) and len(body) == 1
        body = body[0]
    assert isinstance(body, dict)
    assert body["error"]["status"] == status and body["error"]["code"] == error.status_code
    assert "retry-after" not in error.response.headers  # Vertex says nothing of when
    if status == "NOT_FOUND":
        model = f"projects/proj/locations/us-east5/publishers/anthropic/models/{VERTEX_MODEL}"
        assert body["error"]["message"] == f"Publisher Model `{model}` not found."


def test_vertex_passes_claudes_own_errors_through(vertex: FakeProvider) -> None:
    vertex.enqueue(Fault.overloaded(), Fault.inband_error(after_chunks=1))
    with pytest.raises(anthropic.OverloadedError) as info:
        ask(vertex, stream=False)
    assert info.value.status_code == 529 and info.value.type == "overloaded_error"
    text, error = stream_until_error(vertex)
    assert text == FIRST_CHUNK and type(error) is anthropic.APIStatusError
    assert (error.status_code, error.type) == (200, "overloaded_error")


def test_vertex_error_code_other_than_list_is_an_error_info_reason(vertex: FakeProvider) -> None:
    vertex.enqueue(Fault.status(429, error_code="RATE_LIMIT_EXCEEDED"))
    with pytest.raises(anthropic.RateLimitError) as info:
        ask(vertex, stream=True)
    assert isinstance(info.value.body, dict)
    assert info.value.body["error"]["details"][0]["reason"] == "RATE_LIMIT_EXCEEDED"


def test_the_cli_offers_the_clouds() -> None:
    parser = argparse.ArgumentParser()
    add_fake_server_parser(parser.add_subparsers(dest="command"))
    for cloud in ("bedrock", "vertex"):
        assert parser.parse_args(["fake-server", "--api", cloud]).api == cloud
