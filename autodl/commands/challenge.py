"""`autodl challenge`: every submission on every dataset, then the leaderboard."""

from __future__ import annotations

import argparse
import sys

from autodl.commands import UsageError
from autodl.commands.run import add_sandbox_argument

HELP = "run every submission of a challenge file on every dataset and rank them"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="the challenge YAML (see docs/challenge.md)")
    parser.add_argument(
        "-o",
        "--output",
        default=None,
        help="output folder; a failed or unfinished run there is run again, a finished one "
        "is kept (default: $AUTODL_HOME/challenges/<config name>, i.e. "
        "~/.cache/autodl/challenges/<config name>: never the current folder)",
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
    parser.add_argument(
        "--backend",
        choices=("local", "ray"),
        default="local",
        help="where runs go: this machine (default), or a Ray cluster (pip install "
        "'autodl[ray]'; see docs/challenge.md, 'Running on a cluster')",
    )
    parser.add_argument(
        "--address",
        default=None,
        help="with --backend ray: the cluster's address (default: $RAY_ADDRESS, else a "
        "Ray instance started on this machine)",
    )
    parser.add_argument(
        "--allow-failures",
        action="store_true",
        help="exit 0 even when runs failed (their statuses are in results.csv)",
    )
    parser.epilog = (
        "exit status: 0 when every run ended with a success status (ok, timeout, "
        "prediction_limit) and was scored; 1 when any did not (unless --allow-failures); "
        "2 for a usage error (nothing was run); 130 when interrupted (finished runs are "
        "kept: the same command resumes)."
    )


def main(args: argparse.Namespace) -> int:
    from pathlib import Path

    from autodl.challenge.config import ConfigError, load_config
    from autodl.commands.run import check_output, check_sandbox, docker_image, user_folder
    from autodl.docker import DockerError
    from autodl.ingestion.sandbox import SandboxUnavailable
    from autodl.resources import detect_gpus, parse_gpus

    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    if args.address is not None and args.backend != "ray":
        raise UsageError("--address goes with --backend ray")
    if not Path(args.config).is_file():
        raise UsageError(f"{args.config}: no such challenge file")
    try:
        config = load_config(args.config)
    except ConfigError as e:
        raise UsageError(str(e)) from None
    try:
        check_sandbox(args.sandbox, args.docker)
    except SandboxUnavailable as e:
        raise UsageError(str(e)) from None
    if args.output:
        out = check_output("-o", args.output)
    else:
        out = check_output("the output folder", user_folder("challenges") / Path(args.config).stem)
    gpus = parse_gpus(args.gpus)
    if gpus is None:
        gpus = detect_gpus()
    try:
        image = docker_image(args.docker, gpus)
    except DockerError as e:
        raise UsageError(str(e)) from None
    own = [s.name for s in config.submissions if s.python]
    if args.docker is not None and own:
        raise UsageError(
            f"submissions {', '.join(own)} name a python: which does not apply with --docker "
            "(the image holds the interpreter; the legacy environment: --docker autodl:legacy)"
        )
    from autodl.challenge.evaluate import run_challenge
    from autodl.challenge.leaderboard import format_table
    from autodl.challenge.runner import RunnerError

    backend = None
    if args.backend == "ray":
        from autodl.challenge.ray_backend import RayBackend, import_ray
        from autodl.challenge.runner import RunOptions

        try:
            import_ray()  # missing: one line naming the extra, before anything runs
        except RunnerError as e:
            raise UsageError(str(e)) from None
        backend = RayBackend(
            address=args.address,
            settings=config.cluster,
            options=RunOptions(docker_image=image, sandbox=args.sandbox),
            use_gpus=parse_gpus(args.gpus) != [],  # --gpus none: no job asks for one
        )
    print(
        f"{config.title}: {len(config.submissions)} submissions x {len(config.datasets)} "
        f"datasets into {out}" + ("" if args.output else " (-o to choose)"),
        file=sys.stderr,
    )
    try:
        outcome = run_challenge(
            config,
            out,
            n_jobs=args.jobs,
            gpus=gpus,
            docker_image=image,
            rerun_failed=args.rerun_failed,
            sandbox=args.sandbox,
            backend=backend,
        )
    except (RunnerError, DockerError) as e:
        raise UsageError(str(e)) from None
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
    failed = [r for r in outcome.results if not r.status.success or r.failed]
    if failed and not args.allow_failures:
        names = ", ".join(f"{r.submission} on {r.dataset} ({r.status})" for r in failed[:5])
        more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
        print(
            f"autodl challenge: {len(failed)} of {len(outcome.results)} runs failed: "
            f"{names}{more} (--allow-failures: exit 0 all the same)",
            file=sys.stderr,
        )
        return 1
    return 0
