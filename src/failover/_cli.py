"""The ``failover`` command: ``drill``, ``doctor`` and ``fake-server``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

_EXTRA_HINT = 'this command needs the "{extra}" extra: pip install "failover[{extra}]"'


def _drill(args: argparse.Namespace) -> int:
    try:
        from .drill import run_drill
    except ImportError as exc:
        print(_EXTRA_HINT.format(extra="drill"), f"({exc})", file=sys.stderr)
        return 2
    return run_drill(args.seconds, args.json, args.workers)


def _doctor(args: argparse.Namespace) -> int:
    from ._doctor import run_doctor

    return run_doctor(timeout=args.timeout)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``failover`` console script."""
    parser = argparse.ArgumentParser(prog="failover", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    drill = commands.add_parser("drill", help="replay a provider outage on embedded fake providers")
    drill.add_argument(
        "--seconds", type=float, default=60.0, help="length of the drill (default 60)"
    )
    drill.add_argument("--json", metavar="PATH", help="write the summary as JSON to PATH")
    drill.add_argument("--workers", type=int, default=8, help="concurrent callers (default 8)")
    drill.set_defaults(func=_drill)

    doctor = commands.add_parser(
        "doctor", help="check each configured target with one tiny request"
    )
    doctor.add_argument(
        "--timeout", type=float, default=20.0, help="seconds per target (default 20)"
    )
    doctor.set_defaults(func=_doctor)

    from .testing._cli import add_fake_server_parser

    add_fake_server_parser(commands)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
