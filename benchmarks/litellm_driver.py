"""The LiteLLM side of the benchmarks. RUNS INSIDE benchmarks/.venv-litellm ONLY.

It imports litellm and httpx, which the main virtualenv does not have (LiteLLM pins
openai<3 on httpx; failover needs openai>=3.54 on httpx2), hence the ignores on those
imports. Started as ``python -m benchmarks.litellm_driver`` from the repo root; besides
litellm it uses only benchmarks._load (stdlib). It speaks JSON lines with the parent
(benchmarks/_peer.py): one request line, one reply line.

Ops: ``setup`` (build a Router), ``setup_group`` (one model group of deployments),
``seq`` and ``conc`` (overhead latencies), ``stream``
(streams read to the end, from a model group given by name), ``responses`` (the
Router's ``responses()``/``aresponses()``, plain or streamed), ``drill`` (steady load
through an outage timeline), ``quit``.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
import logging
import os
import sys
import time
from typing import Any
from urllib.parse import urlsplit

import httpx  # type: ignore[import-not-found, unused-ignore]
import litellm  # type: ignore[import-not-found, unused-ignore]

from benchmarks import _load

MESSAGES = [{"role": "user", "content": "Say hello."}]
INPUT = "Say hello."  # the Responses API's input (benchmarks/responses.py)


def make_router(deployments: dict[str, str], timeout: float | None) -> Any:
    """Model group ``primary`` falls back to ``backup``; LiteLLM's defaults otherwise
    (num_retries=2, cooldown_time=5 s, failure-rate cooldowns)."""
    model_list = []
    for name, url in deployments.items():
        params: dict[str, Any] = {"model": "openai/fake-model", "api_base": url, "api_key": "x"}
        if timeout is not None:
            params["timeout"] = timeout
        model_list.append({"model_name": name, "litellm_params": params})
    fallbacks = [{"primary": ["backup"]}] if {"primary", "backup"} <= set(deployments) else []
    return litellm.Router(model_list=model_list, fallbacks=fallbacks)


def make_group_router(urls: list[str], rpm: list[int] | None, strategy: str) -> Any:
    """One model group ``primary`` of several deployments, told each one's rpm or not."""
    model_list = []
    for i, url in enumerate(urls):
        params = {"model": "openai/fake-model", "api_base": url, "api_key": "x"}
        deployment: dict[str, Any] = {"model_name": "primary", "litellm_params": params}
        if rpm is not None:
            deployment["rpm"] = rpm[i]
        model_list.append(deployment)
    return litellm.Router(model_list=model_list, routing_strategy=strategy)


def handle(request: dict[str, Any], state: dict[str, Any], loop: asyncio.AbstractEventLoop) -> Any:
    op = request["op"]
    if op == "setup":
        state["router"] = make_router(request["deployments"], request.get("timeout"))
        return {"version": importlib.metadata.version("litellm")}
    if op == "setup_group":
        state["router"] = make_group_router(request["urls"], request["rpm"], request["strategy"])
        return {"version": importlib.metadata.version("litellm")}
    router = state["router"]

    def call() -> Any:
        return router.completion(model="primary", messages=MESSAGES)

    def acall() -> Any:
        return router.acompletion(model="primary", messages=MESSAGES)

    if op == "seq":
        latencies, cpu = _load.sequential(call, request["n"])
        return {"latencies": latencies, "cpu": cpu}
    if op == "conc":
        timed = _load.concurrent(acall, request["n"], request["c"])
        latencies, cpu = loop.run_until_complete(timed)
        return {"latencies": latencies, "cpu": cpu}
    if op == "stream":
        model, n = request["model"], request["n"]
        if request["mode"] == "sync":
            ttft, cpu = _load.stream_sequential(
                lambda: router.completion(model=model, messages=MESSAGES, stream=True), n
            )
        else:
            opener = lambda: router.acompletion(model=model, messages=MESSAGES, stream=True)  # noqa: E731
            ttft, cpu = loop.run_until_complete(_load.stream_async(opener, n))
        return {"ttft": ttft, "cpu": cpu}
    if op == "responses":
        return _responses(router, request["model"], request["mode"], request["n"], loop)
    if op == "drill":
        ports = [urlsplit(u).port or 0 for u in request["urls"]]
        with _load.count_sends(httpx.AsyncClient):
            job = _load.drill(
                acall,
                request["t0"],
                request["duration"],
                request["rate"],
                ports,
                request.get("seed"),
            )
            return {"records": loop.run_until_complete(job)}
    return {"error": f"unknown op {op!r}"}


def _responses(
    router: Any, model: str, mode: str, n: int, loop: asyncio.AbstractEventLoop
) -> dict[str, Any]:
    """``n`` Responses calls: "plain" (latencies), or streams read to the end, "sync" or
    "async" (times to the first text delta); with CPU and wall seconds for all ``n``."""
    started = time.perf_counter()
    if mode == "plain":
        firsts, cpu = _load.sequential(lambda: router.responses(model=model, input=INPUT), n)
    elif mode == "sync":
        opener = lambda: router.responses(model=model, input=INPUT, stream=True)  # noqa: E731
        firsts, cpu = _load.stream_sequential(opener, n, _load.is_text_delta)
    else:
        aopener = lambda: router.aresponses(model=model, input=INPUT, stream=True)  # noqa: E731
        firsts, cpu = loop.run_until_complete(_load.stream_async(aopener, n, _load.is_text_delta))
    return {"firsts": firsts, "cpu": cpu, "wall": time.perf_counter() - started}


def main() -> int:
    out = os.fdopen(os.dup(1), "w", buffering=1)  # the protocol; LiteLLM's prints -> stderr
    os.dup2(2, 1)
    litellm.suppress_debug_info = True
    logging.disable(logging.WARNING)
    loop = asyncio.new_event_loop()  # one loop for the process: LiteLLM caches async clients
    state: dict[str, Any] = {}
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "quit":
            out.write(json.dumps({"ok": True}) + "\n")
            break
        try:
            reply = handle(request, state, loop)
        except Exception as exc:
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(reply) + "\n")
    loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
