"""What a Ray task does on its node: one job, run by the node's own autodl.

The submission and the dataset arrive as zip bytes (or as paths on shared storage); the
job runs exactly as a local one (:func:`autodl.challenge.runner.run_job`: sandboxed
ingestion and live scoring side by side) in a temporary folder of the node, which is
then sent back whole, less ``input_data/`` (the driver links its own copy of the
dataset there), and removed. While it runs, a thread reports the run's live state
(round, elapsed, NAUC, ALC) to the driver's progress actor.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import autodl
from autodl.challenge.runner import Job, RunnerError, RunOptions, run_job
from autodl.challenge.shipping import pack, unpack
from autodl.protocol import RESULT_FILE

# Seconds between two progress reports of a running job.
REPORT_INTERVAL = 1.0


@dataclass(frozen=True)
class NodeJob:
    """A job as the node receives it; its code and data come beside it."""

    key: str
    job: Job  # the driver's job; its paths are replaced by the node's (tf_mode, python:
    # as given, so an interpreter path or an environment's name must exist on the node)
    options: RunOptions
    code_is_zip: bool = False  # the submission is a zip file (else a folder's bundle)
    version: str = autodl.__version__


def _materialize(payload: bytes | str, dest: Path, *, as_file: str | None = None) -> Path:
    """A local path for shipped bytes (unpacked, or written as one file) or a shared path."""
    if isinstance(payload, str):
        path = Path(payload)
        if not path.exists():
            raise RunnerError(
                f"{path} is not on this node: shared_storage in the challenge's cluster section "
                "names a folder that this node does not see at the same place"
            )
        return path
    if as_file is not None:
        dest.mkdir(parents=True)
        (dest / as_file).write_bytes(payload)
        return dest / as_file
    unpack(payload, dest)
    return dest


def _reporter(board: Any, key: str, run_dir: Path, budget: float, stop: threading.Event) -> None:
    """Send the run's live state to the driver until ``stop``; never fails the job."""
    from autodl.challenge.live import read_state

    while not stop.wait(REPORT_INTERVAL):
        try:
            state = dataclasses.asdict(read_state(run_dir, budget))
            board.report.remote(key, state)
        except Exception:  # the driver's actor may be gone; the job goes on
            pass


def execute(spec: NodeJob, code: bytes | str, data: bytes | str, board: Any) -> tuple[dict, bytes]:
    """Run the job here; returns (its result as a dict, its run folder as zip bytes)."""
    import ray

    if spec.version != autodl.__version__:
        raise RunnerError(
            f"autodl {autodl.__version__} on this node, {spec.version} on the driver: "
            "install the same version everywhere"
        )
    # The driver's interpreter path means nothing here: this node's autodl runs the job.
    options = dataclasses.replace(spec.options, python=sys.executable)
    gpus = [str(g) for g in ray.get_gpu_ids()]
    tmp = Path(tempfile.mkdtemp(prefix="autodl-job-"))
    stop = threading.Event()
    try:
        try:
            board.report.remote(spec.key, {"started": False, "node_started_at": time.time()})
        except Exception:
            pass
        # A zip submission travels as it is: run_job extracts it into code/, as locally.
        code_path = _materialize(
            code, tmp / "submission", as_file=spec.job.code.name if spec.code_is_zip else None
        )
        task_dir = _materialize(data, tmp / "task")
        run_dir = tmp / "run"
        job = dataclasses.replace(spec.job, code=code_path, task_dir=task_dir, run_dir=run_dir)
        thread = threading.Thread(
            target=_reporter,
            args=(board, spec.key, run_dir, job.time_budget, stop),
            daemon=True,
        )
        thread.start()
        # ray.cancel raises KeyboardInterrupt here: run_job's cleanup ends both processes.
        result = run_job(job, gpu=gpus[0] if gpus else None, options=options)
        stop.set()
        assert result is not None  # nothing sets run_job's own stop event
        result.extra["ray_node"] = ray.get_runtime_context().get_node_id()
        # result.json stays behind: the driver writes it last, once the folder is in place.
        return result.to_dict(), pack(run_dir, exclude=("input_data", RESULT_FILE))
    finally:
        stop.set()
        shutil.rmtree(tmp, ignore_errors=True)
