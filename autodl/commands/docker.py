"""`autodl docker`: build the harness's Docker images (CPU or CUDA), run one ingestion in a
container. Both need the Docker SDK (``autodl[docker]``); without it, one line says so."""

from __future__ import annotations

import argparse
import sys

HELP = "build the harness's Docker image (CPU or CUDA); run one ingestion in a container"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    b = sub.add_parser("build", help="build the CPU image (or the CUDA one with --gpu)")
    b.add_argument(
        "--gpu", action="store_true", help="build the CUDA image (docker/Dockerfile.cuda)"
    )
    b.add_argument(
        "--base",
        metavar="IMAGE",
        help="base image (default: python:3.11-slim; with --gpu an official pytorch/pytorch "
        "CUDA runtime image; without a registry: autodl-base:bookworm from "
        "docker/build-local-base.sh)",
    )
    b.add_argument(
        "--env",
        metavar="NAME",
        help="the image of a documented environment (`autodl env list`): its packages and "
        "the harness in one environment, tag autodl:NAME (docker/Dockerfile.env)",
    )
    b.add_argument(
        "--legacy",
        dest="env",
        action="store_const",
        const="legacy",
        help="the same as --env legacy: TensorFlow 2.15, numpy < 2 (autodl:legacy)",
    )
    b.add_argument(
        "--tag",
        help="image tag (default: autodl:cpu, autodl:cuda with --gpu, autodl:NAME with --env)",
    )
    b.add_argument(
        "--pip-option",
        action="append",
        default=[],
        metavar="OPT",
        help="extra option for `pip download` (repeatable), e.g. "
        "--pip-option=--extra-index-url=https://download.pytorch.org/whl/cpu",
    )
    b.add_argument("--context", metavar="DIR", help="keep the prepared build context in DIR")

    r = sub.add_parser(
        "ingest",
        help="run `autodl ingest` in a container, confined as on the platform",
        description="Run `autodl ingest` in a container: the submission and the dataset's "
        ".data folder mounted read-only (never the solution), no network, memory/CPU/process "
        "limits. Scoring stays outside: `autodl score` the output folder afterwards.",
    )
    r.add_argument(
        "--image", default=None, help="image (default: autodl:cpu, autodl:cuda with --gpus)"
    )
    for name, kwargs in (
        ("dataset_dir", {"required": True, "help": "task folder or its <name>.data folder"}),
        ("code_dir", {"required": True, "help": "submission folder or zip (model.py at the root)"}),
        ("output_dir", {"required": True, "help": "prediction folder (the only writable mount)"}),
        ("time_budget", {"type": float, "default": 1200.0, "help": "seconds (default 1200)"}),
        ("construction_budget", {"type": float, "default": None, "help": "seconds for Model()"}),
    ):
        r.add_argument(f"--{name}", f"--{name.replace('_', '-')}", dest=name, **kwargs)
    r.add_argument(
        "--memory", default=None, help="container memory limit, e.g. 8g (no swap; 0: no limit)"
    )
    r.add_argument("--cpus", type=float, default=None, help="CPUs, e.g. 4")
    r.add_argument("--pids", type=int, default=2048, help="process/thread limit (default 2048)")
    r.add_argument(
        "--gpus", default=None, help="GPUs handed to the container: all | 0,1 | none (default)"
    )
    r.add_argument(
        "--timeout", type=float, default=None, help="wall-clock kill (default: budgets + 120 s)"
    )


def main(args: argparse.Namespace) -> int:
    if args.action == "ingest":
        return _ingest(args)
    from autodl.docker import DockerError, build_image

    try:
        result = build_image(
            gpu=args.gpu,
            base=args.base,
            tag=args.tag,
            pip_options=args.pip_option,
            context_dir=args.context,
            env=args.env,
        )
    except DockerError as e:
        print(f"autodl docker: {e}", file=sys.stderr)
        return 2
    print(
        f"built {result.tag} ({result.image_id[:19]}) from {result.base}: "
        f"{result.size_bytes / 1e9:.2f} GB in {result.seconds:.0f} s"
    )
    return 0


def _ingest(args: argparse.Namespace) -> int:
    from autodl.docker import DEFAULT_TAGS, DockerError, ingest_in_container
    from autodl.resources import parse_gpus
    from autodl.submission import SubmissionError

    image = args.image or DEFAULT_TAGS["cuda" if parse_gpus(args.gpus) else "cpu"]
    try:
        return ingest_in_container(
            image,
            args.dataset_dir,
            args.code_dir,
            args.output_dir,
            args.time_budget,
            gpus=args.gpus,
            memory=args.memory,
            cpus=args.cpus,
            pids=args.pids,
            timeout=args.timeout,
            construction_budget=args.construction_budget,
        )
    except (DockerError, SubmissionError) as e:
        print(f"autodl docker: {e}", file=sys.stderr)
        return 2
