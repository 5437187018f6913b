"""The HTTP side: uvicorn serving a small Starlette app on a background thread.

Two small uvicorn extensions make faults possible and the fake fast:

* an ``H11Protocol`` subclass (``Config(http=...)``) that records each connection's
  transport, so a handler can drop or reset *its own* TCP connection and the provider
  can count open connections exactly;
* a ``Server`` subclass whose main loop wakes on an event instead of polling every
  100 ms, and whose shutdown ends hanging requests at once, so ``stop()`` is prompt.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from ._plan import Action, Body, Drop, Finish, Hang, Head, Pause, Reset

__all__ = ["ConnectionTracker", "Responder", "ServerThread", "bind_socket"]

Responder = Callable[[str, str, str, Iterable[tuple[str, str]], bytes], list[Action]]
"""``(method, path, query, headers, raw body) -> plan``; runs on the server's event loop."""

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
_GRACE = 2.0  # seconds in-flight requests get to finish when the server stops


class ConnectionTracker:
    """The open TCP connections of one fake provider, counted in the protocol callbacks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[int, tuple[tuple[str, int] | None, asyncio.Transport]] = {}
        self._total = 0

    @property
    def active(self) -> int:
        with self._lock:
            return len(self._open)

    @property
    def total(self) -> int:
        with self._lock:
            return self._total

    def opened(
        self, key: object, client: tuple[str, int] | None, transport: asyncio.Transport
    ) -> None:
        with self._lock:
            self._open[id(key)] = (client, transport)
            self._total += 1

    def closed(self, key: object) -> None:
        with self._lock:
            self._open.pop(id(key), None)

    def transport_for(self, client: Any) -> asyncio.Transport | None:
        """The transport of the connection whose peer address is ``client``."""
        peer = tuple(client) if client else None
        with self._lock:
            return next((t for c, t in self._open.values() if c == peer), None)

    def close_all(self) -> None:
        with self._lock:
            transports = [t for _, t in self._open.values()]
        for transport in transports:
            transport.close()


def _protocol_class(tracker: ConnectionTracker) -> type[H11Protocol]:
    """uvicorn's h11 protocol, reporting connections to ``tracker``."""

    class TrackedH11Protocol(H11Protocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            _no_delay(transport)
            tracker.opened(self, self.client, transport)

        def connection_lost(self, exc: Exception | None) -> None:
            try:
                super().connection_lost(exc)
            finally:
                tracker.closed(self)

    return TrackedH11Protocol


def _no_delay(transport: asyncio.Transport) -> None:
    """Disable Nagle: a response goes out in several small writes (head, events, end),
    and Nagle would hold each one for the client's delayed ACK (~40 ms per request).

    asyncio does this itself only for sockets made with ``IPPROTO_TCP``; doing it here
    holds whatever socket uvicorn is given.
    """
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _Link:
    """One request's connection as its handler sees it: performs a plan's steps."""

    def __init__(
        self, receive: Receive, stopping: asyncio.Event, transport: asyncio.Transport | None
    ) -> None:
        self._transport = transport
        self._stopping = stopping
        self._left = asyncio.ensure_future(_until_disconnect(receive))
        self._stop = asyncio.ensure_future(stopping.wait())
        self.finished = False
        self.dropped = False

    @property
    def gone(self) -> bool:
        """The client left or the server is stopping: nothing more should be sent."""
        # A closing transport is checked too: the disconnect message can come later, and
        # asyncio logs a warning for every write to a lost connection meanwhile.
        closing = self._transport is not None and self._transport.is_closing()
        return closing or self._left.done() or self._stopping.is_set()

    async def run(self, plan: list[Action], send: Send) -> None:
        for step in plan:
            if self.gone or self.dropped:
                break
            await self._perform(step, send)
        if not self.finished and not self.dropped:
            self.drop()  # never leave a half-sent response behind
        if self.dropped:
            await asyncio.wait({self._left}, timeout=1.0)  # let uvicorn see the disconnect

    async def close(self) -> None:
        tasks = [self._left, self._stop]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def wait(self, seconds: float | None) -> bool:
        """Sleep up to ``seconds`` (None: forever); False if cut short by a leave or stop."""
        done, _ = await asyncio.wait(
            {self._left, self._stop}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED
        )
        return not done

    def drop(self) -> None:
        self.dropped = True
        if self._transport is not None:
            self._transport.close()

    def reset(self) -> None:
        self.dropped = True
        if self._transport is None:
            return
        sock = self._transport.get_extra_info("socket")
        if sock is not None:  # linger 0: close() sends RST instead of FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self._transport.abort()

    async def _perform(self, step: Action, send: Send) -> None:
        match step:
            case Head(status, headers):
                raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
                await send({"type": "http.response.start", "status": status, "headers": raw})
            case Body(data):
                await send({"type": "http.response.body", "body": data, "more_body": True})
            case Finish():
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                self.finished = True
            case Pause(seconds):
                await self.wait(seconds)
            case Hang(seconds):
                await self.wait(seconds)
                self.drop()
            case Drop():
                self.drop()
            case Reset():
                self.reset()


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class _Endpoint:
    """The one ASGI route: read the body, get a plan from the provider, perform it."""

    def __init__(
        self, respond: Responder, tracker: ConnectionTracker, stopping: asyncio.Event
    ) -> None:
        self._respond = respond
        self._tracker = tracker
        self._stopping = stopping

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            raw = await request.body()
        except ClientDisconnect:
            return  # the client gave up before its request was even sent: nothing to do
        url = request.url
        plan = self._respond(request.method, url.path, url.query, request.headers.items(), raw)
        transport = self._tracker.transport_for(scope.get("client"))
        link = _Link(receive, self._stopping, transport)
        try:
            await link.run(plan, send)
        finally:
            await link.close()


class _Server(uvicorn.Server):
    """uvicorn's server, woken by an event rather than a 100 ms poll, with a prompt shutdown."""

    def __init__(
        self, config: uvicorn.Config, tracker: ConnectionTracker, stopping: asyncio.Event
    ) -> None:
        super().__init__(config)
        self.tracker = tracker
        self.stopping = stopping
        self.loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        await super().startup(sockets=sockets)

    def request_exit(self) -> None:
        """Runs on the loop: end hangs and pauses now, then leave the main loop."""
        self.stopping.set()
        self.should_exit = True
        self._wake.set()

    async def main_loop(self) -> None:
        while not await self.on_tick(0):  # tick 0 refreshes the Date header each time
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=1.0)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        tasks = set(self.server_state.tasks)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=_GRACE)
            for task in pending:
                task.cancel()
        self.tracker.close_all()
        for _ in range(100):  # connection_lost runs a loop iteration after close()
            if not self.tracker.active:
                break
            await asyncio.sleep(0.005)
        for server in self.servers:
            await server.wait_closed()


class ServerThread:
    """Serves ``respond`` on the listening ``sock`` from a daemon thread with its own loop."""

    def __init__(
        self, respond: Responder, sock: socket.socket, tracker: ConnectionTracker, name: str
    ) -> None:
        self._sock = sock
        stopping = asyncio.Event()
        app = Starlette(
            routes=[Route("/{path:path}", _Endpoint(respond, tracker, stopping), methods=_METHODS)]
        )
        config = uvicorn.Config(
            app,
            http=_protocol_class(tracker),
            loop="asyncio",
            lifespan="off",
            ws="none",
            log_config=None,
            log_level="warning",
            access_log=False,
            proxy_headers=False,  # scope["client"] must stay the TCP peer
            server_header=False,
            # Longer than the SDKs' own idle expiry (5 s): with uvicorn's default (also
            # 5 s) the server could close an idle connection just as a client reused it.
            timeout_keep_alive=75,
        )
        self._server = _Server(config, tracker, stopping)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._error: BaseException | None = None

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"fake provider server did not start: {self._error!r}")
            time.sleep(0.0005)

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True  # seen within a second even if the loop is not ours yet
        loop = self._server.loop
        if loop is not None and self._thread.is_alive():
            with contextlib.suppress(RuntimeError):  # the loop may have just closed
                loop.call_soon_threadsafe(self._server.request_exit)
        if self._thread.ident is not None:
            self._thread.join(timeout)
        self._sock.close()

    def _run(self) -> None:
        try:
            self._server.run(sockets=[self._sock])
        except BaseException as exc:  # reported by start(); SystemExit on startup failure
            self._error = exc


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (0: an ephemeral port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock
