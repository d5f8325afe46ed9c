"""`autodl bundle CONFIG -o competition.zip`: a Codabench competition bundle."""

from __future__ import annotations

import argparse
import sys

HELP = "make a Codabench competition bundle (competition.yaml v2) from a challenge YAML"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="the challenge YAML (see docs/challenge.md)")
    parser.add_argument(
        "-o", "--output", default="competition.zip", help="the zip to write (default: %(default)s)"
    )
    parser.add_argument(
        "--docker-image",
        "--docker_image",
        default="autodl:cpu",
        help="the image Codabench runs the programs in; it must hold the autodl package "
        "and be pullable by the platform's workers (default: %(default)s)",
    )
    parser.add_argument(
        "--sample", help="the challenge submission used as the sample (default: the first)"
    )
    parser.add_argument("--start", help="the phase's start date, YYYY-MM-DD (default: today)")


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"


def main(args: argparse.Namespace) -> int:
    import datetime as dt

    from autodl.challenge.config import ConfigError
    from autodl.platforms.codabench.bundle import build_bundle
    from autodl.platforms.codabench.rules import BundleError
    from autodl.submission import SubmissionError

    start = None
    if args.start:
        try:
            start = dt.date.fromisoformat(args.start)
        except ValueError:
            print(f"autodl bundle: error: --start {args.start!r}: not YYYY-MM-DD", file=sys.stderr)
            return 2
    try:
        report = build_bundle(
            args.config,
            args.output,
            docker_image=args.docker_image,
            sample=args.sample,
            start=start,
            progress=lambda line: print(line, file=sys.stderr),
        )
    except (ConfigError, BundleError, SubmissionError, OSError) as e:
        print(f"autodl bundle: error: {e}", file=sys.stderr)
        return 2
    s = report.summary
    print(
        f"{report.path}: {_size(report.zip_bytes)} zipped, {s.tasks} task(s), "
        f"execution_time_limit {report.execution_time_limit} s, columns {', '.join(s.columns)}"
    )
    for name, size in s.files.items():
        print(f"  {_size(size):>9}  {name}")
    print(f"  {_size(s.total_bytes):>9}  in all (unzipped)")
    for w in report.warnings:
        print(f"autodl bundle: warning: {w}", file=sys.stderr)
    return 0
