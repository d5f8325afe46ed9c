"""`autodl docker`: build the harness's Docker images (CPU or CUDA)."""

from __future__ import annotations

import argparse
import sys

HELP = "build the Docker image of the harness (CPU, or CUDA with --gpu)"


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
    b.add_argument("--tag", help="image tag (default: autodl:cpu, or autodl:cuda with --gpu)")
    b.add_argument(
        "--pip-option",
        action="append",
        default=[],
        metavar="OPT",
        help="extra option for `pip download` (repeatable), e.g. "
        "--pip-option=--extra-index-url=https://download.pytorch.org/whl/cpu",
    )
    b.add_argument("--context", metavar="DIR", help="keep the prepared build context in DIR")


def main(args: argparse.Namespace) -> int:
    from autodl.docker import DockerError, build_image

    try:
        result = build_image(
            gpu=args.gpu,
            base=args.base,
            tag=args.tag,
            pip_options=args.pip_option,
            context_dir=args.context,
        )
    except DockerError as e:
        print(f"autodl docker: {e}", file=sys.stderr)
        return 2
    print(
        f"built {result.tag} ({result.image_id[:19]}) from {result.base}: "
        f"{result.size_bytes / 1e9:.2f} GB in {result.seconds:.0f} s"
    )
    return 0
