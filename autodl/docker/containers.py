"""Running a submission's ingestion in a container: mounts, limits, logs, waiting, and the
host's record when the container could not write one.

:func:`ingest_in_container` runs ``autodl ingest`` in a container: the submission and the
dataset's ``<name>.data`` folder (never the solution) mounted read-only, the output folder
the only writable mount, no network, memory / CPU / process limits, GPUs on request.
Whatever happens inside, ``ingestion.json`` ends up in the output folder: when the
container dies before the supervisor could record a status (memory limit, wall clock),
the host records it.

>>> _ingest_flags({"construction_budget": 60, "verbose": True, "quiet": False})
['--construction-budget', '60', '--verbose']
>>> rc = ingest_in_container("autodl:cpu", "digits", "baselines/zero", "out", 60)  # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from autodl.docker.engine import DockerError, connect, first_line, require_sdk
from autodl.docker.images import check_harness
from autodl.resources import ALL_GPUS, detect_gpus, parse_gpus, parse_size

if TYPE_CHECKING:
    from docker.models.containers import Container

    import docker as docker_sdk

# Where things live inside the image (Codabench's layout, so the image also serves as a
# Codabench `docker_image`).
APP_DATA = "/app/input_data"
APP_CODE = "/app/ingested_program"
APP_OUTPUT = "/app/output"
# Seconds allowed beyond the budgets before the host kills the container: start-up,
# imports and the supervisor's own grace period.
WALL_GRACE = 120.0
DEFAULT_CONSTRUCTION_BUDGET = 1200.0  # autodl ingest's default


def _find_data_dir(dataset_dir: Path) -> tuple[str, Path]:
    """(task name, ``<name>.data`` folder) of a task folder or of a ``.data`` folder."""
    from autodl.data import DataError, find_task

    try:
        task = find_task(dataset_dir)
    except DataError as e:
        raise DockerError(str(e)) from None
    return task.name, Path(task.data_dir).resolve()


def _ingest_flags(options: Mapping[str, Any]) -> list[str]:
    reserved = {"dataset_dir", "output_dir", "code_dir", "score_dir"}
    out: list[str] = []
    for key, value in options.items():
        if key in reserved:
            raise DockerError(f"ingest option {key!r} is set by the container run itself")
        if value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        if value is True:
            out.append(flag)
        elif isinstance(value, (list, tuple)):
            out += [flag, *map(str, value)]
        else:
            out += [flag, str(value)]
    return out


def _forward_logs(container: Container, stdout: IO[str], stderr: IO[str]) -> list[threading.Thread]:
    def pump(out: IO[str], **which: bool) -> None:
        try:
            for chunk in container.logs(stream=True, follow=True, **which):
                out.write(chunk.decode(errors="replace"))
                out.flush()
        except Exception:  # the container went away: nothing more to forward
            pass

    threads = [
        threading.Thread(
            target=pump, args=(stdout,), kwargs={"stdout": True, "stderr": False}, daemon=True
        ),
        threading.Thread(
            target=pump, args=(stderr,), kwargs={"stdout": False, "stderr": True}, daemon=True
        ),
    ]
    for t in threads:
        t.start()
    return threads


def ingest_in_container(
    image: str,
    dataset_dir: str | os.PathLike[str],
    code_dir: str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    time_budget: float,
    gpus: str | int | Sequence[int | str] | None = None,
    memory: int | str | None = None,
    cpus: float | None = None,
    pids: int | None = 2048,
    *,
    timeout: float | None = None,
    shm_size: str | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    client: docker_sdk.DockerClient | None = None,
    **ingest_options: Any,
) -> int:
    """Run ``autodl ingest`` for one task in a fresh container; returns its exit code
    (that of the status finally recorded in ``ingestion.json``, as `autodl ingest` exits).

    ``dataset_dir`` is a task folder or its ``<name>.data`` folder: only the ``.data``
    folder is mounted (read-only), so the solution cannot be seen. ``code_dir`` is a
    submission folder or zip (:func:`autodl.submission.resolve_code`), mounted read-only.
    ``output_dir`` is the only writable mount. The container has no network, at most
    ``memory`` (bytes or "4g"; no swap beyond it), ``cpus`` CPUs and ``pids`` processes,
    and the GPUs in ``gpus`` ("all", "0,1", [0, 1]; none by default). Other keyword
    arguments become ``autodl ingest`` flags (``construction_budget=60`` ->
    ``--construction-budget 60``).

    The container is killed after ``timeout`` seconds (default: both budgets plus
    2 minutes). When it dies before the supervisor inside records a status, the host
    writes ``ingestion.json`` (``out_of_memory`` when the memory limit killed it,
    ``killed`` on the wall clock, ``crashed`` otherwise) and ``end.txt``, and 0 is
    returned, as ``autodl ingest`` does once a status is recorded. Raises
    :class:`DockerError` when the run cannot start (no engine, no image, no harness in
    the image, GPUs asked of a host without any).
    """
    require_sdk()
    from docker.errors import APIError
    from docker.types import DeviceRequest

    from autodl.submission import resolve_code

    dataset_dir, output_dir = Path(dataset_dir), Path(output_dir)
    try:
        mem = parse_size(memory)
    except (TypeError, ValueError) as e:
        raise DockerError(f"memory limit: {e}") from None
    if not dataset_dir.exists():
        raise DockerError(f"{dataset_dir}: no such dataset folder")
    task_name, data_dir = _find_data_dir(dataset_dir)
    client = client or connect()
    check_harness(client, image)
    gpu_ids = parse_gpus(gpus) or []
    host_gpus = detect_gpus(environ={}) if gpu_ids else []  # Docker hands over host GPUs
    if gpu_ids and not host_gpus:
        raise DockerError(f"GPUs {gpus!r} requested but this host has no NVIDIA GPU")
    output_dir.mkdir(parents=True, exist_ok=True)
    construction = float(ingest_options.get("construction_budget") or DEFAULT_CONSTRUCTION_BUDGET)
    wall = timeout if timeout is not None else float(time_budget) + construction + WALL_GRACE
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr

    with tempfile.TemporaryDirectory(prefix="autodl-code-") as work:
        code = resolve_code(code_dir, work)
        args = [
            "python3",
            "-m",
            "autodl",
            "ingest",
            "--dataset_dir",
            f"{APP_DATA}",
            "--code_dir",
            APP_CODE,
            "--output_dir",
            APP_OUTPUT,
            "--time_budget",
            str(time_budget),
            # The container is the sandbox (its mounts, no network, its limits): bubblewrap's
            # namespaces cannot be made inside it without loosening it.
            "--sandbox",
            "container",
        ]
        device_requests = None
        environment = {"PYTHONDONTWRITEBYTECODE": "1"}
        if os.environ.get("AUTODL_CACHE_LIMIT"):  # `autodl run --cache-limit`, or the caller's
            environment["AUTODL_CACHE_LIMIT"] = os.environ["AUTODL_CACHE_LIMIT"]
        if gpu_ids:
            # Inside the container the GPUs handed over are renumbered from 0.
            if gpu_ids == [ALL_GPUS]:
                device_requests = [DeviceRequest(count=-1, capabilities=[["gpu"]])]
                inner = [str(i) for i in range(len(host_gpus))]
            else:
                device_requests = [DeviceRequest(device_ids=gpu_ids, capabilities=[["gpu"]])]
                inner = [str(i) for i in range(len(gpu_ids))]
            args += ["--gpus", ",".join(inner)]
        if cpus and "cpu_threads" not in ingest_options:
            # Libraries size their thread pools by the host's cores, not the CPU quota.
            args += ["--cpu_threads", str(max(1, math.floor(cpus)))]
        args += _ingest_flags(ingest_options)
        owner = f"{os.getuid()}:{os.getgid()}" if os.getuid() != 0 else ""
        command = ["sh", "-c", _ENTRY_SCRIPT, "sh", str(math.ceil(wall + 30)), owner, *args]
        volumes = {
            str(data_dir): {"bind": f"{APP_DATA}/{data_dir.name}", "mode": "ro"},
            str(code): {"bind": APP_CODE, "mode": "ro"},
            str(output_dir.resolve()): {"bind": APP_OUTPUT, "mode": "rw"},
        }
        try:
            container = client.containers.create(
                image,
                command,
                volumes=volumes,
                network_mode="none",
                mem_limit=mem,
                memswap_limit=mem,  # equal to mem_limit: no swap on top
                nano_cpus=int(cpus * 1e9) if cpus else None,
                pids_limit=pids,
                shm_size=shm_size or "1g",
                device_requests=device_requests,
                environment=environment,
                init=True,
                security_opt=["no-new-privileges"],
                cap_drop=["ALL"],
                # What the trusted supervisor needs: drop to the worker's user, signal
                # it, and write/chown the output folder owned by the host's user.
                cap_add=["SETUID", "SETGID", "KILL", "CHOWN", "DAC_OVERRIDE", "FOWNER"],
                labels={"org.autodl.task": task_name},
                working_dir="/app",
            )
        except APIError as e:
            raise DockerError(
                f"cannot create the container from {image!r}: {first_line(e)}"
            ) from None
        started = time.time()
        timed_out = False
        try:
            try:
                container.start()
            except APIError as e:
                raise DockerError(
                    f"cannot start the container from {image!r}: {first_line(e)}"
                ) from None
            pumps = _forward_logs(container, stdout, stderr)
            exit_code = _wait(container, wall)
            if exit_code is None:
                timed_out = True
                container.kill()
                exit_code = _wait(container, 30.0)
            for t in pumps:
                t.join(timeout=5)
            container.reload()
            state = container.attrs.get("State", {})
        except BaseException:
            _remove(container)
            raise
        _remove(container)
    ended = time.time()
    _record_host_status(
        output_dir,
        task_name=task_name,
        time_budget=time_budget,
        start_time=started,
        end_time=ended,
        oom=bool(state.get("OOMKilled")),
        timed_out=timed_out,
        exit_code=exit_code,
        wall=wall,
        memory=mem,
    )
    # As `autodl ingest` does: the code of the status finally recorded (the host may have
    # named an out-of-memory kill the container could not see).
    from autodl.protocol import ProtocolError, read_ingestion_record

    try:
        return read_ingestion_record(output_dir).status.exit_code
    except ProtocolError:
        return int(exit_code) if exit_code else 1


# The container's entry: a self-imposed deadline (an orphaned container, whose host
# process died, still ends), then the output handed back to the host's user (when not root).
_ENTRY_SCRIPT = """\
deadline=$1; owner=$2; shift 2
if command -v timeout >/dev/null 2>&1; then timeout -k 10 "$deadline" "$@"; else "$@"; fi
rc=$?
if [ -n "$owner" ]; then chown -R "$owner" /app/output 2>/dev/null; fi
exit $rc
"""


def _wait(container: Container, seconds: float) -> int | None:
    """The exit code, or None when the container still runs after ``seconds``."""
    import requests

    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        try:
            result = container.wait(timeout=max(1, min(left, 60)))
            return int(result.get("StatusCode", 1))
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
            continue


def _remove(container: Container) -> None:
    try:
        container.remove(force=True)
    except Exception:  # already gone
        pass


def _record_host_status(
    output_dir: Path,
    *,
    task_name: str,
    time_budget: float,
    start_time: float,
    end_time: float,
    oom: bool,
    timed_out: bool,
    exit_code: int | None,
    wall: float,
    memory: int | None,
) -> bool:
    """Write ``ingestion.json`` (and ``end.txt``) when the container could not; True if so.

    A status the supervisor recorded stands, except that a crash the kernel's memory
    limit caused is named ``out_of_memory``.
    """
    from autodl.protocol import (
        INGESTION_FILE,
        IngestionRecord,
        ProtocolError,
        Status,
        list_predictions,
        read_end,
        read_ingestion_record,
        write_end,
        write_ingestion_record,
    )

    try:
        existing: IngestionRecord | None = read_ingestion_record(output_dir)
    except ProtocolError:  # none, or a half-written one: the host's record replaces it
        existing = None
    mem_text = f"{memory} bytes" if memory else "the container's memory"
    if existing is not None:
        # The kernel's OOM kill looks like any other death from inside the container.
        if oom and existing.status in (Status.CRASHED, Status.KILLED, Status.ERROR):
            existing.status = Status.OUT_OF_MEMORY
            existing.error = f"killed by the memory limit ({mem_text})"
            write_ingestion_record(output_dir, existing)
        return False
    if oom:
        status = Status.OUT_OF_MEMORY
        error = f"the container was killed by the memory limit ({mem_text})"
    elif timed_out:
        status, error = Status.KILLED, f"the container ran past {wall:.0f} s and was killed"
    else:
        status = Status.CRASHED
        error = f"the container exited {exit_code} without recording a status"
    record = IngestionRecord(
        status=status,
        error=error,
        task_name=task_name,
        num_predictions=len(list_predictions(output_dir)),
        time_budget=time_budget,
        start_time=start_time,
        end_time=end_time,
        ingestion_duration=end_time - start_time,
        warnings=[f"recorded by the host: the container ended without {INGESTION_FILE}"],
    )
    write_ingestion_record(output_dir, record)
    try:
        ended = read_end(output_dir) is not None
    except ProtocolError:  # a broken end.txt says nothing: replace it
        ended = False
    if not ended:
        write_end(
            output_dir,
            ingestion_duration=end_time - start_time,
            ingestion_success=record.success,
            end_time=end_time,
        )
    return True
