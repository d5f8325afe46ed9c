"""The trusted side of ingestion: clock, budgets, protocol files, status, and the kill.

(About 550 lines, on purpose: one run's life, from spawning the worker through every
message to the kill, shares one state; every part that stands alone lives beside it, in
:mod:`.options`, :mod:`.replies`, :mod:`.repair`, :mod:`.output`, :mod:`.exits` and
:mod:`.sandbox`.)

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

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from autodl import protocol
from autodl.ingestion import datacheck, interpreter, tfmode
from autodl.ingestion import limits as limits_mod
from autodl.ingestion.exits import explain, signal_name
from autodl.ingestion.messages import (
    ChannelClosed,
    MessageTimeout,
    PayloadTooLarge,
    ProtocolViolation,
    Reader,
    send,
)
from autodl.ingestion.options import HarnessError, IngestionOptions
from autodl.ingestion.output import OutputPump
from autodl.ingestion.progress import Progress
from autodl.ingestion.repair import OutputFiles, clear_stale
from autodl.ingestion.replies import (
    BadPrediction,
    check_prediction,
    describe_shape,
    sanitize_device,
)
from autodl.ingestion.sandbox import SandboxSpec, SandboxUnavailable, require, worker_env
from autodl.ingestion.sandbox import spawn as spawn_mod
from autodl.ingestion.sandbox.box import CODE, DATA, Confinement, mounts_for
from autodl.ingestion.sandbox.bwrap import HOME
from autodl.ingestion.sandbox.staging import stage_box
from autodl.protocol import IngestionRecord, Status
from autodl.resources import parse_gpus

# The names this module has always offered its callers.
IngestionResult = IngestionRecord
__all__ = ["HarnessError", "IngestionOptions", "IngestionRecord", "IngestionResult", "ingest"]


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
        self.result = IngestionRecord(task_name=task.name, time_budget=options.time_budget)
        self.proc: subprocess.Popen | None = None
        self.reader: Reader | None = None
        self.to_worker: int | None = None
        self.pidfd: int | None = None
        self.pump: OutputPump | None = None
        self.box: Confinement | None = None
        self.loaded = False  # the worker loaded the data (model.py may run from now on)
        self.mounts: list = []
        self.private: Path | None = None
        self.worker_start: int | None = None
        self.killed_by_us = False
        self.stage = "startup"
        self.begin = time.time()
        self.start_mono: float | None = None
        self.files: OutputFiles | None = None
        self.python = interpreter.current()  # the worker's interpreter (ingest() sets it)
        self.progress = Progress(task.name, options.time_budget, enabled=options.progress)

    # ------------------------------------------------------------------ setup

    def _prepare(self) -> tuple[list[str], dict[str, str], Path, limits_mod.WorkerUser]:
        from autodl.submission import SubmissionError

        python = self.python
        self.result.python = python.record()
        user = limits_mod.choose_user(
            self.options.worker_uid, None if python.current else python.runtime_paths()
        )
        note = user.reason
        if note and self.options.sandbox == "bwrap" and not user.dropped:
            note += (
                "; in the sandbox it is uid 65534 of its own user namespace, without any "
                "capability, and sees only its read-only mounts"
            )
        self.result.isolation = {
            "uid": user.uid,
            "privileges_dropped": user.dropped,
            "note": note,
        }
        # private/      0711, ours: shadow copies of the predictions (0700)
        #   box/        0711, the worker's world: data/, code/, home/ (its cwd and HOME)
        # Traversable, not listable: the worker reaches only the names it is given, and
        # two levels above its folders is still ours.
        self.private = Path(tempfile.mkdtemp(prefix="autodl-ingest-"))
        os.chmod(self.private, 0o711)
        (self.private / "shadow").mkdir(mode=0o700)
        self.files = OutputFiles(
            self.output_dir, self.task.name, self.options.time_budget, self.private / "shadow"
        )
        try:
            data_dir, code, home = stage_box(
                self.private / "box",
                self.task,
                self.code_path,
                stage_data=self.options.stage_data,
                user=user,
                warnings=self.result.warnings,
            )
        except SubmissionError as e:
            raise _End(Status.ERROR, str(e)) from None
        if user.dropped:
            note = limits_mod.protect_output(self.output_dir, user)
            if note:
                self.result.warnings.append(note)
        try:  # read on our side, before the worker exists: the code is never run for it
            choice = tfmode.choose(code, self.options.tf_mode)
        except tfmode.TFModeError as e:
            raise _End(Status.ERROR, str(e)) from None
        self.result.tf_mode = choice.to_dict()
        sandboxed = self.options.sandbox == "bwrap"
        # In the sandbox the code and the data are mounted at fixed paths: the worker
        # never learns where they are on the host.
        seen_data = f"{DATA}/{data_dir.name}" if sandboxed else str(data_dir)
        self.mounts = mounts_for(code, data_dir, python) if sandboxed else []
        self.init = {
            "op": "init",
            # The worker lowers its own rlimits before it touches participant code (once
            # it runs as another uid, changing them from here would need CAP_SYS_RESOURCE);
            # set in _spawn, where the cgroup says which ones it holds itself.
            "rlimits": {},
            "code_dir": CODE if sandboxed else str(code),
            "train_dir": f"{seen_data}/train",
            "test_dir": f"{seen_data}/test",
            "tf_mode": choice.mode,
            "numpy_aliases": python.numpy_aliases,
        }
        cmd = [python.executable, "-m", "autodl.ingestion.worker"]
        env = worker_env(
            Path(HOME) if sandboxed else home,
            self.options.gpus,
            self.options.cpu_threads,
            sandbox=self.options.sandbox if sandboxed else None,
            python=python,
        )
        if self.options.cache_limit is not None:
            env["AUTODL_CACHE_LIMIT"] = str(self.options.cache_limit)
        return cmd, env, home, user

    def _spawn(self) -> None:
        cmd, env, home, user = self._prepare()
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        out_r, out_w = os.pipe()
        spec = SandboxSpec(
            mode=self.options.sandbox,
            mounts=self.mounts,
            memory=self.options.memory,
            max_processes=self.options.max_processes,
            scratch_bytes=self.options.scratch_bytes,
            network=self.options.network,
            gpu=parse_gpus(self.options.gpus) != [],
        )
        try:
            self.proc, self.box = spawn_mod.start(
                [*cmd, str(to_worker_r), str(from_worker_w)],
                env,
                spec,
                cwd=home,
                pass_fds=(to_worker_r, from_worker_w),
                stdout=out_w,
                uid=user.uid if user.dropped else None,
                gid=user.gid if user.dropped else None,
            )
        finally:
            for fd in (to_worker_r, from_worker_w, out_w):
                os.close(fd)
        self.init["rlimits"] = self.box.rlimits
        self.worker_start = limits_mod.start_ticks(self.proc.pid)
        self.result.isolation.update(
            memory_limit=self.options.memory,
            process_limit=self.options.max_processes,
            cpu_threads=self.options.cpu_threads,
            sandbox=self.box.record,
        )
        try:
            self.pidfd = os.pidfd_open(self.proc.pid)
        except (AttributeError, OSError):
            self.pidfd = None
        self.to_worker = to_worker_w
        self.reader = Reader(from_worker_r, watch=self.pidfd)
        self.pump = OutputPump(
            out_r,
            self.options.echo or sys.stdout.buffer,
            self.options.max_output_bytes,
            self.progress,
        )
        self.pump.start()

    # ------------------------------------------------------------------ messages

    def _send(self, header: dict[str, Any], deadline: float) -> None:
        try:
            send(self.to_worker, header, deadline=deadline)
        except MessageTimeout:
            raise _End(
                Status.TIMEOUT if self.start_mono is not None else Status.CONSTRUCTION_TIMEOUT,
                f"the worker stopped reading its messages during {self.stage}: the budget ran "
                "out while the supervisor waited to send",
            ) from None
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
                Status.ERROR, f"the worker broke the message protocol during {self.stage}: {e}"
            ) from None
        if header["op"] == "error":
            self._raise_worker_error(header)
        return header, payload

    def _raise_worker_error(self, header: dict[str, Any]) -> None:
        kind = header.get("kind")
        message = header.get("message")
        message = message[:2000] if isinstance(message, str) and message else "the model failed"
        tb = header.get("traceback")
        tb = tb if isinstance(tb, str) else None
        status = Status.OUT_OF_MEMORY if kind == Status.OUT_OF_MEMORY else Status.ERROR
        if kind == "bad_dataset" and not self.loaded:
            # Only before "loaded": model.py was not imported yet, nothing could forge it.
            status, message = Status.BAD_DATASET, f"the dataset is defective: {message}"
        elif status is Status.ERROR and datacheck.blames_the_data(message):
            defect = datacheck.find_defect([self.task.train_dir, self.task.test_dir])
            if defect is not None:
                status = Status.BAD_DATASET
                message = f"the dataset is defective: {defect} (the model saw: {message})"
        raise _End(status, message, tb)

    def _worker_gone(self) -> None:
        """The worker exited or closed its pipe without an answer: say how it ended."""
        try:
            rc = self.proc.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            raise _End(
                Status.ERROR, f"the worker closed its message pipe during {self.stage}"
            ) from None
        if self.pump is not None:
            self.pump.join(timeout=0.5)  # let the last words (a faulthandler dump) arrive
        tail = self.pump.tail_text() if self.pump else None
        status, message = explain(
            rc,
            self.stage,
            bwrap=self.box is not None and self.box.record.get("kind") == "bwrap",
            oom_kills=self.box.cgroup.oom_kills() if self.box and self.box.cgroup else 0,
            memory_limit=self.options.memory,
        )
        raise _End(status, message, tail or None)

    # ------------------------------------------------------------------ phases

    def _construct(self) -> bool:
        self.stage = "model construction"
        self.progress.update("constructing the model")
        t0 = time.monotonic()
        deadline = t0 + self.options.construction_budget
        self._send(self.init, deadline)
        try:
            header, _ = self._receive(deadline)
            if header["op"] == "device":
                self.result.device = sanitize_device(header.get("device"))
                notes = header.get("limit_errors")
                for note in notes[:20] if isinstance(notes, list) else []:
                    self.result.warnings.append(str(note)[:500])
                header, _ = self._receive(deadline)
            if header["op"] == "loaded":
                self.loaded = True
                header, _ = self._receive(deadline)
        except MessageTimeout:
            self.result.construction_duration = time.monotonic() - t0
            raise _End(
                Status.CONSTRUCTION_TIMEOUT,
                "loading the data, importing model.py and Model(metadata) took more than "
                f"the construction budget of {self.options.construction_budget:g} s",
            ) from None
        finally:
            self.result.construction_duration = time.monotonic() - t0
        if header["op"] != "ready":
            raise _End(Status.ERROR, f"the worker answered {header['op']!r} instead of 'ready'")
        api = header.get("api")
        self.result.api = api if api in ("autodl", "native") else None
        return bool(header.get("done_training"))

    def _start_clock(self) -> None:
        self.result.start_time = time.time()
        self.start_mono = time.monotonic()
        self.files.write_start(self.result.start_time)
        self.progress.update("training", 0, self.start_mono)

    def _loop(self, done: bool, shape: tuple[int, int]) -> None:
        deadline = self.start_mono + self.options.time_budget
        k = 0
        max_payload = shape[0] * shape[1] * 8
        while not done:
            if time.monotonic() >= deadline:
                raise _End(
                    Status.TIMEOUT,
                    f"the time budget of {self.options.time_budget:g} s ran out after "
                    f"{k} predictions, before the model set done_training",
                )
            self.stage = f"train (round {k})"
            self.progress.update("training", k)
            # One message per round: the worker trains, says so, tests and answers,
            # without waiting for us in between (the reference calls them back to back).
            self._send({"op": "round", "deadline": deadline}, deadline)
            header, _ = self._receive_or_timeout(deadline)
            if header["op"] != "trained":
                raise _End(Status.ERROR, f"the worker answered {header['op']!r} to 'train'")
            self.stage = f"test (round {k})"
            self.progress.update("testing", k)
            try:
                header, payload = self._receive_or_timeout(deadline, max_payload)
            except PayloadTooLarge as e:
                raise _End(Status.BAD_PREDICTION, describe_shape(e.header, k, shape)) from None
            returned = time.time()
            op = header["op"]
            if op == "none":
                if k == 0:
                    self.result.warnings.append(
                        "test returned None in round 0: the model stopped before any prediction"
                    )
                return
            if op == "bad_prediction":
                raise _End(Status.BAD_PREDICTION, f"prediction {k}: {header.get('message')}")
            if op != "prediction":
                raise _End(Status.ERROR, f"the worker answered {op!r} to 'test'")
            try:
                prediction = check_prediction(header, payload, shape, k)
            except BadPrediction as e:
                raise _End(Status.BAD_PREDICTION, str(e)) from None
            self.files.write_prediction(k, prediction, returned)
            k += 1
            self.result.num_predictions = k
            done = bool(header.get("done_training"))
            cap = self.options.max_predictions
            if cap and k >= cap and not done:
                raise _End(
                    Status.PREDICTION_LIMIT,
                    f"the run reached its cap of {cap} predictions (--max_predictions); "
                    "the predictions made count",
                )
        # The model said it is done.

    def _receive_or_timeout(self, deadline: float, max_payload: int = 1 << 20):
        try:
            return self._receive(deadline, max_payload)
        except MessageTimeout:
            raise _End(
                Status.TIMEOUT,
                f"the time budget of {self.options.time_budget:g} s ran out during {self.stage}",
            ) from None

    def execute(self) -> None:
        import numpy as np  # noqa: F401  (fail here, not mid-run, if numpy is missing)

        from autodl.data import DataError, load

        try:
            num_test = load(self.task.test_dir).metadata.size()
            output_dim = load(self.task.train_dir).metadata.get_output_size()
        except DataError as e:
            raise _End(Status.BAD_DATASET, f"the dataset is defective: {e}") from None
        self.progress.update("starting the worker")
        self._spawn()
        done = self._construct()
        self._start_clock()
        self._loop(done, (int(num_test), int(output_dim)))
        self.result.status = Status.OK

    # ------------------------------------------------------------------ the end

    def stop_worker(self, polite: bool) -> None:
        """End the worker and everything it started. ``polite``: ask first, then TERM."""
        if self.proc is None:
            return
        if polite and self.proc.poll() is None:
            try:
                send(self.to_worker, {"op": "exit"}, deadline=time.monotonic() + 1.0)
                self.proc.wait(timeout=1.0)
            except (OSError, subprocess.TimeoutExpired, MessageTimeout):
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
        if self.box is not None:
            self.box.close()  # whatever is left in the cgroup, then the cgroup itself
        try:
            self.proc.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            pass

    def finish(self) -> None:
        """Stop the worker, check the output folder, write end.txt and ingestion.json."""
        # Only a worker that finished is waiting for our next message.
        self.stop_worker(polite=self.result.status is Status.OK)
        if self.box is not None:
            self.box.close()
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
        if self.files is not None:
            self.files.repair(self.result.warnings)
        protocol.write_end(
            self.output_dir,
            ingestion_duration=self.result.ingestion_duration,
            ingestion_success=self.result.success,
            end_time=end,
        )
        protocol.write_ingestion_record(self.output_dir, self.result)
        if self.private is not None:
            shutil.rmtree(self.private, ignore_errors=True)


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


def ingest(
    dataset_dir: str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    code_dir: str | os.PathLike[str],
    options: IngestionOptions | None = None,
) -> IngestionRecord:
    """Run one submission on one task; the result is also written to ``ingestion.json``.

    Raises :class:`HarnessError` (and writes nothing) when the dataset or the code path
    does not exist. Anything the submission does wrong is a recorded status instead.
    """
    options = options or IngestionOptions()
    if options.time_budget <= 0 or options.construction_budget <= 0:
        raise HarnessError("time budgets must be positive")
    if options.sandbox == "bwrap":
        try:
            require()  # fail closed: nothing runs, nothing is written, when it cannot hold
        except SandboxUnavailable as e:
            raise HarnessError(str(e)) from None
    task = _find_task(Path(dataset_dir))
    code_path = Path(code_dir)
    if not code_path.exists():
        raise HarnessError(f"{code_path}: no such file or folder (the submission's code)")
    try:  # asked once, before anything is written: it can serve, or we refuse
        python = interpreter.resolve(options.python)
    except interpreter.InterpreterError as e:
        raise HarnessError(str(e)) from None
    output_dir = Path(output_dir)
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise HarnessError(f"{output_dir}: cannot create the output folder: {e}") from None
    limits_mod.set_subreaper()
    run = _Run(task, output_dir.resolve(), code_path.resolve(), options)
    run.python = python
    if options.conceal_process:
        limits_mod.hide_command_line("autodl ingest [arguments hidden from the submission]")
        os.chdir("/")  # every path is absolute by now
    clear_stale(run.output_dir, run.result.warnings)

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
                run.result.status = Status.KILLED
                run.result.error = f"ingestion received {signal_name(e.signum)} during {run.stage}"
            except Exception as e:  # a harness bug still ends with the files written
                import traceback

                run.result.status = Status.ERROR
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
