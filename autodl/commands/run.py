"""`autodl run`: one submission on one dataset, ingestion and scoring side by side."""

from __future__ import annotations

import argparse
import sys

HELP = (
    "run one submission on one dataset with live scoring "
    "(default: the baseline on the built-in 'digits')"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dataset",
        default="digits",
        help="a task folder or a built-in dataset name (default: digits)",
    )
    parser.add_argument(
        "--code",
        default=None,
        help="the submission: a folder with model.py, or a zip (default: "
        "baselines/autodl_baseline of this checkout)",
    )
    parser.add_argument(
        "--time-budget",
        "--time_budget",
        dest="time_budget",
        type=float,
        default=60.0,
        help="seconds of ingestion; scoring stops the submission when they are spent (default: 60)",
    )
    parser.add_argument(
        "--construction-budget",
        dest="construction_budget",
        type=float,
        default=None,
        help="seconds allowed to build Model(metadata), not counted in the time budget",
    )
    parser.add_argument(
        "-o",
        "--output",
        default="runs",
        help="where runs go: OUTPUT/<submission>/<dataset>/ (default: ./runs)",
    )
    parser.add_argument(
        "--gpus",
        default=None,
        help="GPU ids to use, e.g. '0' or '0,1' (the first is used), or 'none'; "
        "default: detected with nvidia-smi",
    )
    parser.add_argument(
        "--docker",
        nargs="?",
        const="",
        default=None,
        metavar="IMAGE",
        help="run ingestion in a container of IMAGE (default image: autodl:cpu, or "
        "autodl:cuda with GPUs)",
    )
    add_sandbox_argument(parser)
    parser.add_argument(
        "--quiet", action="store_true", help="no live line, only the closing summary"
    )


def add_sandbox_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sandbox",
        choices=("bwrap", "none"),
        default="bwrap",
        help="bwrap (default): every submission runs in its own namespaces, and nothing "
        "starts where none can be made; none: unconfined, for trusted code only",
    )


def check_sandbox(sandbox: str, docker: str | None) -> None:
    """Refuse before any run starts when the sandbox asked for cannot be made here.

    Raises :class:`autodl.ingestion.sandbox.SandboxUnavailable` saying what is missing.
    A Docker run is confined by its container.
    """
    if sandbox == "none" or docker is not None:
        return
    from autodl.ingestion.sandbox import require

    require()


def docker_image(value: str | None, gpus: list[str] | None) -> str | None:
    """The image for ``--docker [IMAGE]``: the given one, else the harness's default tag.

    Raises :class:`autodl.docker.DockerError` (naming the extra) without the Docker SDK.
    """
    if value is None:
        return None
    from autodl.docker import DEFAULT_TAGS, require_sdk

    require_sdk()  # one line here, rather than the same failure in every job's log
    return value or DEFAULT_TAGS["cuda" if gpus else "cpu"]


def main(args: argparse.Namespace) -> int:
    from autodl.challenge.evaluate import run_single, summary_lines
    from autodl.challenge.runner import RunnerError
    from autodl.docker import DockerError
    from autodl.ingestion.sandbox import SandboxUnavailable
    from autodl.resources import detect_gpus, parse_gpus

    if args.time_budget <= 0:
        print("autodl run: --time-budget must be positive", file=sys.stderr)
        return 2
    try:
        check_sandbox(args.sandbox, args.docker)
    except SandboxUnavailable as e:
        print(f"autodl run: {e}", file=sys.stderr)
        return 2
    gpus = parse_gpus(args.gpus)
    if gpus is None:
        gpus = detect_gpus()
    try:
        result = run_single(
            code=args.code,
            dataset=args.dataset,
            time_budget=args.time_budget,
            output=args.output,
            gpus=gpus,
            docker_image=docker_image(args.docker, gpus),
            construction_budget=args.construction_budget,
            live=False if args.quiet else None,
            sandbox=args.sandbox,
        )
    except (RunnerError, DockerError) as e:
        print(f"autodl run: {e}", file=sys.stderr)
        return 2
    print("\n".join(summary_lines(result)))
    return 0
