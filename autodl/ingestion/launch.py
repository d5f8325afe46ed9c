"""What the worker is started with: its staged box, user, TensorFlow mode, command line,
environment and first message, decided on the trusted side before it exists.

The worker sees a private staging folder (the ``<name>.data`` folder, hard-linked, and
the code), a scratch home, a scrubbed environment and nothing else of ours: no solution,
no output path. Run as root, it runs as an unprivileged uid (:mod:`.limits`). The
process itself is started by :class:`.child.Child`.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autodl.ingestion import limits as limits_mod
from autodl.ingestion import tfmode
from autodl.ingestion.interpreter import WorkerPython
from autodl.ingestion.options import IngestionOptions
from autodl.ingestion.outcome import RunEnd
from autodl.ingestion.sandbox import worker_env
from autodl.ingestion.sandbox.box import CODE, DATA, mounts_for
from autodl.ingestion.sandbox.bwrap import HOME
from autodl.ingestion.sandbox.staging import stage_box
from autodl.protocol import IngestionRecord, Status


@dataclass
class Launch:
    """The worker's command, environment, user, mounts and ``init`` message."""

    cmd: list[str]
    env: dict[str, str]
    home: Path  # its cwd outside a sandbox
    user: limits_mod.WorkerUser
    mounts: list
    # The first message: its paths and TF mode; "rlimits" is filled in once it is started.
    init: dict[str, Any]


def private_folder() -> Path:
    """A new private folder for one run, with ``shadow/`` for the predictions' copies."""
    # private/      0711, ours: shadow copies of the predictions (0700)
    #   box/        0711, the worker's world: data/, code/, home/ (its cwd and HOME)
    # Traversable, not listable: the worker reaches only the names it is given, and
    # two levels above its folders is still ours.
    private = Path(tempfile.mkdtemp(prefix="autodl-ingest-"))
    os.chmod(private, 0o711)
    (private / "shadow").mkdir(mode=0o700)
    return private


def prepare(
    task: Any,
    code_path: Path,
    output_dir: Path,
    options: IngestionOptions,
    python: WorkerPython,
    box: Path,
    result: IngestionRecord,
) -> Launch:
    """Stage ``box`` for the worker and say how to start it; notes go to ``result``.

    Raises :class:`RunEnd` (status ``error``) when the code cannot be staged or its
    TensorFlow mode cannot be chosen.
    """
    from autodl.submission import SubmissionError

    result.python = python.record()
    user = limits_mod.choose_user(
        options.worker_uid, None if python.current else python.runtime_paths()
    )
    note = user.reason
    if note and options.sandbox == "bwrap" and not user.dropped:
        note += (
            "; in the sandbox it is uid 65534 of its own user namespace, without any "
            "capability, and sees only its read-only mounts"
        )
    result.isolation = {"uid": user.uid, "privileges_dropped": user.dropped, "note": note}
    try:
        data_dir, code, home = stage_box(
            box,
            task,
            code_path,
            stage_data=options.stage_data,
            user=user,
            warnings=result.warnings,
        )
    except SubmissionError as e:
        raise RunEnd(Status.ERROR, str(e)) from None
    if user.dropped:
        note = limits_mod.protect_output(output_dir, user)
        if note:
            result.warnings.append(note)
    try:  # read on our side, before the worker exists: the code is never run for it
        choice = tfmode.choose(code, options.tf_mode)
    except tfmode.TFModeError as e:
        raise RunEnd(Status.ERROR, str(e)) from None
    result.tf_mode = choice.to_dict()
    sandboxed = options.sandbox == "bwrap"
    # In the sandbox the code and the data are mounted at fixed paths: the worker
    # never learns where they are on the host.
    seen_data = f"{DATA}/{data_dir.name}" if sandboxed else str(data_dir)
    mounts = mounts_for(code, data_dir, python) if sandboxed else []
    init = {
        "op": "init",
        # The worker lowers its own rlimits before it touches participant code (once
        # it runs as another uid, changing them from here would need CAP_SYS_RESOURCE);
        # set when it starts, where the cgroup says which ones it holds itself.
        "rlimits": {},
        "code_dir": CODE if sandboxed else str(code),
        "train_dir": f"{seen_data}/train",
        "test_dir": f"{seen_data}/test",
        "tf_mode": choice.mode,
        "numpy_aliases": python.numpy_aliases,
    }
    env = worker_env(
        Path(HOME) if sandboxed else home,
        options.gpus,
        options.cpu_threads,
        sandbox=options.sandbox if sandboxed else None,
        python=python,
    )
    if options.cache_limit is not None:
        env["AUTODL_CACHE_LIMIT"] = str(options.cache_limit)
    return Launch(
        cmd=[python.executable, "-m", "autodl.ingestion.worker"],
        env=env,
        home=home,
        user=user,
        mounts=mounts,
        init=init,
    )
