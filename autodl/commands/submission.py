"""`autodl submission` (not implemented yet)."""

from __future__ import annotations

import argparse

HELP = "submission (not implemented yet)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def main(args: argparse.Namespace) -> int:
    raise SystemExit("autodl submission: not implemented yet")
