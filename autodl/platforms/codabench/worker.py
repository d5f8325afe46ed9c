"""How Codabench's compute worker runs a bundle's programs, so a bundle can be tried here.

Our reading of the worker (``compute_worker/compute_worker.py``): a run is a folder
holding ``program/`` (the submission in the prediction step, the scoring program in
the scoring step), ``ingestion_program/``, ``input_data/``, ``input/ref`` (reference
data), ``input/res`` (the prediction step's output, in the scoring step), ``shared/`` and
``output/``. Each program folder runs in its own container, both side by side, from
the competition's image, with its ``metadata.yaml`` (else ``metadata``) command after
the variable substitution of :func:`substitute`, the working folder ``/app/program``,
the capabilities of :data:`CAP_DROP` dropped and ``no-new-privileges``, and no init (the
command is the container's PID 1). A program folder without a command is not run.
When both have ended, the worker writes ``output/metadata`` (exit codes and times), so
the scoring step finds that file among the predictions.

>>> substitute("python3 $program/score.py $input $output $hidden", "program", is_scoring=True)
'python3 /app/program/score.py /app/input /app/output /app/input/ref'
>>> substitute("python3 $ingestion_program/i.py $input $submission_program", "ingestion",
...            is_scoring=False)
'python3 /app/program/i.py /app/input_data /app/ingested_program'
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autodl import archives
from autodl.platforms.codabench.rules import read_metadata_command

CAP_DROP = (
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
    "NET_BIND_SERVICE", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
)  # fmt: skip


def substitute(
    command: str, kind: str, *, is_scoring: bool, ingestion_only_during_scoring: bool = False
) -> str:
    """The command after the worker's variable substitution, done in the worker's order
    (plain text replacement, no shell). ``kind`` is ``ingestion`` or ``program``."""
    pairs = (
        ("$input", "/app/input_data" if kind == "ingestion" else "/app/input"),
        ("$output", "/app/output"),
        (
            "$program",
            "/app/ingestion_program"
            if ingestion_only_during_scoring and is_scoring
            else "/app/program",
        ),
        ("$ingestion_program", "/app/program"),
        ("$hidden", "/app/input/ref"),
        ("$shared", "/app/shared"),
        ("$submission_program", "/app/ingested_program"),
        ("$tmp", "/app/output"),
        ("$predictions", "/app/input/res" if is_scoring else "/app/output"),
    )
    for var, value in pairs:
        command = command.replace(var, value)
    return command


def mounts(root: Path, kind: str, *, is_scoring: bool, data_dir: Path) -> dict[str, dict]:
    """The worker's binds for one container of a run folder ``root``."""
    program = root / ("ingestion_program" if kind == "ingestion" else "program")
    binds: dict[str, dict] = {
        str(program): {"bind": "/app/program", "mode": "z"},
        str(root / "output"): {"bind": "/app/output", "mode": "z"},
        str(data_dir): {"bind": "/app/data", "mode": "ro"},
    }
    if kind == "ingestion":
        binds[str(root / "program")] = {"bind": "/app/ingested_program", "mode": "rw"}
    if is_scoring:
        binds[str(root / "shared")] = {"bind": "/app/shared", "mode": "rw"}
        binds[str(root / "input")] = {"bind": "/app/input", "mode": "rw"}
    if (root / "input_data").is_dir():
        binds[str(root / "input_data")] = {"bind": "/app/input_data", "mode": "rw"}
    for host in binds:
        Path(host).mkdir(parents=True, exist_ok=True)
    return binds


def unpack(source: Path, dest: Path) -> None:
    """Put a bundle entry where the worker would: the platform stores a folder as the zip
    of its contents, and the worker extracts that zip into ``dest`` (new or empty).

    The worker calls zipfile's ``extractall``, which quietly rewrites a hostile name (drops
    ``..`` and a leading ``/``); here the rules of :mod:`autodl.archives` refuse it
    instead: :class:`~autodl.archives.ArchiveError` for a member that could land outside
    ``dest``, a link or an encrypted member, and nothing is left in ``dest``."""
    if source.is_dir():
        with tempfile.TemporaryDirectory(prefix="autodl-cb-") as tmp:
            archive = shutil.make_archive(os.path.join(tmp, source.name), "zip", source)
            archives.extract(archive, dest, name=f"{source} (as a zip)")
    else:
        archives.extract(source, dest)


@dataclass
class StepResult:
    """Exit codes (None: not run) and logs of the step's two containers."""

    exit_codes: dict[str, int | None] = field(default_factory=dict)
    logs: dict[str, str] = field(default_factory=dict)
    commands: dict[str, str] = field(default_factory=dict)


def run_step(
    client: Any, image: str, root: Path, *, is_scoring: bool, timeout: float
) -> StepResult:
    """Run ``program/`` and ``ingestion_program/`` of ``root`` side by side, each in its
    own container, as the worker does; waits for both (at most ``timeout`` seconds)."""
    data_dir = root / "data"
    result = StepResult()
    containers = []
    for kind, folder in (("program", root / "program"), ("ingestion", root / "ingestion_program")):
        command = read_metadata_command(folder) if folder.is_dir() else None
        if command is None:
            result.exit_codes[kind] = None
            continue
        command = substitute(command, kind, is_scoring=is_scoring)
        result.commands[kind] = command
        container = client.containers.create(
            image,
            command,
            volumes=mounts(root, kind, is_scoring=is_scoring, data_dir=data_dir),
            working_dir="/app/program",
            environment=["PYTHONUNBUFFERED=1"],
            cap_drop=list(CAP_DROP),
            security_opt=["no-new-privileges"],
            userns_mode="host",
        )
        containers.append((kind, container))
    threads = []
    started = time.monotonic()
    elapsed: dict[str, float] = {}

    def wait(kind: str, container: Any) -> None:
        try:
            status = container.wait(timeout=timeout)
            result.exit_codes[kind] = int(status.get("StatusCode", 1))
        except Exception as e:  # the step's limit passed: the worker kills the container
            result.exit_codes[kind] = None
            result.logs[kind + "_error"] = str(e)
            container.kill()
        elapsed[kind] = time.monotonic() - started

    try:
        for _, container in containers:
            container.start()
        for kind, container in containers:
            t = threading.Thread(target=wait, args=(kind, container), daemon=True)
            t.start()
            threads.append(t)
        for t in threads:
            t.join()
        for kind, container in containers:
            result.logs[kind] = container.logs().decode(errors="replace")
    finally:
        for _, container in containers:
            try:
                container.remove(force=True)
            except Exception:  # already gone
                pass
    _write_status(root / "output", result, elapsed)
    return result


def _write_status(output: Path, result: StepResult, elapsed: dict[str, float]) -> None:
    """The ``metadata`` file the worker adds to the output (the exit codes and times);
    the worker fails the run when a program already wrote a file of that name."""
    import yaml

    path = output / "metadata"
    if path.exists():
        raise RuntimeError(f"{path}: a program wrote 'metadata'; Codabench's worker refuses it")
    status = {
        "exitCode": result.exit_codes.get("program"),
        "elapsedTime": elapsed.get("program") or elapsed.get("ingestion"),
        "ingestionExitCode": result.exit_codes.get("ingestion"),
        "ingestionElapsedTime": elapsed.get("ingestion"),
    }
    path.write_text(yaml.dump(status, default_flow_style=False))
