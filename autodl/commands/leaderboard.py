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
        default=None,
        help="write results.csv, results.json, leaderboard.csv, leaderboard.html and "
        "codalab/ into this folder (default: none, the table is printed only)",
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
    if args.output is None:
        print(format_table(board))
        print("autodl leaderboard: nothing written (-o DIR writes the tables and the page)",
              file=sys.stderr)  # fmt: skip
        return 0
    from autodl.commands.run import check_output

    out = check_output("-o", args.output)
    from autodl import protocol

    write_results_table(out, results)
    paths = [out / protocol.RESULTS_CSV, out / protocol.RESULTS_JSON]
    paths += write_leaderboard(board, out, title=args.title)
    print(format_table(board))
    for path in paths:
        print(f"wrote {path}")
    return 0
