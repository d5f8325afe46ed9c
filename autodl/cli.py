"""The ``autodl`` command: one sub-command per verb.

Each verb lives in ``autodl/commands/<verb>.py`` and defines ``HELP`` (one line),
``add_arguments(parser)`` and ``main(args) -> int``. Those modules import only the
standard library at top level, so ``autodl --help`` stays fast; the real work is
imported inside ``main``. A verb raises :class:`autodl.commands.UsageError` for a bad
command line; the dispatcher turns it into one line and exit 2 (``USAGE_EXIT_CODE``).
Any other exception is a bug of the harness: a first line saying so, then the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from collections.abc import Sequence

from autodl import __version__
from autodl.commands import UsageError
from autodl.protocol.status import USAGE_EXIT_CODE

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
    "bundle": "bundle",
    "env": "env",
}


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error (argparse's own repeats the whole usage first)."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(USAGE_EXIT_CODE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="autodl",
        description="AutoDL challenges: data, ingestion, scoring, local runs and leaderboards.",
    )
    parser.add_argument("--version", action="version", version=f"autodl {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="COMMAND")
    for verb, module_name in VERBS.items():
        module = importlib.import_module(f"autodl.commands.{module_name}")
        p = sub.add_parser(verb, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_main=module.main, _parser=p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.verb is None:
        if extra:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        parser.print_help()
        return 0
    if extra:  # named by the verb's own parser: "autodl run: error: ..."
        args._parser.error(f"unrecognized arguments: {' '.join(extra)}")
    prog = f"autodl {args.verb}"
    try:
        return int(args._main(args) or 0)
    except UsageError as e:
        print(f"{prog}: {e}", file=sys.stderr)
        return USAGE_EXIT_CODE
    except KeyboardInterrupt:
        print("autodl: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - a bug of ours: say so first, then show it
        print(
            f"{prog}: internal error, a bug in autodl (please report it with the traceback "
            f"below): {type(e).__name__}: {e}",
            file=sys.stderr,
        )
        traceback.print_exc()
        return 1


if __name__ == "__main__":
    sys.exit(main())
