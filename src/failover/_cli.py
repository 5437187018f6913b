"""The ``failover`` command: ``drill``, ``doctor`` and ``fake-server``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``failover`` console script."""
    parser = argparse.ArgumentParser(prog="failover", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    try:
        from .testing._cli import add_fake_server_parser
    except ImportError:
        add_fake_server_parser = None  # type: ignore[assignment]
    if add_fake_server_parser is not None:
        add_fake_server_parser(commands)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
