"""What a caller of :func:`autodl.ingestion.ingest` decides: budgets and limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from autodl.ingestion import limits as limits_mod


class HarnessError(RuntimeError):
    """Ingestion itself cannot run (bad arguments, missing dataset): nothing was recorded."""


@dataclass
class IngestionOptions:
    """How a run is confined. Sizes in bytes, times in seconds; None means no limit."""

    time_budget: float = 1200.0
    construction_budget: float = 1200.0
    gpus: str | None = None  # None: inherit CUDA_VISIBLE_DEVICES; "all", "none", "0,1"
    memory: int | None = None
    max_processes: int | None = None
    cpu_threads: int | None = None
    worker_uid: int | None = limits_mod.NOBODY  # used only when running as root
    kill_grace: float = 2.0
    # Hard-link (or copy) the <name>.data folder into a private folder for the worker.
    # False hands the worker the dataset's own path, for a folder that is already
    # isolated (a read-only container mount of the .data folder alone); a task folder
    # holding its solution is staged anyway.
    stage_data: bool = True
    max_output_bytes: int = 10 * 1024 * 1024  # worker stdout/stderr echoed, then dropped
    progress: bool | None = None  # None: when stderr is a terminal
    echo: BinaryIO | None = None  # where worker output goes (default: our stdout)
    # Blank this process's /proc/<pid>/cmdline (it names the task and output folders) and
    # move its working folder to /: the `autodl ingest` command does; a library caller
    # decides for its own process.
    conceal_process: bool = False
    # "bwrap": the worker runs in its own namespaces (refused where none can be made);
    # "none": unconfined, for trusted code only (recorded as such).
    sandbox: str = "bwrap"
    network: bool = False  # the worker's own loopback only, unless True
    scratch_bytes: int = 1 << 30  # its private home, /tmp and /dev/shm together
    max_predictions: int | None = 10_000  # past it the run ends as prediction_limit
    # "auto": TF1 mode when the submission's code uses TF1-only names (ingestion/tfmode.py);
    # "1": tensorflow is tf.compat.v1 in graph mode; "2": TensorFlow as installed.
    tf_mode: str = "auto"
    # The worker's interpreter: None (ours), an environment's name (`autodl env`), a
    # virtual environment's folder or an interpreter's path (ingestion/interpreter.py).
    python: str | None = None
    # Bytes of decoded examples the worker's datasets keep (autodl.data.cache), handed to
    # it as AUTODL_CACHE_LIMIT; None: the default (4 GiB or a quarter of its memory).
    cache_limit: int | None = None
