"""The trusted side of ingestion: clock, budgets, protocol files, status, and the kill.

:func:`ingest` runs a submission's ``model.py`` in a worker process
(:mod:`autodl.ingestion.worker`) and talks to it over two pipes
(:mod:`autodl.ingestion.messages`). The supervisor never imports the participant's code:
it owns the time budget, validates every prediction, writes ``start.txt``,
``<task>.predict_<k>``, ``end.txt`` (through :mod:`autodl.protocol`) and
``ingestion.json``, and ends the worker's whole process tree when the budget is spent.

The worker sees a private staging folder (the ``<name>.data`` folder, hard-linked, and
the code), a scratch home, a scrubbed environment and nothing else of ours: no solution,
no output path. Run as root, it runs as an unprivileged uid (:mod:`.limits`).

>>> from autodl.ingestion.supervisor import ingest, IngestionOptions
>>> result = ingest("miniciao", "out", "baselines/all_zero",
...                 IngestionOptions(time_budget=60))          # doctest: +SKIP
>>> result.status, result.num_predictions                        # doctest: +SKIP
('ok', 1)
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from autodl import protocol
from autodl.ingestion import limits as limits_mod
from autodl.ingestion.messages import (
    ChannelClosed,
    MessageTimeout,
    PayloadTooLarge,
    ProtocolViolation,
    Reader,
    send,
)
from autodl.ingestion.progress import Progress
from autodl.ingestion.sandbox import link_tree, worker_env

STATUSES = (
    "ok",
    "timeout",
    "error",
    "bad_prediction",
    "crashed",
    "out_of_memory",
    "killed",
    "construction_timeout",
)
# end.txt's ingestion_success: a run that used its whole budget is a normal AutoDL run.
SUCCESS_STATUSES = ("ok", "timeout")
INGESTION_JSON = "ingestion.json"
_TAIL_BYTES = 8192


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


@dataclass
class IngestionResult:
    """What ``ingestion.json`` holds."""

    status: str = "error"
    error: str | None = None
    traceback: str | None = None
    task_name: str = ""
    api: str | None = None
    num_predictions: int = 0
    time_budget: float = 0.0
    start_time: float | None = None
    end_time: float | None = None
    construction_duration: float | None = None
    ingestion_duration: float = 0.0
    device: dict[str, Any] = field(
        default_factory=lambda: {"type": "cpu", "name": "", "memory_bytes": 0}
    )
    isolation: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # True when ingestion itself failed (a bug of ours), not the submission.
    harness_failure: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _End(Exception):
    """Ends a run with a status (raised anywhere inside :meth:`_Run.execute`)."""

    def __init__(self, status: str, error: str | None, traceback: str | None = None) -> None:
        super().__init__(error)
        self.status, self.error, self.traceback = status, error, traceback


class _Interrupted(BaseException):
    """The supervisor got SIGTERM or SIGINT."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


_SIGNAL_WHY = {
    "SIGSEGV": "segmentation fault",
    "SIGBUS": "bus error",
    "SIGABRT": "abort",
    "SIGFPE": "floating-point exception",
    "SIGILL": "illegal instruction",
    "SIGKILL": "killed",
    "SIGTERM": "terminated",
}


def _sanitize_device(device: Any) -> dict[str, Any]:
    """The worker's device report, reduced to known fields of known types."""
    if not isinstance(device, dict):
        return {"type": "cpu", "name": "", "memory_bytes": 0}
    kind = device.get("type") if device.get("type") in ("cpu", "cuda") else "cpu"
    name = device.get("name") if isinstance(device.get("name"), str) else ""
    memory = device.get("memory_bytes")
    count = device.get("count")
    return {
        "type": kind,
        "name": name[:200],
        "memory_bytes": memory if isinstance(memory, int) and memory >= 0 else 0,
        "count": count if isinstance(count, int) and count >= 0 else None,
    }


# --------------------------------------------------------------------------- output pump


class _OutputPump(threading.Thread):
    """Echoes the worker's stdout/stderr up to a cap, keeps its tail, drains the rest."""

    def __init__(self, fd: int, sink: BinaryIO, cap: int, progress: Progress) -> None:
        super().__init__(name="worker-output", daemon=True)
        self.fd, self.sink, self.cap, self.progress = fd, sink, cap, progress
        self.total = 0
        self.tail: collections.deque[bytes] = collections.deque()
        self._tail_size = 0

    def run(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            room = self.cap - self.total
            self.total += len(chunk)
            if room > 0:
                self.progress.clear()
                try:
                    self.sink.write(chunk[:room])
                    if len(chunk) > room:
                        self.sink.write(
                            f"\n[ingestion] worker output over {self.cap} bytes: "
                            "the rest is dropped\n".encode()
                        )
                    self.sink.flush()
                except (OSError, ValueError):
                    pass
            self.tail.append(chunk)
            self._tail_size += len(chunk)
            while self._tail_size - len(self.tail[0]) >= _TAIL_BYTES:
                self._tail_size -= len(self.tail.popleft())
        os.close(self.fd)

    def tail_text(self) -> str:
        data = b"".join(self.tail)[-_TAIL_BYTES:]
        return data.decode("utf-8", errors="replace").strip()


# --------------------------------------------------------------------------- the run


class _Run:
    """One ingestion run; :meth:`execute` raises :class:`_End`, :meth:`finish` always runs."""

    def __init__(
        self, task: Any, output_dir: Path, code_path: Path, options: IngestionOptions
    ) -> None:
        self.task, self.output_dir, self.code_path, self.options = (
            task,
            output_dir,
            code_path,
            options,
        )
        self.result = IngestionResult(task_name=task.name, time_budget=options.time_budget)
        self.proc: subprocess.Popen | None = None
        self.reader: Reader | None = None
        self.to_worker: int | None = None
        self.pidfd: int | None = None
        self.pump: _OutputPump | None = None
        self.private: Path | None = None
        self.worker_start: int | None = None
        self.killed_by_us = False
        self.stage = "startup"
        self.begin = time.time()
        self.start_mono: float | None = None
        self.timestamps: dict[int, float] = {}
        self.written: dict[int, tuple[int, int, int]] = {}
        self.progress = Progress(task.name, options.time_budget, enabled=options.progress)

    # ------------------------------------------------------------------ setup

    def _prepare(self) -> tuple[list[str], dict[str, str], Path, limits_mod.WorkerUser]:
        from autodl.submission import SubmissionError, resolve_code

        user = limits_mod.choose_user(self.options.worker_uid)
        self.result.isolation = {
            "uid": user.uid,
            "privileges_dropped": user.dropped,
            "note": user.reason,
        }
        # private/      0711, ours: shadow copies of the predictions (0700)
        #   box/        0711, the worker's world: data/, code/, home/ (its cwd and HOME)
        # Traversable, not listable: the worker reaches only the names it is given, and
        # two levels above its folders is still ours.
        self.private = Path(tempfile.mkdtemp(prefix="autodl-ingest-"))
        os.chmod(self.private, 0o711)
        (self.private / "shadow").mkdir(mode=0o700)
        box = self.private / "box"
        box.mkdir(mode=0o711)
        os.chmod(box, 0o711)
        data = box / "data"
        data.mkdir(mode=0o711)
        os.chmod(data, 0o711)
        data_dir = data / self.task.data_dir.name
        in_place_unreadable = not limits_mod.can_read(self.task.data_dir, user)
        if self.options.stage_data or self.task.solution_path is not None or in_place_unreadable:
            if not self.options.stage_data:
                why = (
                    "the task folder holds its solution"
                    if self.task.solution_path is not None
                    else f"uid {user.uid} cannot read {self.task.data_dir}"
                )
                self.result.warnings.append(f"{why}: data staged")
            link_tree(self.task.data_dir, data_dir, user.dropped)
        else:
            data_dir = self.task.data_dir
        try:
            code = resolve_code(self.code_path, box / "unpacked")
        except SubmissionError as e:
            raise _End("error", str(e)) from None
        if box not in code.parents:
            staged = box / "code"
            link_tree(code, staged, user.dropped)
            code = staged
        else:
            for p in [code, *code.parents]:
                if p == box:
                    break
                os.chmod(p, 0o755)
        home = box / "home"
        home.mkdir()
        (home / "tmp").mkdir()
        if user.dropped:
            for p in (home, home / "tmp"):
                os.chown(p, user.uid, user.gid)
                os.chmod(p, 0o700)
            note = limits_mod.protect_output(self.output_dir, user)
            if note:
                self.result.warnings.append(note)
        self.init = {
            "op": "init",
            # The worker lowers its own rlimits before it touches participant code (once
            # it runs as another uid, changing them from here would need CAP_SYS_RESOURCE).
            "rlimits": limits_mod.rlimits(
                limits_mod.Limits(self.options.memory, self.options.max_processes)
            ),
            "code_dir": str(code),
            "train_dir": str(data_dir / "train"),
            "test_dir": str(data_dir / "test"),
        }
        cmd = [sys.executable, "-m", "autodl.ingestion.worker"]
        return cmd, worker_env(home, self.options.gpus, self.options.cpu_threads), home, user

    def _spawn(self) -> None:
        cmd, env, home, user = self._prepare()
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        out_r, out_w = os.pipe()
        kwargs: dict[str, Any] = {}
        if user.dropped:
            kwargs.update(user=user.uid, group=user.gid, extra_groups=[])
        try:
            self.proc = subprocess.Popen(
                [*cmd, str(to_worker_r), str(from_worker_w)],
                env=env,
                cwd=home,
                stdin=subprocess.DEVNULL,
                stdout=out_w,
                stderr=out_w,
                pass_fds=(to_worker_r, from_worker_w),
                start_new_session=True,
                **kwargs,
            )
        finally:
            for fd in (to_worker_r, from_worker_w, out_w):
                os.close(fd)
        self.worker_start = limits_mod.start_ticks(self.proc.pid)
        self.result.isolation.update(
            memory_limit=self.options.memory,
            process_limit=self.options.max_processes,
            cpu_threads=self.options.cpu_threads,
        )
        try:
            self.pidfd = os.pidfd_open(self.proc.pid)
        except (AttributeError, OSError):
            self.pidfd = None
        self.to_worker = to_worker_w
        self.reader = Reader(from_worker_r, watch=self.pidfd)
        self.pump = _OutputPump(
            out_r,
            self.options.echo or sys.stdout.buffer,
            self.options.max_output_bytes,
            self.progress,
        )
        self.pump.start()

    # ------------------------------------------------------------------ messages

    def _send(self, header: dict[str, Any]) -> None:
        try:
            send(self.to_worker, header)
        except (BrokenPipeError, OSError):
            self._worker_gone()

    def _receive(self, deadline: float, max_payload: int = 1 << 20) -> tuple[dict, bytes]:
        try:
            header, payload = self.reader.receive(deadline, max_payload)
        except MessageTimeout:
            raise
        except PayloadTooLarge:
            raise
        except ChannelClosed:
            self._worker_gone()
        except ProtocolViolation as e:
            raise _End(
                "error", f"the worker broke the message protocol during {self.stage}: {e}"
            ) from None
        if header["op"] == "error":
            self._raise_worker_error(header)
        return header, payload

    def _raise_worker_error(self, header: dict[str, Any]) -> None:
        kind = header.get("kind")
        message = str(header.get("message") or "the model failed")[:2000]
        tb = header.get("traceback")
        tb = tb if isinstance(tb, str) else None
        status = "out_of_memory" if kind == "out_of_memory" else "error"
        raise _End(status, message, tb)

    def _worker_gone(self) -> None:
        """The worker exited or closed its pipe without an answer: say how it ended."""
        try:
            rc = self.proc.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            raise _End("error", f"the worker closed its message pipe during {self.stage}") from None
        if self.pump is not None:
            self.pump.join(timeout=0.5)  # let the last words (a faulthandler dump) arrive
        tail = self.pump.tail_text() if self.pump else None
        if rc < 0:
            name = _signal_name(-rc)
            if -rc == signal.SIGKILL and not self.killed_by_us:
                raise _End(
                    "out_of_memory",
                    f"the worker was killed by SIGKILL during {self.stage}, most likely by "
                    "the kernel's out-of-memory killer",
                    tail or None,
                )
            why = _SIGNAL_WHY.get(name, name)
            raise _End(
                "crashed", f"the worker died from {name} ({why}) during {self.stage}", tail or None
            )
        raise _End(
            "crashed",
            f"the worker exited with code {rc} during {self.stage} without an answer "
            "(os._exit or a crash in native code)",
            tail or None,
        )

    # ------------------------------------------------------------------ phases

    def _construct(self) -> bool:
        self.stage = "model construction"
        self.progress.update("constructing the model")
        t0 = time.monotonic()
        deadline = t0 + self.options.construction_budget
        self._send(self.init)
        try:
            header, _ = self._receive(deadline)
            if header["op"] == "device":
                self.result.device = _sanitize_device(header.get("device"))
                for note in header.get("limit_errors") or []:
                    self.result.warnings.append(str(note)[:500])
                header, _ = self._receive(deadline)
        except MessageTimeout:
            self.result.construction_duration = time.monotonic() - t0
            raise _End(
                "construction_timeout",
                "loading the data, importing model.py and Model(metadata) took more than "
                f"the construction budget of {self.options.construction_budget:g} s",
            ) from None
        finally:
            self.result.construction_duration = time.monotonic() - t0
        if header["op"] != "ready":
            raise _End("error", f"the worker answered {header['op']!r} instead of 'ready'")
        api = header.get("api")
        self.result.api = api if api in ("autodl", "native") else None
        return bool(header.get("done_training"))

    def _start_clock(self) -> None:
        self.result.start_time = time.time()
        self.start_mono = time.monotonic()
        self._write_start()
        self.progress.update("training", 0, self.start_mono)

    def _write_start(self) -> None:
        protocol.write_start(
            self.output_dir,
            ingestion_pid=os.getpid(),
            task_name=self.task.name,
            time_budget=self.options.time_budget,
            start_time=self.result.start_time,
        )

    def _loop(self, done: bool, shape: tuple[int, int]) -> None:
        import numpy as np

        deadline = self.start_mono + self.options.time_budget
        k = 0
        max_payload = shape[0] * shape[1] * 8
        while not done:
            if time.monotonic() >= deadline:
                raise _End(
                    "timeout",
                    f"the time budget of {self.options.time_budget:g} s ran out after "
                    f"{k} predictions, before the model set done_training",
                )
            self.stage = f"train (round {k})"
            self.progress.update("training", k)
            # One message per round: the worker trains, says so, tests and answers,
            # without waiting for us in between (the reference calls them back to back).
            self._send({"op": "round", "deadline": deadline})
            header, _ = self._receive_or_timeout(deadline)
            if header["op"] != "trained":
                raise _End("error", f"the worker answered {header['op']!r} to 'train'")
            self.stage = f"test (round {k})"
            self.progress.update("testing", k)
            try:
                header, payload = self._receive_or_timeout(deadline, max_payload)
            except PayloadTooLarge as e:
                raise _End("bad_prediction", _describe_big(e.header, k, shape)) from None
            returned = time.time()
            op = header["op"]
            if op == "none":
                if k == 0:
                    self.result.warnings.append(
                        "test returned None in round 0: the model stopped before any prediction"
                    )
                return
            if op == "bad_prediction":
                raise _End("bad_prediction", f"prediction {k}: {header.get('message')}")
            if op != "prediction":
                raise _End("error", f"the worker answered {op!r} to 'test'")
            prediction = _check_prediction(np, header, payload, shape, k)
            protocol.append_prediction_time(self.output_dir, k, returned)
            self._write_prediction(k, prediction)
            self.timestamps[k] = returned
            k += 1
            self.result.num_predictions = k
            done = bool(header.get("done_training"))
        # The model said it is done.

    def _write_prediction(self, k: int, prediction: Any) -> None:
        """``<task>.predict_<k>``, plus a private copy to restore it from if it is tampered with."""
        name = protocol.prediction_name(self.task.name, k)
        data = protocol.format_prediction(prediction)
        (self.private / "shadow" / name).write_bytes(data)
        protocol.atomic_write(self.output_dir / name, data)
        st = os.stat(self.output_dir / name)
        self.written[k] = (st.st_ino, st.st_size, st.st_mtime_ns)

    def _receive_or_timeout(self, deadline: float, max_payload: int = 1 << 20):
        try:
            return self._receive(deadline, max_payload)
        except MessageTimeout:
            raise _End(
                "timeout",
                f"the time budget of {self.options.time_budget:g} s ran out during {self.stage}",
            ) from None

    def execute(self) -> None:
        import numpy as np  # noqa: F401  (fail here, not mid-run, if numpy is missing)

        from autodl.data import load

        num_test = load(self.task.test_dir).metadata.size()
        output_dim = load(self.task.train_dir).metadata.get_output_size()
        self.progress.update("starting the worker")
        self._spawn()
        done = self._construct()
        self._start_clock()
        self._loop(done, (int(num_test), int(output_dim)))
        self.result.status = "ok"

    # ------------------------------------------------------------------ the end

    def stop_worker(self, polite: bool) -> None:
        """End the worker and everything it started. ``polite``: ask first, then TERM."""
        if self.proc is None:
            return
        if polite and self.proc.poll() is None:
            try:
                send(self.to_worker, {"op": "exit"})
                self.proc.wait(timeout=1.0)
            except (OSError, subprocess.TimeoutExpired):
                pass
        if self.proc.poll() is None:
            self.killed_by_us = True
            limits_mod.signal_group(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=self.options.kill_grace)
            except subprocess.TimeoutExpired:
                pass
        self.killed_by_us = True
        limits_mod.kill_tree(self.proc.pid, self.worker_start)
        try:
            self.proc.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            pass

    def finish(self) -> None:
        """Stop the worker, check the output folder, write end.txt and ingestion.json."""
        # Only a worker that finished is waiting for our next message.
        self.stop_worker(polite=self.result.status == "ok")
        for fd in (self.to_worker, self.pidfd, self.reader.fd if self.reader else None):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        if self.pump is not None:
            self.pump.join(timeout=2.0)
        end = time.time()
        self.result.end_time = end
        start = self.result.start_time
        self.result.ingestion_duration = end - (start if start is not None else self.begin)
        self._check_output()
        protocol.write_end(
            self.output_dir,
            ingestion_duration=self.result.ingestion_duration,
            ingestion_success=self.result.status in SUCCESS_STATUSES,
            end_time=end,
        )
        text = json.dumps(self.result.to_dict(), indent=2, allow_nan=False) + "\n"
        protocol.atomic_write(self.output_dir / INGESTION_JSON, text)
        if self.private is not None:
            shutil.rmtree(self.private, ignore_errors=True)

    def _check_output(self) -> None:
        """Undo what anyone else did to our protocol files during the run."""
        if self.result.start_time is None:
            return
        try:
            info = protocol.read_start(self.output_dir)
            same = (
                info.start_time == self.result.start_time
                and info.task_name == self.task.name
                and info.timestamps == self.timestamps
                and info.ingestion_pid == os.getpid()
            )
        except protocol.ProtocolError:
            same = False
        if not same:
            self.result.warnings.append("start.txt was modified during the run; rewritten")
            self._write_start()
            for k, t in sorted(self.timestamps.items()):
                protocol.append_prediction_time(self.output_dir, k, t)
        for task, k, path in protocol.list_predictions(self.output_dir):
            if task == self.task.name and k not in self.written:
                path.unlink(missing_ok=True)
                self.result.warnings.append(f"{path.name} was not written by ingestion; removed")
        for k, signature in self.written.items():
            name = protocol.prediction_name(self.task.name, k)
            try:
                st = os.stat(self.output_dir / name)
                same = (st.st_ino, st.st_size, st.st_mtime_ns) == signature
            except OSError:
                same = False
            if not same:
                data = (self.private / "shadow" / name).read_bytes()
                protocol.atomic_write(self.output_dir / name, data)
                self.result.warnings.append(f"{name} was modified during the run; restored")


def _describe_big(header: dict[str, Any], k: int, shape: tuple[int, int]) -> str:
    got = header.get("shape")
    return (
        f"prediction {k} has shape {tuple(got) if isinstance(got, list) else got}, "
        f"expected (num_test, output_dim) = {shape}"
    )


def _check_prediction(np: Any, header: dict, payload: bytes, shape: tuple[int, int], k: int):
    """The prediction as an array, or :class:`_End` ``bad_prediction`` saying what is wrong."""
    got = header.get("shape")
    dtype = header.get("dtype")
    if not (isinstance(got, list) and all(isinstance(x, int) and x >= 0 for x in got)):
        raise _End("bad_prediction", f"prediction {k}: malformed shape {got!r}")
    if tuple(got) != shape:
        raise _End("bad_prediction", _describe_big(header, k, shape))
    if dtype not in ("<f4", "<f8"):
        raise _End("bad_prediction", f"prediction {k}: unsupported dtype {dtype!r}")
    arr = np.frombuffer(payload, dtype=dtype)
    if arr.size != shape[0] * shape[1]:
        raise _End(
            "bad_prediction", f"prediction {k}: {arr.size} values received, {shape} announced"
        )
    arr = arr.reshape(shape)
    finite = np.isfinite(arr)
    if not finite.all():
        nan = int(np.isnan(arr).sum())
        inf = arr.size - int(finite.sum()) - nan
        row, col = (int(i) for i in np.argwhere(~finite)[0])
        raise _End(
            "bad_prediction",
            f"prediction {k} has {nan} NaN and {inf} infinite values "
            f"(first at row {row}, column {col}); predictions must be finite numbers",
        )
    return arr


# --------------------------------------------------------------------------- entry point


def _find_task(dataset_dir: Path) -> Any:
    from autodl.data import DataError, find_task

    try:
        task = find_task(dataset_dir)
    except DataError as e:
        raise HarnessError(str(e)) from None
    if task.data_dir is None or task.train_dir is None or task.test_dir is None:
        raise HarnessError(
            f"{dataset_dir}: ingestion needs a <name>.data folder with train/ and test/ splits"
        )
    return task


def _clear_stale(output_dir: Path, warnings: list[str]) -> None:
    """Remove protocol files of an earlier run, which a watching scorer would misread."""
    stale = [output_dir / protocol.START_FILE, output_dir / protocol.END_FILE]
    stale.append(output_dir / INGESTION_JSON)
    stale += [p for _, _, p in protocol.list_predictions(output_dir)]
    removed = [p.name for p in stale if p.exists()]
    for p in stale:
        p.unlink(missing_ok=True)
    if removed:
        warnings.append(f"removed files of an earlier run from the output folder: {removed}")


def ingest(
    dataset_dir: str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    code_dir: str | os.PathLike[str],
    options: IngestionOptions | None = None,
) -> IngestionResult:
    """Run one submission on one task; the result is also written to ``ingestion.json``.

    Raises :class:`HarnessError` (and writes nothing) when the dataset or the code path
    does not exist. Anything the submission does wrong is a recorded status instead.
    """
    options = options or IngestionOptions()
    if options.time_budget <= 0 or options.construction_budget <= 0:
        raise HarnessError("time budgets must be positive")
    task = _find_task(Path(dataset_dir))
    code_path = Path(code_dir)
    if not code_path.exists():
        raise HarnessError(f"{code_path}: no such file or folder (the submission's code)")
    output_dir = Path(output_dir)
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise HarnessError(f"{output_dir}: cannot create the output folder: {e}") from None
    limits_mod.set_subreaper()
    run = _Run(task, output_dir.resolve(), code_path.resolve(), options)
    if options.conceal_process:
        limits_mod.hide_command_line("autodl ingest [arguments hidden from the submission]")
        os.chdir("/")  # every path is absolute by now
    _clear_stale(run.output_dir, run.result.warnings)

    def on_signal(signum: int, frame: Any) -> None:
        raise _Interrupted(signum)

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, on_signal)
    try:
        with run.progress:
            try:
                run.execute()
            except _End as e:
                run.result.status, run.result.error = e.status, e.error
                run.result.traceback = e.traceback
            except _Interrupted as e:
                run.result.status = "killed"
                run.result.error = f"ingestion received {_signal_name(e.signum)} during {run.stage}"
            except Exception as e:  # a harness bug still ends with the files written
                import traceback

                run.result.status = "error"
                run.result.harness_failure = True
                run.result.error = f"ingestion failed: {type(e).__name__}: {e}"
                run.result.traceback = traceback.format_exc()
            for sig in previous:
                signal.signal(sig, signal.SIG_IGN)
            run.finish()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return run.result
