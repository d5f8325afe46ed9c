"""`autodl challenge`: every submission on every dataset, then the leaderboard."""

from __future__ import annotations

import argparse
import sys

from autodl.commands.run import add_sandbox_argument

HELP = "run every submission of a challenge file on every dataset and rank them"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="the challenge YAML (see docs/challenge.md)")
    parser.add_argument(
        "-o",
        "--output",
        default=None,
        help="output folder (default: challenge-<config name> beside the current folder)",
    )
    parser.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=1,
        help="runs at a time (at most one per GPU; default: 1)",
    )
    parser.add_argument(
        "--rerun-failed",
        action="store_true",
        help="run again the finished runs that failed (finished good runs are always kept)",
    )
    parser.add_argument(
        "--gpus",
        default=None,
        help="GPU ids to spread runs over, e.g. '0,1', or 'none'; default: detected",
    )
    parser.add_argument(
        "--docker",
        nargs="?",
        const="",
        default=None,
        metavar="IMAGE",
        help="run ingestion in containers of IMAGE (default: autodl:cpu / autodl:cuda)",
    )
    add_sandbox_argument(parser)


def main(args: argparse.Namespace) -> int:
    from pathlib import Path

    from autodl.challenge.config import ConfigError, load_config
    from autodl.challenge.evaluate import run_challenge
    from autodl.challenge.leaderboard import format_table
    from autodl.challenge.runner import RunnerError
    from autodl.commands.run import check_sandbox, docker_image
    from autodl.docker import DockerError
    from autodl.ingestion.sandbox import SandboxUnavailable
    from autodl.resources import detect_gpus, parse_gpus

    if args.jobs < 1:
        print("autodl challenge: --jobs must be at least 1", file=sys.stderr)
        return 2
    try:
        config = load_config(args.config)
    except ConfigError as e:
        print(f"autodl challenge: {e}", file=sys.stderr)
        return 2
    try:
        check_sandbox(args.sandbox, args.docker)
    except SandboxUnavailable as e:
        print(f"autodl challenge: {e}", file=sys.stderr)
        return 2
    gpus = parse_gpus(args.gpus)
    if gpus is None:
        gpus = detect_gpus()
    out = Path(args.output or f"challenge-{Path(args.config).stem}")
    print(
        f"{config.title}: {len(config.submissions)} submissions x {len(config.datasets)} "
        f"datasets into {out}",
        file=sys.stderr,
    )
    try:
        outcome = run_challenge(
            config,
            out,
            n_jobs=args.jobs,
            gpus=gpus,
            docker_image=docker_image(args.docker, gpus),
            rerun_failed=args.rerun_failed,
            sandbox=args.sandbox,
        )
    except (RunnerError, DockerError) as e:
        print(f"autodl challenge: {e}", file=sys.stderr)
        return 2
    print(format_table(outcome.leaderboard))
    for path in outcome.files:
        print(f"wrote {path}")
    if outcome.interrupted:
        print(
            "autodl challenge: interrupted; finished runs are kept, run the same command "
            "again to resume",
            file=sys.stderr,
        )
        return 130
    return 0
