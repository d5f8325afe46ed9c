"""`autodl docker` (not implemented yet)."""

from __future__ import annotations

import argparse

HELP = "docker (not implemented yet)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def main(args: argparse.Namespace) -> int:
    raise SystemExit("autodl docker: not implemented yet")
