"""`autodl leaderboard`: rank the runs found in existing output or score folders."""

from __future__ import annotations

import argparse
import sys

HELP = "build the leaderboard from existing runs or score folders (merges several machines)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "dirs",
        nargs="+",
        metavar="DIR",
        help="challenge outputs, run folders or score folders (searched recursively)",
    )
    parser.add_argument(
        "-o",
        "--output",
        default="leaderboard",
        help="folder for leaderboard.csv, leaderboard.html and codalab/ (default: ./leaderboard)",
    )
    parser.add_argument("--title", default="AutoDL leaderboard", help="title of the HTML page")


def main(args: argparse.Namespace) -> int:
    from autodl.challenge.leaderboard import build_leaderboard, format_table, write_leaderboard
    from autodl.challenge.results import find_results, write_results_table

    try:
        results = find_results(args.dirs)
    except FileNotFoundError as e:
        print(f"autodl leaderboard: {e}", file=sys.stderr)
        return 2
    if not results:
        print(
            f"autodl leaderboard: no runs found under {', '.join(args.dirs)} (looked for "
            "result.json and scores.json)",
            file=sys.stderr,
        )
        return 1
    board = build_leaderboard(results)
    write_results_table(args.output, results)
    paths = write_leaderboard(board, args.output, title=args.title)
    print(format_table(board))
    for path in paths:
        print(f"wrote {path}")
    return 0
