"""``failover fake-server``: run a fake provider from the command line (drills, demos).

The parser is importable without the ``testing`` extra; only running the server needs it.
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import TYPE_CHECKING

from ._faults import Fault
from ._records import RecordedRequest
from ._schedule import Phase, Schedule

if TYPE_CHECKING:
    from ._provider import FakeProvider

__all__ = ["add_fake_server_parser", "main", "run_fake_server"]

_DESCRIPTION = """\
Run a fake OpenAI, Anthropic, Azure OpenAI, Bedrock or Vertex AI API on HOST:PORT
that fails on demand (bedrock and vertex: Claude as the anthropic SDK's
AnthropicBedrock and AnthropicVertex clients call it).

examples:
  failover fake-server --api openai --port 8080
  failover fake-server --api anthropic --mode overloaded
  failover fake-server --api bedrock --enqueue quota      # 400 ServiceQuotaExceededException
  failover fake-server --api vertex --enqueue "rate_limit;error_code=list"
  failover fake-server --mode "status=503@0.3" --seed 7     # 30% of requests fail
  failover fake-server --schedule "5:ok,20:status=503,10:status=503@0.3" --loop
  failover fake-server --enqueue "rate_limit;retry_after=2" --enqueue cut=3

--mode is a standing fault (FAULT[@RATE]), --schedule a time-based outage
(SECONDS:FAULT[@RATE] phases, "ok" for healthy), --enqueue a fault for each of
the next requests, in order. Precedence: enqueued > schedule > mode > healthy.
"""

_EPILOG = """\
fault specs: KIND[=VALUE][;KEY=VALUE...]
  status=CODE  rate_limit  quota  context_length  content_filter  overloaded
  html[=CODE]  hang[=SECONDS]  slow_first_byte=SECONDS  drip=SECONDS
  keepalive=SECONDS  trickle[=SECONDS_PER_BYTE]
  cut[=N]  no_terminator[=N]  inband_error[=N]  malformed_json[=N]
  empty_choices  reset            (N: content chunks sent before the fault)
options for any kind: error_code, error_type, message, retry_after (seconds or
HTTP date), retry_after_ms, should_retry (true/false), header=NAME:VALUE
"""


def add_fake_server_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``fake-server`` sub-command; its handler is set as ``func``."""
    parser = subparsers.add_parser(
        "fake-server",
        help="run a fake OpenAI/Anthropic/Azure/Bedrock/Vertex API that fails on demand",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--api",
        choices=["openai", "anthropic", "azure", "bedrock", "vertex"],
        default="openai",
        help=(
            "wire format to speak (default openai; azure: Azure OpenAI's routes and errors; "
            "bedrock, vertex: Claude on AWS Bedrock or Google Vertex AI)"
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8080, help="port to bind (default 8080; 0 picks a free one)"
    )
    parser.add_argument("--name", default=None, help="name shown in the log")
    parser.add_argument("--reply", default=None, help="text of the healthy answer")
    parser.add_argument(
        "--mode",
        type=_mode,
        default=None,
        metavar="FAULT[@RATE]",
        help="standing fault for every request, e.g. overloaded or status=503@0.3",
    )
    parser.add_argument(
        "--schedule",
        default=None,
        metavar="PHASES",
        help='time-based outage, e.g. "5:ok,20:status=503,10:status=503@0.3"',
    )
    parser.add_argument("--loop", action="store_true", help="repeat the schedule forever")
    parser.add_argument("--seed", type=int, default=0, help="seed for partial failure rates")
    parser.add_argument(
        "--enqueue",
        action="append",
        default=[],
        type=Fault.parse,
        metavar="FAULT",
        help="fault for the next request (repeatable, in order)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    parser.set_defaults(func=run_fake_server)


def run_fake_server(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; returns the exit status."""
    try:
        from . import FakeProvider
    except ImportError as exc:
        print(f"failover fake-server: {exc}", file=sys.stderr)
        return 2
    try:
        fake = _build(FakeProvider, args).start()
    except (OSError, ValueError) as exc:
        print(f"failover fake-server: {exc}", file=sys.stderr)
        return 1
    print(f"fake {fake.api} provider {fake.name!r} listening; base_url={fake.base_url}", flush=True)
    try:
        _wait_for_signal()
    finally:
        fake.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry (``python -m failover.testing._cli fake-server ...``)."""
    parser = argparse.ArgumentParser(prog="failover")
    add_fake_server_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    status: int = args.func(args)
    return status


def _mode(text: str) -> Phase:
    """``--mode FAULT[@RATE]`` as an endless phase."""
    phase = Schedule.parse(f"0:{text}").phases[0]
    return Phase(math.inf, phase.fault, phase.rate)


def _build(provider: type[FakeProvider], args: argparse.Namespace) -> FakeProvider:
    fake = provider(
        args.api,
        host=args.host,
        port=args.port,
        name=args.name,
        on_request=None if args.quiet else _log,
    )
    if args.reply is not None:
        fake.set_reply(args.reply)
    mode: Phase | None = args.mode
    if mode is not None and mode.rate >= 1.0:
        fake.set_mode(mode.fault)
    elif mode is not None:  # a partial failure rate needs a schedule's seeded randomness
        if args.schedule is not None:
            raise ValueError("a --mode with a rate cannot be combined with --schedule")
        fake.set_schedule(Schedule([mode], seed=args.seed))
    if args.schedule is not None:
        fake.set_schedule(Schedule.parse(args.schedule, seed=args.seed, loop=args.loop))
    fake.enqueue(*args.enqueue)
    return fake


def _log(request: RecordedRequest) -> None:
    served = "ok" if request.fault is None else str(request.fault)
    stream = " stream" if request.stream else ""
    print(f"{request.method} {request.path}{stream} -> {served}", flush=True)


def _wait_for_signal() -> None:
    """Block the main thread until SIGINT or SIGTERM."""
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


if __name__ == "__main__":
    sys.exit(main())
