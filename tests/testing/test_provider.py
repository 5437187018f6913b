"""FakeProvider mechanics: lifecycle, scripting precedence, request log, connection counts."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import httpx2
import openai
import pytest

from failover.testing import FakeProvider, Fault, Phase, RecordedRequest, Reply, Schedule

from ._sdk import API_KEY, Caller, sdk


def eventually(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll ``check`` until it holds; the server thread updates state asynchronously."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


@functools.cache
def raw_http() -> httpx2.Client:
    """One pool for raw requests (building a client per request is slow); closed below."""
    return httpx2.Client(timeout=5.0)


@pytest.fixture(scope="module", autouse=True)
def _close_raw_http() -> Iterator[None]:
    yield
    if raw_http.cache_info().currsize:
        raw_http().close()
        raw_http.cache_clear()


def post(
    fake: FakeProvider, body: bytes | dict[str, Any], headers: dict[str, str] | None = None
) -> httpx2.Response:
    """A raw request to the fake's completion endpoint, bypassing the SDKs."""
    path = "/v1/chat/completions" if fake.api == "openai" else "/v1/messages"
    if isinstance(body, bytes):
        return raw_http().post(fake.url + path, content=body, headers=headers)
    return raw_http().post(fake.url + path, json=body, headers=headers)


def chat(fake: FakeProvider, headers: dict[str, str] | None = None) -> httpx2.Response:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}
    return post(fake, body, headers=headers)


# -- addresses and lifecycle ---------------------------------------------------------------------


def test_base_url_is_what_each_sdk_expects() -> None:
    with FakeProvider("openai") as oai, FakeProvider("anthropic") as ant:
        assert oai.base_url == f"http://127.0.0.1:{oai.port}/v1"
        assert ant.base_url == f"http://127.0.0.1:{ant.port}" == ant.url
        assert oai.port != ant.port
        assert repr(oai) == f"FakeProvider('openai', name='fake-openai', {oai.url})"


def test_url_before_start_is_an_error() -> None:
    fake = FakeProvider("anthropic", name="later")
    assert (fake.port, fake.running, fake.name) == (0, False, "later")
    with pytest.raises(RuntimeError, match="start"):
        _ = fake.base_url


def test_unknown_api_is_rejected() -> None:
    with pytest.raises(ValueError, match="openai"):
        FakeProvider("gemini")  # type: ignore[arg-type]


def test_starting_and_stopping_is_fast() -> None:
    """The real figure is a few milliseconds; the bound is generous for loaded machines."""
    started = time.monotonic()
    for _ in range(10):
        FakeProvider("openai").start().stop()
    assert (time.monotonic() - started) / 10 < 1.0


def test_restart_serves_again_on_the_same_port() -> None:
    fake = FakeProvider("openai").start()
    port = fake.port
    fake.stop()
    with pytest.raises(httpx2.ConnectError):
        chat(fake)
    fake.start()
    try:
        assert fake.port == port
        assert chat(fake).status_code == 200
    finally:
        fake.stop()
    fake.stop()  # stopping twice is harmless


def test_stop_ends_a_hanging_request_promptly(fake: FakeProvider) -> None:
    fake.set_mode(Fault.hang())
    outcome: list[BaseException | None] = []
    caller = Caller(fake.api, "sync", False, fake.base_url, timeout=60.0)
    client = threading.Thread(target=lambda: outcome.append(caller.run().error))
    client.start()
    assert eventually(lambda: len(fake.requests) == 1)
    started = time.monotonic()
    fake.stop()
    assert time.monotonic() - started < 3.0
    client.join(5.0)
    assert isinstance(outcome[0], sdk(fake.api).APIConnectionError)
    assert fake.active_connections == 0


def test_hang_with_seconds_drops_the_connection_afterwards(fake: FakeProvider) -> None:
    fake.enqueue(Fault.hang(0.1))
    error = Caller(fake.api, "sync", False, fake.base_url).run().error
    assert isinstance(error, sdk(fake.api).APIConnectionError)
    assert not isinstance(error, sdk(fake.api).APITimeoutError)


def test_plugin_fixtures_are_started(
    fake_openai: FakeProvider,
    fake_anthropic: FakeProvider,
    fake_provider_factory: Callable[..., FakeProvider],
) -> None:
    extra = fake_provider_factory("anthropic", reply="third", name="extra")
    assert (fake_openai.api, fake_anthropic.api, extra.name) == ("openai", "anthropic", "extra")
    for fake in (fake_openai, fake_anthropic, extra):
        assert fake.running and chat(fake).status_code == 200
    assert Caller("anthropic", "sync", False, extra.base_url).run().ok().text == "third"


# -- scripting ---------------------------------------------------------------------------------


def test_queue_beats_schedule_beats_mode_beats_healthy(fake: FakeProvider) -> None:
    fake.set_reply("healthy")
    assert chat(fake).status_code == 200
    fake.set_mode(Fault.status(500))
    assert chat(fake).status_code == 500
    fake.set_schedule(Schedule([Phase(60.0, Fault.status(502))]))
    assert chat(fake).status_code == 502
    fake.enqueue(Fault.status(429), Reply("queued reply"), Fault.status(404))
    assert [chat(fake).status_code for _ in range(4)] == [429, 200, 404, 502]
    fake.set_schedule(None)
    assert chat(fake).status_code == 500
    fake.set_mode(None)
    assert chat(fake).status_code == 200


def test_a_queued_reply_is_answered_once(fake: FakeProvider) -> None:
    fake.enqueue(Reply("just once"))
    caller = Caller(fake.api, "sync", True, fake.base_url)
    assert caller.run().ok().text == "just once"
    assert caller.run().ok().text == "Hello from the fake provider."


def test_reset_clears_queue_mode_schedule_and_log_but_keeps_the_reply(fake: FakeProvider) -> None:
    fake.set_reply("kept")
    fake.enqueue(Fault.status(500))
    fake.set_mode(Fault.status(503))
    fake.set_schedule(Schedule([Phase(60.0, Fault.status(502))]))
    chat(fake)
    fake.reset()
    assert fake.requests == []
    assert Caller(fake.api, "sync", False, fake.base_url).run().ok().text == "kept"


def test_schedule_phases_follow_the_clock(fake: FakeProvider) -> None:
    """Generous margins: only "well inside the first phase" and "after the end" are sampled."""
    fake.set_schedule(Schedule([Phase(1.0, Fault.status(503))]))
    assert chat(fake).status_code == 503
    time.sleep(1.1)
    assert chat(fake).status_code == 200  # the schedule is over: healthy again


def test_seeded_partial_outage_is_reproducible(fake: FakeProvider) -> None:
    def pattern(seed: int) -> list[int]:
        fake.set_schedule(Schedule([Phase(60.0, Fault.status(503), rate=0.3)], seed=seed))
        return [chat(fake).status_code for _ in range(30)]

    first = pattern(seed=7)
    assert pattern(seed=7) == first
    assert pattern(seed=8) != first
    assert 3 <= first.count(503) <= 18  # about 30% (9 expected)
    assert set(first) == {200, 503}


# -- observation --------------------------------------------------------------------------------


def test_request_log_records_and_redacts(fake: FakeProvider) -> None:
    before = time.monotonic()
    caller = Caller(fake.api, "sync", True, fake.base_url)
    caller.run(model="logged-model").ok()
    [request] = fake.requests
    assert isinstance(request, RecordedRequest)
    assert (request.method, request.stream, request.fault) == ("POST", True, None)
    assert request.path == ("/v1/chat/completions" if fake.api == "openai" else "/v1/messages")
    assert request.body["model"] == "logged-model"
    assert before <= request.arrived_at <= time.monotonic()
    assert request.headers["authorization"] == "Bearer <redacted>"  # anthropic 2.x: Bearer too
    assert API_KEY not in repr(fake.requests)


@pytest.mark.parametrize("header", ["Authorization", "X-Api-Key", "api-key"])
def test_every_credential_header_is_redacted(fake: FakeProvider, header: str) -> None:
    """OpenAI and (since 2.x) Anthropic send ``authorization``; older Anthropic clients
    send ``x-api-key``, Azure OpenAI ``api-key``."""
    chat(fake, headers={header: "Bearer top-secret"})
    shown = "Bearer <redacted>" if header == "Authorization" else "<redacted>"  # scheme kept
    assert fake.requests[0].headers[header.lower()] == shown
    assert "top-secret" not in repr(fake.requests)


def test_on_request_sees_each_request() -> None:
    seen: list[RecordedRequest] = []
    with FakeProvider("anthropic", on_request=seen.append) as fake:
        fake.enqueue(Fault.overloaded())
        chat(fake)
        chat(fake)
    assert [r.fault for r in seen] == [Fault.overloaded(), None]


def open_stream(fake: FakeProvider, http: httpx2.Client) -> Any:
    """A streaming call through the vendor SDK, not yet read."""
    if fake.api == "openai":
        oai = openai.OpenAI(api_key="k", base_url=fake.base_url, max_retries=0, http_client=http)
        return oai.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}], stream=True
        )
    ant = anthropic.Anthropic(api_key="k", base_url=fake.base_url, max_retries=0, http_client=http)
    return ant.messages.create(
        model="m", max_tokens=9, messages=[{"role": "user", "content": "hi"}], stream=True
    )


def test_connections_are_counted_and_an_early_close_releases_them(fake: FakeProvider) -> None:
    fake.set_reply(Reply("x" * 400, chunk_size=1))
    fake.set_mode(Fault.drip(0.01))  # long enough that the stream is still running
    with httpx2.Client() as http:
        stream = open_stream(fake, http)
        next(iter(stream))
        assert fake.active_connections == 1
        stream.close()
        assert eventually(lambda: fake.active_connections == 0)
    assert fake.total_connections == 1


def test_connections_are_released_when_the_client_closes(fake: FakeProvider) -> None:
    with httpx2.Client() as http:
        for _ in range(3):  # keep-alive: one connection serves all three
            response = http.post(fake.base_url.rstrip("/") + "/x", json={})
            assert response.status_code == 404
        assert fake.active_connections == 1
    assert eventually(lambda: fake.active_connections == 0)
    assert fake.total_connections == 1


# -- request handling -----------------------------------------------------------------------


def test_unknown_routes_get_the_vendors_404(fake: FakeProvider) -> None:
    with httpx2.Client() as http:
        client_class = openai.OpenAI if fake.api == "openai" else anthropic.Anthropic
        client = client_class(api_key="k", base_url=fake.base_url, max_retries=0, http_client=http)
        with pytest.raises(sdk(fake.api).NotFoundError):
            client.models.list()
    [request] = fake.requests
    assert (request.method, request.path, request.fault) == ("GET", "/v1/models", None)


def test_unknown_routes_do_not_consume_queued_faults(fake: FakeProvider) -> None:
    fake.enqueue(Fault.status(500))
    assert raw_http().get(fake.url + "/health").status_code == 404
    assert chat(fake).status_code == 500


def test_healthy_answers_reject_invalid_json(fake: FakeProvider) -> None:
    response = post(fake, b"{not json")
    assert response.status_code == 400
    assert fake.requests[0].body == "{not json"


def test_healthy_answers_check_required_fields(fake: FakeProvider) -> None:
    """Catches adapters that forget a field, e.g. Anthropic's required max_tokens."""
    response = post(fake, {"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    if fake.api == "openai":
        assert response.status_code == 200
        response = post(fake, {"model": "m"})
        assert response.json()["error"]["param"] == "messages"
    else:
        assert response.json()["error"]["message"] == "max_tokens: Field required"
    assert response.status_code == 400


def test_faults_win_over_request_checks(fake: FakeProvider) -> None:
    fake.enqueue(Fault.status(503))
    assert post(fake, b"{not json").status_code == 503
