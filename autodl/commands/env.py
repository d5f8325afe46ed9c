"""`autodl env build|list|path|record`: the environments a submission can run in."""

from __future__ import annotations

import argparse
import sys

HELP = "build, list and locate the environments a submission can run in (--python NAME)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    b = sub.add_parser(
        "build",
        help="build a documented environment (a virtual environment, from the registry)",
        description="Build a documented environment as a virtual environment under "
        "$AUTODL_ENVS (default ~/.cache/autodl/envs), replacing an older build once the "
        "new one is complete. pip's output shows the progress.",
    )
    b.add_argument("name", help="a name from `autodl env list` (e.g. legacy)")
    b.add_argument(
        "--base-python",
        metavar="PYTHON",
        help="the interpreter to make it from (default: ours when its version fits, else "
        "python3.X on PATH)",
    )
    b.add_argument(
        "--pip-option",
        action="append",
        default=[],
        metavar="OPT",
        help="extra option for `pip install` (repeatable)",
    )
    sub.add_parser("list", help="the documented environments, which are built, and where")
    p = sub.add_parser("path", help="print the interpreter of a built environment")
    p.add_argument("name", help="an environment name, or 'current'")
    r = sub.add_parser(
        "record",
        help="write the manifest of the running interpreter's environment as NAME "
        "(what the Docker build of an environment's image does)",
    )
    r.add_argument("name", help="a documented environment name")


def main(args: argparse.Namespace) -> int:
    from autodl import envs

    try:
        if args.action == "build":
            result = envs.build(args.name, base=args.base_python, pip_options=args.pip_option)
            print(result.python)
        elif args.action == "list":
            for info in envs.list_envs():
                where = info.prefix if info.prefix is not None else "-"
                version = info.manifest.get("python", {}).get("version", "")
                print(f"{info.name:<10} {info.state:<11} {version:<8} {where}")
                if info.summary:
                    print(f"{'':<10} {info.summary}")
        elif args.action == "path":
            if args.name == envs.CURRENT:
                print(sys.executable)
            else:
                print(envs.python_of(envs.env_prefix(args.name)))
        else:
            _record(args.name)
    except envs.EnvError as e:
        print(f"autodl env: {e}", file=sys.stderr)
        return 2
    return 0


def _record(name: str) -> None:
    from pathlib import Path

    from autodl import envs
    from autodl.protocol.atomic import write_json

    spec = envs.SPECS.get(name)
    if spec is None:
        raise envs.EnvError(f"no documented environment {name!r}")
    if sys.prefix == sys.base_prefix:
        raise envs.EnvError(f"{sys.executable} is not in a virtual environment")
    import subprocess

    check = subprocess.run([sys.executable, "-c", spec.check], check=False)
    if check.returncode != 0:
        raise envs.EnvError(f"environment {name!r}: its check failed ({spec.check})")
    manifest = envs.manifest_for(spec, Path(sys.executable), base=None, seconds=None)
    print(write_json(Path(sys.prefix) / envs.MANIFEST, manifest))
