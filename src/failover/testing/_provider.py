"""FakeProvider: a real OpenAI- or Anthropic-compatible HTTP server you can break on purpose
(also as Azure OpenAI, and as Claude on AWS Bedrock or Google Vertex AI)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, Literal

from ._faults import Fault
from ._plan import Action, build_plan, error_plan
from ._quota import Quota
from ._records import RecordedRequest, redact_headers
from ._reply import DEFAULT_TEXT, Reply
from ._schedule import Schedule, ScheduleClock
from ._server import ConnectionTracker, ServerThread, bind_socket
from ._wire import Wire, parse_body
from ._wire_anthropic import AnthropicWire
from ._wire_azure import AzureResponsesWire, AzureWire
from ._wire_bedrock import BedrockWire
from ._wire_embeddings import EmbeddingsWire
from ._wire_openai import OpenAIWire
from ._wire_responses import Flavour, ResponsesWire
from ._wire_vertex import VertexWire

__all__ = ["Api", "FakeProvider"]

Api = Literal["openai", "anthropic", "bedrock", "vertex"]
_WIRES: dict[str, Callable[[str | None], Wire]] = {
    "openai": lambda _: OpenAIWire(),
    "anthropic": lambda _: AnthropicWire(),
    "azure": AzureWire,
    "bedrock": lambda _: BedrockWire(),
    "vertex": lambda _: VertexWire(),
}


def _beside_chat(
    api: str, responses: Flavour | Literal["none"], deployment: str | None, dimensions: int
) -> dict[str, Wire]:
    """The wires of the endpoints a fake serves beside its chat endpoint, by path."""
    wires: dict[str, Wire] = {}
    if api == "openai":
        wires[EmbeddingsWire.path] = EmbeddingsWire(dimensions)
    if responses != "none" and api in ("openai", "azure"):
        wire = (
            ResponsesWire(responses)
            if api == "openai"
            else AzureResponsesWire(responses, deployment)
        )
        wires.update(dict.fromkeys(wire.paths, wire))
    return wires


class _Script:
    """What the provider will answer next, and what it was asked; safe across threads."""

    def __init__(self, reply: Reply, log_limit: int | None = None) -> None:
        self._lock = threading.Lock()
        self._reply = reply
        self._queue: deque[Fault | Reply] = deque()
        self._mode: Fault | None = None
        self._clock: ScheduleClock | None = None
        self._log: deque[RecordedRequest] = deque(maxlen=log_limit)
        self._seq = 0

    def next(self, now: float) -> tuple[int, Fault | None, Reply]:
        """Number the request and decide: queued item > schedule > standing mode > healthy."""
        with self._lock:
            self._seq += 1
            fault, reply = self._decide(now)
            return self._seq, fault, reply

    def _decide(self, now: float) -> tuple[Fault | None, Reply]:
        if self._queue:
            item = self._queue.popleft()
            return (item, self._reply) if isinstance(item, Fault) else (None, item)
        if self._clock is not None:
            active, fault = self._clock.decide(now)
            if active:
                return fault, self._reply
        return self._mode, self._reply

    def set_reply(self, reply: Reply) -> None:
        with self._lock:
            self._reply = reply

    def enqueue(self, items: Iterable[Fault | Reply]) -> None:
        with self._lock:
            self._queue.extend(items)

    def set_mode(self, fault: Fault | None) -> None:
        with self._lock:
            self._mode = fault

    def set_schedule(self, schedule: Schedule | None) -> None:
        clock = None if schedule is None else ScheduleClock(schedule, time.monotonic())
        with self._lock:
            self._clock = clock

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._log.append(request)

    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._log)

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self._mode = None
            self._clock = None
            self._log.clear()


class FakeProvider:
    """A fake OpenAI, Anthropic, Azure OpenAI, Bedrock or Vertex AI API on ``127.0.0.1``,
    served by uvicorn on a thread.

    Point the real vendor SDK at :attr:`base_url`. By default every request gets the
    healthy :class:`Reply`; script trouble with :meth:`enqueue` (one item per request),
    :meth:`set_schedule` (time-based) or :meth:`set_mode` (every request), in that order
    of precedence. Only healthy answers check the request (required fields, valid JSON).

    ``on_request`` is called on the server thread with each :class:`RecordedRequest`.
    ``log_limit`` keeps only that many of the latest requests (long load tests); the
    default keeps all. After :meth:`stop`, :meth:`start` serves again on the same port.

    ``"azure"`` speaks Azure OpenAI (``_wire_azure.py``): point ``openai.AzureOpenAI``'s
    ``azure_endpoint`` at :attr:`base_url`. It requires ``api-version`` and an ``api-key``
    header, and with ``deployment`` set it answers 404 ``DeploymentNotFound`` for others.
    ``"openai"`` also serves ``POST /v1/embeddings`` (``_wire_embeddings.py``): vectors of
    ``embedding_dimensions`` floats unless the request asks for ``dimensions``.

    ``"openai"`` and ``"azure"`` also serve the Responses API (``_wire_responses.py``), so
    ``client.responses.create``/``.stream`` work and take the same faults as chat:
    ``responses="openai"`` as OpenAI streams it (no ``[DONE]``, a flat ``error`` event),
    ``"open"`` as Open Responses does (``[DONE]``; a nested ``error`` event, then
    ``response.failed``), ``"none"`` not at all (a chat-only server: the vendor's 404).
    Azure serves it at ``/openai/v1/responses`` (``base_url=fake.url + "/openai/v1"``) and
    at ``/openai/responses?api-version=...`` (``openai.AzureOpenAI``).

    ``"bedrock"`` speaks Claude on AWS Bedrock (``_wire_bedrock.py``): point
    ``anthropic.AnthropicBedrock(base_url=fake.base_url, aws_region=..., aws_access_key=...,
    aws_secret_key=...)`` at it (any credentials; signatures are not checked). Streams are
    AWS event-stream frames; errors carry their name in ``x-amzn-ErrorType``.
    ``"vertex"`` speaks Claude on Google Vertex AI (``_wire_vertex.py``): point
    ``anthropic.AnthropicVertex(base_url=fake.base_url, region=..., project_id=...,
    access_token=...)`` at it; :attr:`base_url` ends in ``/v1`` as Google's does. Its
    errors have Google's shape; ``error_code="list"`` wraps one in a JSON list. For
    both, the model is in the path: :attr:`RecordedRequest.model` reads it.
    """

    def __init__(
        self,
        api: Api | Literal["azure"] = "openai",
        *,
        reply: Reply | str = DEFAULT_TEXT,
        host: str = "127.0.0.1",
        port: int = 0,
        name: str | None = None,
        on_request: Callable[[RecordedRequest], None] | None = None,
        log_limit: int | None = None,
        deployment: str | None = None,
        embedding_dimensions: int = 8,
        responses: Flavour | Literal["none"] = "openai",
    ) -> None:
        if api not in _WIRES:
            raise ValueError(f"api must be one of {', '.join(map(repr, _WIRES))}; got {api!r}")
        if responses not in ("openai", "open", "none"):
            raise ValueError(f"responses must be 'openai', 'open' or 'none'; got {responses!r}")
        # Azure speaks OpenAI's protocol: ``api`` is the SDK family, ``azure`` the flavour.
        self.api: Api = "openai" if api == "azure" else api
        self.azure = api == "azure"
        self.name = name or f"fake-{api}"
        self.host = host
        self._port = port
        self._wire = _WIRES[api](deployment)
        # Endpoints beside chat (embeddings, Responses API), by path.
        self._beside = _beside_chat(api, responses, deployment, embedding_dimensions)
        self._script = _Script(Reply.of(reply), log_limit)
        self._quota: Quota | None = None
        self._tracker = ConnectionTracker()
        self._server: ServerThread | None = None
        self._on_request = on_request

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> FakeProvider:
        """Bind the port and serve; returns once the server accepts requests."""
        if self._server is None:
            sock = bind_socket(self.host, self._port)
            self._port = sock.getsockname()[1]
            server = ServerThread(self._respond, sock, self._tracker, f"failover-{self.name}")
            server.start()
            self._server = server
        return self

    def stop(self) -> None:
        """Stop serving: hanging requests are dropped, open connections closed."""
        server, self._server = self._server, None
        if server is not None:
            server.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    def __enter__(self) -> FakeProvider:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses -----------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port served on (0 until first started when constructed with ``port=0``)."""
        return self._port

    @property
    def url(self) -> str:
        """The server root, ``http://127.0.0.1:PORT``."""
        if not self._port:
            raise RuntimeError(f"{self.name} has no port yet; call start() first")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}"

    @property
    def base_url(self) -> str:
        """What the vendor SDK's ``base_url`` expects (OpenAI and Vertex AI: with ``/v1``)."""
        with_v1 = (self.api == "openai" and not self.azure) or self.api == "vertex"
        return f"{self.url}/v1" if with_v1 else self.url

    # -- scripting -----------------------------------------------------------------------

    def set_reply(self, reply: Reply | str) -> None:
        """The healthy answer (also the content that faults like ``cut`` truncate)."""
        self._script.set_reply(Reply.of(reply))

    def enqueue(self, *items: Fault | Reply) -> None:
        """One item per upcoming request, first in first out, before anything else."""
        self._script.enqueue(items)

    def set_mode(self, fault: Fault | None) -> None:
        """A standing fault for every request; None is healthy."""
        self._script.set_mode(fault)

    def set_schedule(self, schedule: Schedule | None) -> None:
        """A time-based outage; its t=0 is now. When it is over, the standing mode applies."""
        self._script.set_schedule(schedule)

    def set_quota(self, requests: int | None, per: float = 60.0, tokens: int | None = None) -> None:
        """Answer at most ``requests`` (and ``tokens``: prompt words plus answer chunks,
        as the fake counts them) per ``per`` seconds (None: no quota), saying what is left
        in the vendor's rate-limit headers (``x-ratelimit-*``, ``anthropic-ratelimit-*``;
        Bedrock and Vertex AI send none) and refusing the rest with a 429 (Bedrock:
        ``ThrottlingException``; Vertex AI: ``RESOURCE_EXHAUSTED``) whose Retry-After is
        the window's reset. Faults that are served do not count."""
        self._quota = None if requests is None else Quota(requests, per, tokens)

    def reset(self) -> None:
        """Clear the queue, mode, schedule, quota and request log (the reply is kept)."""
        self._script.reset()
        self._quota = None

    # -- observation ---------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the request log, oldest first."""
        return self._script.requests()

    @property
    def active_connections(self) -> int:
        """TCP connections open right now."""
        return self._tracker.active

    @property
    def total_connections(self) -> int:
        """TCP connections accepted since construction."""
        return self._tracker.total

    def __repr__(self) -> str:
        where = self.url if self._port else "not started"
        api = "azure" if self.azure else self.api
        return f"FakeProvider({api!r}, name={self.name!r}, {where})"

    # -- serving (runs on the server thread) -------------------------------------------

    def _respond(
        self, method: str, path: str, query: str, pairs: Iterable[tuple[str, str]], raw: bytes
    ) -> list[Action]:
        arrived = time.monotonic()
        body, is_json = parse_body(raw)
        pairs = list(pairs)
        headers = redact_headers(pairs)
        wire = self._beside.get(path, self._wire)
        # The route sees credentials (Bedrock tells SigV4 from Bearer); the log does not.
        refused = wire.route(method, path, query, {k.lower(): v for k, v in pairs})
        if refused is not None:
            self._record(method, path, query, headers, body, arrived, None, stream=False)
            return error_plan(wire, None, refused, ())
        seq, fault, reply = self._script.next(arrived)
        call = wire.call(seq, path, body)
        extra: tuple[tuple[str, str], ...] = ()
        quota = self._quota
        if fault is None and quota is not None:
            fault, extra = quota.take(arrived, self.api, call.prompt_tokens + reply.chunk_count())
        self._record(
            method, path, query, headers, body, arrived, fault, stream=call.stream, route=call.route
        )
        if fault is None and raw and not is_json:
            return error_plan(wire, call, wire.bad_json(), ())
        return build_plan(wire, call, fault, reply, extra)

    def _record(
        self,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        body: Any,
        arrived: float,
        fault: Fault | None,
        *,
        stream: bool,
        route: Mapping[str, str] | None = None,
    ) -> None:
        request = RecordedRequest(
            method, path, headers, body, arrived, fault, stream, query, dict(route or {})
        )
        self._script.record(request)
        if self._on_request is not None:
            self._on_request(request)
