"""The ``failover`` command (also ``python -m failover``): drill, doctor, health,
fake-server."""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from collections.abc import Sequence

from .._version import __version__

_EXTRA_HINT = 'this command needs the "{extra}" extra: pip install "failover[{extra}]"'

_DESCRIPTION = """\
Keep LLM-powered applications answering when a model provider goes down.

examples:
  failover drill                      replay an outage on fake providers (no keys)
  failover doctor                     check FAILOVER_CHAIN and probe each target
  failover health --watch             each target's state (the fleet's, with Redis)
  failover fake-server --port 8080    a fake OpenAI API for your own tests
"""

_DRILL = """\
Replay a provider outage against fake providers on 127.0.0.1: no keys, no network.
The primary refuses connections, then rate-limits, then hangs, and the chain answers
through it all.

With --processes N, N worker processes share the chain instead, the primary is down
for the first 60% of the run, and the calls it received from the whole fleet are
printed with health shared through Redis (--redis URL, or FAILOVER_REDIS_URL) and with
each process on its own.

examples:
  failover drill --seconds 20 --json drill.json
  failover drill --processes 4 --redis redis://localhost:6379/0 --seconds 6
"""

_DOCTOR = """\
Check the configuration the way the client reads it (every FAILOVER_* variable, each
target's key and base URL), then send one tiny request to each target. Keys are shown
masked, never in full.

example:
  FAILOVER_CHAIN=openai/gpt-5.4-mini,anthropic/claude-haiku-5-5 failover doctor
"""

_DOCTOR_EXIT = """\
exit status:
  0  the configuration is valid and every target answered (--offline: valid)
  1  valid, but some targets did not answer
  2  the command line itself was wrong
  3  the configuration is invalid: the client would refuse to start
  4  valid, but no target other than a static last resort answered
"""


_HEALTH = """\
Show each target's state (closed, open, half-open or cooling-down), when it may be
tried again and its failures, for the chain in FAILOVER_CHAIN. Nothing is sent to any
provider. With FAILOVER_REDIS_URL set the states are the whole fleet's, read from Redis;
without it health lives in each process, so use client.health() in your application.

examples:
  FAILOVER_REDIS_URL=redis://localhost:6379/0 failover health --watch
  failover health --json
"""


def _health(args: argparse.Namespace) -> int:
    from .health import run_health

    return run_health(as_json=args.json, watch=args.watch)


def _drill(args: argparse.Namespace) -> int:
    try:
        from ..drill import run_drill
        from ..drill._fleet import run_fleet_drill
    except ImportError as exc:
        print(_EXTRA_HINT.format(extra="drill"), f"({exc})", file=sys.stderr)
        return 2
    if args.processes:
        redis_url = args.redis or os.environ.get("FAILOVER_REDIS_URL") or None
        if redis_url and importlib.util.find_spec("redis") is None:
            print(_EXTRA_HINT.format(extra="redis"), "(--redis)", file=sys.stderr)
            return 2
        seconds = 8.0 if args.seconds is None else args.seconds
        return run_fleet_drill(args.processes, seconds, redis_url, args.json)
    seconds = 60.0 if args.seconds is None else args.seconds
    return run_drill(seconds, args.json, args.workers)


def _doctor(args: argparse.Namespace) -> int:
    from .doctor import run_doctor

    return run_doctor(timeout=args.timeout, offline=args.offline, as_json=args.json)


def build_parser() -> argparse.ArgumentParser:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(prog="failover", description=_DESCRIPTION, formatter_class=raw)
    parser.add_argument("--version", action="version", version=f"failover {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    drill = commands.add_parser(
        "drill",
        help="replay a provider outage on fake providers",
        description=_DRILL,
        formatter_class=raw,
    )
    drill.add_argument(
        "--seconds", type=float, help="length of the drill (default 60; with --processes 8)"
    )
    drill.add_argument("--json", metavar="PATH", help="write the summary as JSON to PATH")
    drill.add_argument("--workers", type=int, default=8, help="concurrent callers (default 8)")
    drill.add_argument(
        "--processes", type=int, metavar="N", help="run the fleet drill with N worker processes"
    )
    drill.add_argument(
        "--redis", metavar="URL", help="with --processes: share health through this Redis"
    )
    drill.set_defaults(func=_drill)

    doctor = commands.add_parser(
        "doctor",
        help="check the configuration and probe each target",
        description=_DOCTOR,
        epilog=_DOCTOR_EXIT,
        formatter_class=raw,
    )
    doctor.add_argument(
        "--timeout", type=float, default=20.0, help="seconds per probe (default 20)"
    )
    doctor.add_argument("--offline", action="store_true", help="check the configuration only")
    doctor.add_argument("--json", action="store_true", help="print the findings as JSON")
    doctor.set_defaults(func=_doctor)

    health = commands.add_parser(
        "health",
        help="show each target's state, sending nothing",
        description=_HEALTH,
        formatter_class=raw,
    )
    health.add_argument("--json", action="store_true", help="print the states as JSON")
    health.add_argument("--watch", action="store_true", help="refresh every second")
    health.set_defaults(func=_health)

    from ..testing._cli import add_fake_server_parser

    add_fake_server_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``failover`` console script and of ``python -m failover``."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
