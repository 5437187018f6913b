"""A base_url where nothing listens, for "provider unreachable" tests."""

from __future__ import annotations

import atexit
import functools
import socket
from typing import Literal

__all__ = ["closed_port_url"]


def closed_port_url(
    api: Literal["openai", "anthropic", "azure", "bedrock", "vertex"] = "openai",
) -> str:
    """A ``base_url`` where connecting is refused at once (TCP RST to the SYN), in the
    form :attr:`FakeProvider.base_url` has for ``api`` (OpenAI and Vertex AI: ``/v1``).

    The port stays bound, but never listening, for the life of the process, so no other
    server can take it while tests rely on it being closed.
    """
    root = f"http://127.0.0.1:{_reserved_port()}"
    return f"{root}/v1" if api in ("openai", "vertex") else root


@functools.cache
def _reserved_port() -> int:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    atexit.register(sock.close)
    port: int = sock.getsockname()[1]
    return port
