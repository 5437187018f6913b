"""Run the drill: three fakes, the timeline, a steady mixed load through AsyncFailover."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live

from .._client import AsyncFailover
from .._config.local_models import local_model_installed
from .._config.policy import Policy, Target
from ..testing import Phase, Reply, Schedule
from ..testing._provider import FakeProvider
from ._stats import Stats
from ._storm import RATE, storm_chain, storm_fakes, storm_quotas, storm_summary
from ._timeline import DOWN, LOCAL_STEP, TIMELINE, Step, scaled
from ._view import live_view, summary_table

__all__ = ["run_drill"]

_MESSAGES = [{"role": "user", "content": "Summarise the status page in one sentence."}]
_ANSWER = "All systems operational; the incident is resolved and traffic is flowing normally."
# The fakes ignore it; it keeps the local model's answers to what the drill can wait for.
_MAX_TOKENS = 8
# One model on one machine answers one call at a time (8 tokens: some 0.25 s on 2 cores):
# while only it answers, one worker keeps calling. A second would queue behind it, and on
# a busy machine the wait plus its own answer can pass the drill's 1 s attempts.
_LOCAL_CALLERS = 1


def drill_policy(seconds: float) -> Policy:
    """Timeouts for a compressed timeline: a 1 s attempt, breakers that reset quickly."""
    return Policy(
        max_retries=1,
        backoff_base=0.05,
        backoff_max=0.5,
        timeout=20.0,
        attempt_timeout=1.0,
        connect_timeout=0.5,
        breaker_fail_max=3,
        breaker_reset=max(1.0, seconds / 30),
        first_token_timeout=1.0,
        stream_idle_timeout=2.0,
        stream_resume=True,
        hedge_after=0.25,  # the slow tail: a slow answer is raced on the next target
    )


_REPLY = Reply(_ANSWER, chunk_size=12)


@contextlib.contextmanager
def _fakes() -> Iterator[tuple[FakeProvider, FakeProvider, FakeProvider]]:
    reply = _REPLY
    with (
        FakeProvider("openai", reply=reply, name="primary") as primary,
        FakeProvider("anthropic", reply=reply, name="secondary") as secondary,
        FakeProvider("openai", reply=reply, name="in-house") as inhouse,
    ):
        yield primary, secondary, inhouse


def _chain(
    primary: FakeProvider, secondary: FakeProvider, inhouse: FakeProvider, local: bool
) -> list[Target]:
    key = "drill-key-not-secret"
    chain = [
        Target("openai", "gpt-5.4-mini", base_url=primary.base_url, api_key=key),
        Target(
            "anthropic",
            "claude-haiku-5-5",
            api="anthropic",
            base_url=secondary.base_url,
            api_key=key,
        ),
        Target("ollama", "llama3.2", base_url=inhouse.base_url),
    ]
    # The model in this process: after the self-hosted server, the end of the chain.
    return [*chain, Target.local()] if local else chain


def _apply(fake: FakeProvider, fault: Any, rate: float, seconds: float, seed: int) -> None:
    if fault is None:
        fake.set_schedule(None)
        fake.set_mode(None)
    else:
        fake.set_schedule(Schedule([Phase(seconds, fault, rate)], seed=seed))


async def _timeline(
    spans: list[tuple[float, float, Step]],
    stats: Stats,
    chain: list[Target],
    fakes: tuple[FakeProvider, FakeProvider, FakeProvider],
    deployments: Mapping[str, FakeProvider],
    say: Any,
) -> None:
    primary, secondary, inhouse = fakes
    started = time.monotonic()
    for index, (start, end, step) in enumerate(spans):
        await asyncio.sleep(max(0.0, start - (time.monotonic() - started)))
        if step.primary == DOWN:
            await asyncio.to_thread(primary.stop)
        else:
            if not primary.running:
                await asyncio.to_thread(primary.start)
            _apply(primary, step.primary, step.primary_rate, end - start, seed=index)
        _apply(secondary, step.secondary, step.secondary_rate, end - start, seed=100 + index)
        _apply(inhouse, step.inhouse, 1.0, end - start, seed=200 + index)
        dead = {chain[0].label} if step.primary_dead else set()
        if step.secondary_dead:
            dead.add(chain[1].label)
        if step.inhouse is not None:
            dead.add(chain[2].label)
        if step.storm:
            storm_quotas(deployments)
        stats.phase, stats.storm, stats.dead = step.name, step.storm, frozenset(dead)
        say(f"[{start:5.1f} s] {step.name}")


async def _one_call(client: AsyncFailover, rng: random.Random) -> tuple[str, str]:
    """One call, streamed or not (half each): its text and the label that answered."""
    if rng.random() < 0.5:
        stream = await client.chat.completions.create(
            messages=_MESSAGES, stream=True, max_tokens=_MAX_TOKENS
        )
        async with stream:
            text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        return text, stream.target.label if stream.target else "?"
    report = await client.chat.completions.with_report.create(
        messages=_MESSAGES, max_tokens=_MAX_TOKENS
    )
    return report.response.choices[0].message.content or "", report.target


async def _worker(
    clients: tuple[AsyncFailover, AsyncFailover | None],
    stats: Stats,
    until: float,
    seed: int,
    pace: float,
) -> None:
    """Calls until ``until``: a few dozen a second, or in a storm one per ``pace`` s."""
    rng = random.Random(seed)
    client, storm = clients
    while time.monotonic() < until:
        phase, started, storming = stats.phase, time.monotonic(), stats.storm
        if phase == LOCAL_STEP.name and seed >= _LOCAL_CALLERS:
            await asyncio.sleep(0.05)  # this worker's load waits for the servers' return
            continue
        try:
            text, label = await _one_call(storm if storming and storm else client, rng)
            # The fakes' answer must arrive intact; the real model's says what it says.
            if text != _ANSWER and not (label.startswith("local/") and text):
                raise AssertionError(f"answer was altered: {text!r}")
            stats.answered(label, time.monotonic() - started, phase)
        except Exception as error:  # every failure is counted, none may be hidden
            stats.failure(error, phase)
        if storming:
            await asyncio.sleep(max(0.0, pace - (time.monotonic() - started)))
        else:
            await asyncio.sleep(rng.uniform(0.0, 0.04))


@contextlib.asynccontextmanager
async def _display(console: Console, render: Any) -> AsyncIterator[None]:
    if not console.is_terminal:
        yield
        return
    with Live(render(), console=console, refresh_per_second=4, transient=False) as live:

        async def refresh() -> None:
            while True:
                await asyncio.sleep(0.25)
                live.update(render())

        task = asyncio.create_task(refresh())
        try:
            yield
        finally:
            task.cancel()
            live.update(render())


@contextlib.asynccontextmanager
async def _transitions_shown(console: Console) -> AsyncIterator[None]:
    """failover's transition lines (breakers, cool-downs, falling back) printed through
    the drill's console, above its live view rather than across it."""
    from rich.logging import RichHandler

    logger = logging.getLogger("failover")
    handler = RichHandler(console=console, show_time=False, show_path=False, markup=False)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def drill(
    seconds: float = 60.0,
    *,
    workers: int = 8,
    console: Console | None = None,
    timeline: Sequence[Step] = TIMELINE,
    local: bool | None = None,
) -> dict[str, Any]:
    """Run the drill and return its summary (see :meth:`Stats.summary`; with a storm in
    the ``timeline``, its deployments' figures under ``"storm"``). ``local``: end with the
    model in this process (by default, when ``failover[local]`` is installed)."""
    if console is None:
        console = Console()
        if not console.is_terminal:  # logs and CI: rich would cut target names at 80 columns
            console = Console(width=120)
    local = local_model_installed() if local is None else local
    spans = scaled(seconds, local, timeline)
    storming = any(step.storm for _, _, step in spans)
    stats = Stats(phase=spans[0][2].name)
    policy = drill_policy(seconds)
    async with contextlib.AsyncExitStack() as stack:
        fakes = stack.enter_context(_fakes())
        deployments = stack.enter_context(storm_fakes(_REPLY)) if storming else {}
        chain = _chain(*fakes, local)
        client = AsyncFailover(chain, policy=policy, on_attempt=stats.on_attempt)
        clients = [await stack.enter_async_context(client)]
        storm = None
        if storming:  # the storm's own chain: the deployments' group, then the secondary
            storm_client = AsyncFailover(
                storm_chain(deployments, chain[1]), policy=policy, on_attempt=stats.on_attempt
            )
            clients.append(storm := await stack.enter_async_context(storm_client))
        started = time.monotonic()

        def render() -> Any:
            return live_view(stats, clients, time.monotonic() - started, seconds)

        say = console.print if not console.is_terminal else (lambda _: None)
        await stack.enter_async_context(_display(console, render))
        await stack.enter_async_context(_transitions_shown(console))
        until, pace = started + seconds, workers / RATE
        await asyncio.gather(
            _timeline(spans, stats, chain, fakes, deployments, say),
            *(_worker((client, storm), stats, until, seed, pace) for seed in range(workers)),
        )
    summary = stats.summary(seconds, [s.name for _, _, s in spans])
    if storming:
        summary["storm"] = storm_summary(summary["targets"])
    console.print(summary_table(summary))
    return summary


def run_drill(seconds: float = 60.0, json_path: str | None = None, workers: int = 8) -> int:
    """Blocking entry point for ``failover drill``; exit status 0 only if nothing failed."""
    summary = asyncio.run(drill(seconds, workers=workers))
    if json_path:
        Path(json_path).write_text(json.dumps(summary, indent=2) + "\n")
    return 0 if summary["failed"] == 0 else 1
