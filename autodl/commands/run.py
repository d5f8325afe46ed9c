"""`autodl run`: one submission on one dataset, ingestion and scoring side by side."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from autodl.commands import UsageError, add_worker_arguments

HELP = (
    "run one submission on one dataset with live scoring "
    "(default: the baseline on the built-in 'cluttered_digits')"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dataset",
        default="cluttered_digits",
        help="a task folder or a built-in dataset name (default: cluttered_digits)",
    )
    parser.add_argument(
        "--code",
        default=None,
        help="the submission: a folder with model.py at its root, or a zip of one (a "
        "lone model.py file is refused: give its folder); default: "
        "baselines/autodl_baseline of this checkout",
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
        default=None,
        help="where runs go: OUTPUT/<submission>/<dataset>/, which an earlier run there "
        "leaves only when the new one starts (default: $AUTODL_HOME/runs, i.e. "
        "~/.cache/autodl/runs: never the current folder)",
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
    add_worker_arguments(parser)
    parser.add_argument(
        "--quiet", action="store_true", help="no live table or progress lines, only the summary"
    )
    parser.add_argument(
        "--show-output",
        action="store_true",
        help="show ingestion's log live, with what the model prints (it is always kept "
        "in OUTPUT/<submission>/<dataset>/logs/ingestion.log)",
    )
    parser.epilog = EXIT_EPILOG


def check_python(value: str | None, docker: str | None = None) -> None:
    """Refuse before any run starts when ``--python`` cannot run the worker
    (:class:`UsageError` naming the interpreter and what it lacks)."""
    if value is None:
        return
    if docker is not None:
        raise UsageError(
            f"--python {value} does not apply with --docker: the image holds the interpreter "
            "(the legacy environment: --docker autodl:legacy)"
        )
    from autodl.ingestion.interpreter import InterpreterError, resolve

    try:
        resolve(value)
    except InterpreterError as e:
        raise UsageError(str(e)) from None


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
    """The image for ``--docker [IMAGE]``: the given one, else the harness's default tag,
    checked before any run starts: the SDK, a live engine, the image with the harness.

    Raises :class:`autodl.docker.DockerError` saying which is missing, in about a second
    without an engine (one line here, rather than the same failure in every job's log).
    """
    if value is None:
        return None
    from autodl.docker import DEFAULT_TAGS
    from autodl.docker.engine import connect
    from autodl.docker.images import check_harness

    image = value or DEFAULT_TAGS["cuda" if gpus else "cpu"]
    check_harness(connect(timeout=PREFLIGHT_TIMEOUT), image)
    return image


# Seconds to wait for the Docker engine's answer before any run starts.
PREFLIGHT_TIMEOUT = 5.0

EXIT_EPILOG = (
    "exit status: 0 when the run ended with a success status (ok, timeout: the budget "
    "was used up while learning, prediction_limit) and was scored; otherwise the code of "
    "its status (docs/statuses.md: 1 error, 7 bad_prediction, 8 crashed, ...); 2 for a "
    "usage error (nothing was run)."
)


def user_folder(name: str) -> Path:
    """``$AUTODL_HOME/<name>`` (default ``~/.cache/autodl/<name>``): outputs that nobody
    asked to put elsewhere, kept out of the current folder (often a checkout)."""
    from autodl.data.samples import cache_dir

    return cache_dir().parent / name


def check_output(flag: str, path: str | os.PathLike[str], *, file: bool = False) -> Path:
    """``path`` made absolute, when a folder (``file``: a file) can be made or written
    there; else a :class:`UsageError` naming it. Nothing is created."""
    target = Path(os.path.expanduser(path)).absolute()
    if file and target.is_dir():
        raise UsageError(f"{flag} {path}: a folder, not a file")
    probe = target.parent if file else target
    while not probe.exists():
        if probe.is_symlink():
            raise UsageError(f"{flag} {path}: {probe} is a dangling link")
        probe = probe.parent
    if not probe.is_dir():
        raise UsageError(f"{flag} {path}: {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(f"{flag} {path}: cannot write into {probe} (permission denied)")
    return target


def check_code(path: str | os.PathLike[str] | None) -> None:
    """A usage error unless ``--code`` names a folder with model.py or a zip."""
    import zipfile

    if path is None:
        return
    p = Path(path)
    if not p.exists():
        raise UsageError(f"--code {path}: no such folder or zip")
    if p.is_dir():
        if not (p / "model.py").is_file():
            raise UsageError(f"--code {path}: no model.py at the root of the folder")
    elif not zipfile.is_zipfile(p):
        folder = p.parent if p.name == "model.py" else "DIR"
        raise UsageError(
            f"--code {path}: a file, not a submission; give the folder holding model.py "
            f"(--code {folder}) or a zip of it"
        )


def exit_code(result) -> int:
    """The exit status of a finished run: its status's code (docs/statuses.md), 0 for a
    success status, and bad_input's for a success status without any score."""
    from autodl.protocol import Status

    if not result.status.success:
        return result.status.exit_code
    return Status.BAD_INPUT.exit_code if result.failed else 0


def traceback_lines(result) -> list[str]:
    """The submission's traceback (its own frames) of a failed run, indented; [] if none."""
    from autodl.protocol import ProtocolError, read_ingestion_record

    if result.status.success or not result.run_dir:
        return []
    try:
        record = read_ingestion_record(result.folder.predictions)
    except (ProtocolError, OSError):
        return []
    if not record.traceback:
        return []
    lines = ["  the submission's traceback:"]
    lines += ["    " + line for line in record.traceback.rstrip().splitlines()]
    return lines


def main(args: argparse.Namespace) -> int:
    from autodl.docker import DockerError
    from autodl.ingestion.sandbox import SandboxUnavailable
    from autodl.resources import detect_gpus, parse_gpus

    if args.time_budget <= 0:
        raise UsageError("--time-budget must be positive")
    try:
        check_sandbox(args.sandbox, args.docker)
    except SandboxUnavailable as e:
        raise UsageError(str(e)) from None
    check_code(args.code)
    check_python(args.python, args.docker)
    if args.cache_limit is not None:
        from autodl.data.cache import parse_cache_limit

        try:
            limit = parse_cache_limit(args.cache_limit)
        except ValueError as e:
            raise UsageError(f"--cache-limit: {e}") from None
        # `autodl ingest`, started by the runner with this environment, hands it on
        if limit is not None:
            os.environ["AUTODL_CACHE_LIMIT"] = str(limit)
    if args.output:
        output = check_output("-o", args.output)
    else:
        output = check_output("the runs folder", user_folder("runs"))
    gpus = parse_gpus(args.gpus)
    if gpus is None:
        gpus = detect_gpus()
    try:
        image = docker_image(args.docker, gpus)  # first: no engine fails in about a second
    except DockerError as e:
        raise UsageError(str(e)) from None
    from autodl.challenge.evaluate import run_single, summary_lines
    from autodl.challenge.runner import RunnerError

    try:
        if not args.output:
            print(f"autodl run: runs go to {output} (-o to choose)", file=sys.stderr)
        result = run_single(
            code=args.code,
            dataset=args.dataset,
            time_budget=args.time_budget,
            output=output,
            gpus=gpus,
            docker_image=image,
            construction_budget=args.construction_budget,
            live=False if args.quiet else None,
            sandbox=args.sandbox,
            show_output=args.show_output,
            tf_mode=args.tf_mode,
            python=args.python,
        )
    except (RunnerError, DockerError) as e:
        raise UsageError(str(e)) from None
    print("\n".join(summary_lines(result) + traceback_lines(result)))
    return exit_code(result)
