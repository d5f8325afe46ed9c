"""The ``autodl`` command: one sub-command per verb.

Each verb lives in ``autodl/commands/<verb>.py`` and defines ``HELP`` (one line),
``add_arguments(parser)`` and ``main(args) -> int``. Those modules import only the
standard library at top level, so ``autodl --help`` stays fast; the real work is
imported inside ``main``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from autodl import __version__

# verb -> module under autodl.commands (the order is the order of --help).
VERBS: dict[str, str] = {
    "run": "run",
    "challenge": "challenge",
    "leaderboard": "leaderboard",
    "ingest": "ingest",
    "score": "score",
    "datasets": "datasets",
    "format": "format",
    "inspect": "inspect",
    "submission": "submission",
    "docker": "docker",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autodl",
        description="AutoDL challenges: data, ingestion, scoring, local runs and leaderboards.",
    )
    parser.add_argument("--version", action="version", version=f"autodl {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="COMMAND")
    for verb, module_name in VERBS.items():
        module = importlib.import_module(f"autodl.commands.{module_name}")
        p = sub.add_parser(verb, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_main=module.main)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verb is None:
        parser.print_help()
        return 0
    try:
        return int(args._main(args) or 0)
    except KeyboardInterrupt:
        print("autodl: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
