"""Load generators shared by every contender (stdlib only: the LiteLLM venv imports it too).

* :func:`sequential` and :func:`concurrent` time calls for the overhead benchmark;
* :func:`drill` runs an open-loop load (evenly paced, or Poisson arrivals when given a
  seed) through an outage timeline and returns one record per call: ``[start, latency,
  ok, sends per port..., error]``, ``start`` in seconds since the timeline's ``t0``.

:data:`SENDS` is the per-call counter that each process's patched HTTP ``send``
increments (see :func:`count_sends`), so attempts are counted on the wire, the same
way for every contender, including those the server never sees (connection refused).
"""

from __future__ import annotations

import asyncio
import contextvars
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

SENDS: contextvars.ContextVar[Counter[int] | None] = contextvars.ContextVar("sends", default=None)
CALL_LIMIT = 30.0  # seconds; a safety net on any one call
MAX_CALLS = 10_000  # per drill


@contextmanager
def count_sends(client_class: Any) -> Iterator[None]:
    """Patch ``client_class.send`` (httpx2 or httpx AsyncClient) to count into SENDS."""
    original = client_class.send

    async def send(self: Any, request: Any, **kwargs: Any) -> Any:
        counter = SENDS.get()
        if counter is not None:
            counter[request.url.port or 0] += 1
        return await original(self, request, **kwargs)

    client_class.send = send
    try:
        yield
    finally:
        client_class.send = original


Timed = tuple[list[float], float]


def sequential(call: Callable[[], object], n: int) -> Timed:
    """Latency of ``n`` calls made one after another, and this process's CPU seconds."""
    out = []
    cpu = time.process_time()
    for _ in range(n):
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out, time.process_time() - cpu


async def concurrent(call: Callable[[], Awaitable[object]], n: int, c: int) -> Timed:
    """Latency of ``n`` calls made by ``c`` concurrent workers, and CPU seconds."""
    out: list[float] = []
    left = iter(range(n))
    cpu = time.process_time()

    async def worker() -> None:
        for _ in left:
            start = time.perf_counter()
            await call()
            out.append(time.perf_counter() - start)

    async with asyncio.timeout(300):
        await asyncio.gather(*(worker() for _ in range(c)))
    return out, time.process_time() - cpu


def arrivals(duration: float, rate: float, seed: int | None = None) -> list[float]:
    """Start offsets of an open-loop load: evenly paced (``i / rate``), or with a seed a
    Poisson process of the same mean rate, as independent users arrive. A seed gives
    every contender, in either process, the very same bursts."""
    if seed is None:
        return [i / rate for i in range(min(int(duration * rate), MAX_CALLS))]
    draw, at = random.Random(seed), 0.0
    out: list[float] = []
    while len(out) < MAX_CALLS:
        at += draw.expovariate(rate)
        if at >= duration:
            break
        out.append(at)
    return out


async def drill(
    call: Callable[[], Awaitable[object]],
    t0: float,
    duration: float,
    rate: float,
    ports: list[int],
    seed: int | None = None,
) -> list[list[Any]]:
    """Open-loop load: each call starts at wall-clock ``t0`` plus its offset from
    :func:`arrivals`, whether or not earlier calls have finished, so every contender gets
    the same calls in each phase and slow calls cannot hide the worst moments (no
    coordinated omission)."""
    records: list[list[Any]] = []

    async def one(began: float) -> None:
        await asyncio.sleep(max(0.0, t0 + began - time.time()))
        counter: Counter[int] = Counter()
        SENDS.set(counter)  # each task has its own context: the counter is this call's
        start, ok, error = time.perf_counter(), True, ""
        try:
            async with asyncio.timeout(CALL_LIMIT):
                await call()
        except Exception as exc:
            ok, error = False, type(exc).__name__
        latency = time.perf_counter() - start
        records.append([began, latency, ok, *(counter[p] for p in ports), error])

    await asyncio.gather(*(one(began) for began in arrivals(duration, rate, seed)))
    return records


def _has_content(chunk: Any) -> bool:
    """An OpenAI-shaped chunk (openai's, failover's or LiteLLM's) that carries text."""
    choices = chunk.choices
    return bool(choices and choices[0].delta.content)


def is_text_delta(event: Any) -> bool:
    """A Responses stream event (openai's, failover's or LiteLLM's) that carries text."""
    return bool(getattr(event, "type", None) == "response.output_text.delta")


Streamed = tuple[list[float], float]  # time to first content per stream, CPU seconds


def stream_sequential(
    open_stream: Callable[[], Any], n: int, content: Callable[[Any], bool] = _has_content
) -> Streamed:
    """``n`` streams read to the end one after another: each one's time to first
    content (from the call that opens it; ``content`` says which chunk or event carries
    it), and this process's CPU seconds for all."""
    ttft = []
    cpu = time.process_time()
    for _ in range(n):
        start = time.perf_counter()
        first = 0.0
        for chunk in open_stream():
            if not first and content(chunk):
                first = time.perf_counter() - start
        ttft.append(first)
    return ttft, time.process_time() - cpu


async def stream_async(
    open_stream: Callable[[], Awaitable[Any]],
    n: int,
    content: Callable[[Any], bool] = _has_content,
) -> Streamed:
    """:func:`stream_sequential` for async streams (one at a time on the loop)."""
    ttft = []
    cpu = time.process_time()
    for _ in range(n):
        start = time.perf_counter()
        first = 0.0
        async for chunk in await open_stream():
            if not first and content(chunk):
                first = time.perf_counter() - start
        ttft.append(first)
    return ttft, time.process_time() - cpu
