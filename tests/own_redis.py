"""A Redis server of a test's own, on a free port, ended by its pid (never the machine's)."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def asleep(port: int) -> bool:
    """Whether the server leaves a PING unanswered for 0.1 s: it runs ``DEBUG SLEEP``.
    (A false "asleep", a slow answer, is harmless once DEBUG SLEEP was sent.)"""
    with socket.create_connection(("127.0.0.1", port), timeout=5.0) as ping:
        ping.sendall(b"PING\r\n")
        ping.settimeout(0.1)
        try:
            ping.recv(16)
        except TimeoutError:
            return True
        return False


@contextlib.contextmanager
def own_redis(port: int, *options: str) -> Iterator[subprocess.Popen[bytes]]:
    """A Redis of this test's own, ended by its pid (never the machine's)."""
    server = ["redis-server", "--port", str(port), "--bind", "127.0.0.1"]
    proc = subprocess.Popen(
        [*server, "--save", "", "--appendonly", "no", *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 5
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.1):
                break
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.02)
        yield proc
    finally:
        proc.kill()
        proc.wait(5)
