"""`autodl datasets` (not implemented yet)."""

from __future__ import annotations

import argparse

HELP = "datasets (not implemented yet)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def main(args: argparse.Namespace) -> int:
    raise SystemExit("autodl datasets: not implemented yet")
