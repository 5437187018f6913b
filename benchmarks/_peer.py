"""The peer, LiteLLM's Router: its own virtualenv, driven as a subprocess.

LiteLLM pins openai<3 (httpx), failover needs openai>=3.54 (httpx2), so LiteLLM lives
in ``benchmarks/.venv-litellm``, created here on first use, and runs
``benchmarks/litellm_driver.py`` there.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

from benchmarks._common import BENCH, LITELLM_ENV, LITELLM_VERSION, JsonPipe
from benchmarks._load import Timed

VENV = BENCH / ".venv-litellm"
PYTHON = VENV / "bin" / "python"


# redis-py for LiteLLM's shared cooldowns (redis_host/redis_port) in the fleet benchmark;
# mcp because LiteLLM's responses() imports its MCP gateway on every call (it fails
# with "No module named 'mcp'" without it), for the Responses benchmark.
PEER_PACKAGES = (f"litellm=={LITELLM_VERSION}", "redis", "mcp")


def installed_version() -> str | None:
    """LiteLLM's version in the venv, read from its metadata (no slow import); None if
    it, redis-py or mcp is missing."""
    if not PYTHON.exists():
        return None
    probe = "import importlib.metadata as m; m.version('redis'); m.version('mcp'); "
    probe += "print(m.version('litellm'))"
    done = subprocess.run([PYTHON, "-c", probe], capture_output=True, text=True, timeout=60)
    return done.stdout.strip() if done.returncode == 0 else None


def ensure_venv(log: IO[str]) -> Path:
    """Create the venv and install the pinned LiteLLM if it is not there yet."""
    if installed_version() == LITELLM_VERSION:
        return PYTHON
    print(f"installing litellm=={LITELLM_VERSION} into {VENV} (once) ...", flush=True)
    base = str(getattr(sys, "_base_executable", sys.executable))
    subprocess.run([base, "-m", "venv", str(VENV)], check=True, timeout=300)
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, *PEER_PACKAGES], check=True, timeout=900, stderr=log)
    return PYTHON


def peer_env() -> dict[str, str]:
    return {**os.environ, **LITELLM_ENV}


class LiteLLMPeer:
    """A running litellm_driver: build a Router, then time calls through it."""

    def __init__(self, log: IO[str]) -> None:
        argv = [str(PYTHON), "-m", "benchmarks.litellm_driver"]
        self._pipe = JsonPipe(argv, log=log, env=peer_env())

    def setup(self, deployments: dict[str, str], timeout: float | None = None) -> str:
        """Router with ``primary`` -> ``backup`` fallback; returns LiteLLM's version."""
        reply = self._pipe.call("setup", 120.0, deployments=deployments, timeout=timeout)
        return str(reply["version"])

    def setup_group(self, urls: list[str], rpm: list[int] | None, strategy: str) -> str:
        """Router with one model group ``primary`` of ``urls``, routed by ``strategy``."""
        reply = self._pipe.call("setup_group", 120.0, urls=urls, rpm=rpm, strategy=strategy)
        return str(reply["version"])

    def sequential(self, n: int) -> Timed:
        reply = self._pipe.call("seq", 300.0, n=n)
        return list(reply["latencies"]), float(reply["cpu"])

    def concurrent(self, n: int, c: int) -> Timed:
        reply = self._pipe.call("conc", 320.0, n=n, c=c)
        return list(reply["latencies"]), float(reply["cpu"])

    def stream(self, model: str, mode: str, n: int) -> tuple[list[float], float]:
        """``n`` streams from model group ``model``, ``mode`` "sync" or "async"."""
        reply = self._pipe.call("stream", 300.0, model=model, mode=mode, n=n)
        return list(reply["ttft"]), float(reply["cpu"])

    def responses(self, model: str, mode: str, n: int) -> tuple[list[float], float, float]:
        """``n`` Responses calls to model group ``model``, ``mode`` "plain", "sync" or
        "async" (streams): latencies or times to first text, CPU and wall seconds."""
        reply = self._pipe.call("responses", 300.0, model=model, mode=mode, n=n)
        return list(reply["firsts"]), float(reply["cpu"]), float(reply["wall"])

    def drill(
        self, t0: float, duration: float, rate: float, urls: list[str], seed: int | None = None
    ) -> list[list[Any]]:
        """The open-loop load of :func:`benchmarks._load.drill`, from LiteLLM's process."""
        wait = duration + 120.0
        reply = self._pipe.call(
            "drill", wait, t0=t0, duration=duration, rate=rate, urls=urls, seed=seed
        )
        return list(reply["records"])

    def close(self) -> None:
        self._pipe.close()
