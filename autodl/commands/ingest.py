"""`autodl ingest`: run a submission's model.py on one task under a time budget."""

from __future__ import annotations

import argparse
import os
import sys

from autodl.commands import add_worker_arguments

HELP = "run a submission's model.py on one task, recording a prediction per train/test round"


def _both(parser: argparse.ArgumentParser, name: str, **kwargs) -> None:
    """An option under its reference spelling (--time_budget) and the dashed one."""
    flags = dict.fromkeys([f"--{name}", f"--{name.replace('_', '-')}"])
    parser.add_argument(*flags, dest=name, **kwargs)


EPILOG = (
    "What the model prints (stdout and stderr) is echoed on this command's stdout as it "
    "comes, up to --max_output (so it lands in the platform's or the runner's log). A "
    "failed run ends with the submission's traceback, its own frames only, on stderr; "
    "ingestion.json records it too. Exit status: the code of the recorded status "
    "(docs/statuses.md: 0 for ok, timeout, prediction_limit; 1 error, 7 bad_prediction, "
    "...), or 0 with --allow-failures; 2 for a usage error (nothing was run); 1 for a "
    "failure of ingestion itself."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    _both(parser, "dataset_dir", required=True, help="task folder (holding <name>.data)")
    _both(parser, "output_dir", required=True, help="prediction folder written by ingestion")
    _both(parser, "code_dir", required=True, help="submission folder or zip (model.py at root)")
    _both(parser, "ingestion_program_dir", default=None, help="accepted for compatibility")
    _both(parser, "score_dir", default=None, help="accepted for compatibility")
    _both(parser, "time_budget", type=float, default=1200.0, help="seconds (default 1200)")
    _both(
        parser,
        "construction_budget",
        type=float,
        default=1200.0,
        help="seconds for loading, import and Model(metadata); not counted in the time budget",
    )
    _both(parser, "gpus", default=None, help="CUDA_VISIBLE_DEVICES of the model: 0,1 | all | none")
    _both(parser, "memory_limit", default=None, help="worker memory cap, e.g. 8G (RLIMIT_DATA)")
    _both(parser, "max_processes", type=int, default=None, help="process/thread cap (RLIMIT_NPROC)")
    _both(parser, "cpu_threads", type=int, default=None, help="OMP/MKL/TF/torch thread count")
    _both(
        parser,
        "worker_uid",
        type=int,
        default=65534,
        help="uid of the model when ingestion runs as root (default 65534; -1 keeps root)",
    )
    _both(parser, "kill_grace", type=float, default=2.0, help="seconds between TERM and KILL")
    _both(parser, "max_output", default="10M", help="worker output echoed before dropping")
    _both(
        parser,
        "sandbox",
        choices=("bwrap", "container", "none"),
        default="bwrap",
        help="bwrap (default): the model runs in its own namespaces, and ingestion refuses "
        "to start where none can be made; container: ingestion runs inside the Docker "
        "runner's container, which confines it; none: unconfined, for trusted code only",
    )
    parser.add_argument(
        "--allow-network",
        dest="network",
        action="store_true",
        help="give the sandboxed model the host's network (default: its own loopback only)",
    )
    _both(parser, "scratch_size", default="1G", help="the model's private home+/tmp+/dev/shm")
    _both(
        parser,
        "max_predictions",
        type=int,
        default=10_000,
        help="end the run (status prediction_limit) after this many predictions; 0: no cap",
    )
    add_worker_arguments(parser)
    parser.add_argument(
        "--no-stage",
        dest="stage_data",
        action="store_false",
        help="give the model the dataset's own .data path (already isolated, e.g. a "
        "read-only container mount) instead of a private hard-linked copy",
    )
    parser.add_argument(
        "--allow-failures",
        action="store_true",
        help="exit 0 once a status is recorded, whatever it is, as the 2019 program did "
        "(the platform program ingestion/ingestion.py passes it: scoring still reads "
        "end.txt and the predictions made)",
    )
    parser.add_argument(
        "--no-progress",
        dest="progress",
        action="store_false",
        default=None,
        help="no progress: neither the live table on a terminal nor a line per round elsewhere",
    )


def main(args: argparse.Namespace) -> int:
    from textwrap import indent

    from autodl.data.cache import parse_cache_limit
    from autodl.ingestion.supervisor import HarnessError, IngestionOptions, ingest
    from autodl.protocol import Status
    from autodl.resources import parse_size

    try:
        options = IngestionOptions(
            time_budget=args.time_budget,
            construction_budget=args.construction_budget,
            gpus=args.gpus,
            memory=parse_size(args.memory_limit),
            max_processes=args.max_processes,
            cpu_threads=args.cpu_threads,
            worker_uid=None if args.worker_uid < 0 else args.worker_uid,
            kill_grace=args.kill_grace,
            max_output_bytes=parse_size(args.max_output) or 0,
            progress=args.progress,
            stage_data=args.stage_data,
            conceal_process=True,
            sandbox=args.sandbox,
            network=args.network,
            scratch_bytes=parse_size(args.scratch_size) or (1 << 30),
            max_predictions=args.max_predictions or None,
            python=args.python,
            tf_mode=args.tf_mode,
            cache_limit=parse_cache_limit(
                args.cache_limit
                if args.cache_limit is not None
                else os.environ.get("AUTODL_CACHE_LIMIT")
            ),
        )
        result = ingest(args.dataset_dir, args.output_dir, args.code_dir, options)
    except (HarnessError, ValueError) as e:
        print(f"autodl ingest: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # the output folder vanished or filled up mid-run
        print(f"autodl ingest: {e}", file=sys.stderr)
        return 1
    line = f"[ingestion] {result.task_name}: {result.status}, {result.num_predictions} predictions"
    line += f" in {result.ingestion_duration:.2f} s"
    if result.error:
        line += f": {result.error}"
    sandbox = result.isolation.get("sandbox") or {}
    if sandbox.get("kind") == "none":
        line += " [unconfined: --sandbox none]"
    elif sandbox.get("kind") == "docker":
        line += " [confined by its container]"
    print(line, file=sys.stderr)
    if result.traceback:  # the submission's own frames (a harness failure: ours, whole)
        whose = "ingestion's (a bug in autodl)" if result.harness_failure else "the submission's"
        print(f"[ingestion] {whose} traceback:", file=sys.stderr)
        print(indent(result.traceback.rstrip(), "  "), file=sys.stderr)
    if result.harness_failure:
        return 1
    if args.allow_failures:
        return 0
    # The status's code from the one table (docs/statuses.md): a script can tell an error
    # from a wrong shape; timeout and prediction_limit count as success (any-time learning).
    return Status.parse(result.status).exit_code
