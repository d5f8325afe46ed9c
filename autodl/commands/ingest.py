"""`autodl ingest` (not implemented yet)."""

from __future__ import annotations

import argparse

HELP = "ingest (not implemented yet)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def main(args: argparse.Namespace) -> int:
    raise SystemExit("autodl ingest: not implemented yet")
