"""The trusted side of ingestion: the clock, the budgets, the rounds and the status.

:func:`ingest` runs a submission's ``model.py`` in a worker process
(:mod:`autodl.ingestion.worker`) and talks to it over two pipes. The supervisor never
imports the participant's code: it owns the time budget, validates every prediction,
writes ``start.txt``, ``<task>.predict_<k>``, ``end.txt`` (through :mod:`autodl.protocol`)
and ``ingestion.json``, and ends the worker's whole process tree when the budget is spent.

One run's life is here; its parts live beside it: :mod:`.launch` (what the worker is
started with: staged box, user, command, environment), :mod:`.child` (the worker process:
start, stop, the kill), :mod:`.channel` (the message exchange with deadlines, the
worker's errors and exits), :mod:`.outcome` (the status a run ends with), and
:mod:`.options`, :mod:`.replies`, :mod:`.repair`, :mod:`.output`, :mod:`.sandbox`.

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
import threading
import time
from pathlib import Path
from typing import Any

from autodl import protocol
from autodl.ingestion import interpreter
from autodl.ingestion import limits as limits_mod
from autodl.ingestion.channel import Channel
from autodl.ingestion.child import Child
from autodl.ingestion.exits import signal_name
from autodl.ingestion.launch import Launch, prepare, private_folder
from autodl.ingestion.messages import MessageTimeout, PayloadTooLarge
from autodl.ingestion.options import HarnessError, IngestionOptions
from autodl.ingestion.outcome import RunEnd
from autodl.ingestion.progress import Progress
from autodl.ingestion.repair import OutputFiles, clear_stale
from autodl.ingestion.replies import (
    BadPrediction,
    check_prediction,
    describe_shape,
    sanitize_device,
)
from autodl.ingestion.sandbox import SandboxUnavailable, require
from autodl.protocol import IngestionRecord, Status

# The names this module has always offered its callers.
IngestionResult = IngestionRecord
__all__ = ["HarnessError", "IngestionOptions", "IngestionRecord", "IngestionResult", "ingest"]


class _Interrupted(BaseException):
    """The supervisor got SIGTERM or SIGINT."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


# --------------------------------------------------------------------------- the run


class _Run:
    """One ingestion run; :meth:`execute` raises :class:`RunEnd`, :meth:`finish` always runs."""

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
        self.child = Child()
        self.channel = Channel(self.child, task, options.memory)
        self.launch: Launch | None = None
        self.loaded = False  # the worker loaded the data (model.py may run from now on)
        self.private: Path | None = None
        self.stage = "startup"
        self.begin = time.time()
        self.start_mono: float | None = None
        self.files: OutputFiles | None = None
        self.python = interpreter.current()  # the worker's interpreter (ingest() sets it)
        self.progress = Progress(task.name, options.time_budget, enabled=options.progress)

    # ------------------------------------------------------------------ setup

    def _spawn(self) -> None:
        # Made first, so that finish() removes it whatever fails after.
        self.private = private_folder()
        self.files = OutputFiles(
            self.output_dir, self.task.name, self.options.time_budget, self.private / "shadow"
        )
        self.launch = prepare(
            self.task,
            self.code_path,
            self.output_dir,
            self.options,
            self.python,
            self.private / "box",
            self.result,
        )
        self.child.start(self.launch, self.options, self.progress, self.result.isolation)

    # ------------------------------------------------------------------ messages

    def _send(self, header: dict[str, Any], deadline: float) -> None:
        self.channel.send(header, deadline, self.stage, clocked=self.start_mono is not None)

    def _receive(self, deadline: float, max_payload: int = 1 << 20) -> tuple[dict, bytes]:
        return self.channel.receive(deadline, max_payload, self.stage, self.loaded)

    def _receive_or_timeout(
        self, deadline: float, max_payload: int = 1 << 20
    ) -> tuple[dict, bytes]:
        try:
            return self._receive(deadline, max_payload)
        except MessageTimeout:
            raise RunEnd(
                Status.TIMEOUT,
                f"the time budget of {self.options.time_budget:g} s ran out during {self.stage}",
            ) from None

    # ------------------------------------------------------------------ phases

    def _construct(self) -> bool:
        self.stage = "model construction"
        self.progress.update("constructing the model")
        t0 = time.monotonic()
        deadline = t0 + self.options.construction_budget
        self._send(self.launch.init, deadline)
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
            raise RunEnd(
                Status.CONSTRUCTION_TIMEOUT,
                "loading the data, importing model.py and Model(metadata) took more than "
                f"the construction budget of {self.options.construction_budget:g} s",
            ) from None
        finally:
            self.result.construction_duration = time.monotonic() - t0
        if header["op"] != "ready":
            raise RunEnd(Status.ERROR, f"the worker answered {header['op']!r} instead of 'ready'")
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
                raise RunEnd(
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
                raise RunEnd(Status.ERROR, f"the worker answered {header['op']!r} to 'train'")
            self.stage = f"test (round {k})"
            self.progress.update("testing", k)
            try:
                header, payload = self._receive_or_timeout(deadline, max_payload)
            except PayloadTooLarge as e:
                raise RunEnd(Status.BAD_PREDICTION, describe_shape(e.header, k, shape)) from None
            returned = time.time()
            op = header["op"]
            if op == "none":
                if k == 0:
                    self.result.warnings.append(
                        "test returned None in round 0: the model stopped before any prediction"
                    )
                return
            if op == "bad_prediction":
                raise RunEnd(Status.BAD_PREDICTION, f"prediction {k}: {header.get('message')}")
            if op != "prediction":
                raise RunEnd(Status.ERROR, f"the worker answered {op!r} to 'test'")
            try:
                prediction = check_prediction(header, payload, shape, k)
            except BadPrediction as e:
                raise RunEnd(Status.BAD_PREDICTION, str(e)) from None
            self.files.write_prediction(k, prediction, returned)
            k += 1
            self.result.num_predictions = k
            done = bool(header.get("done_training"))
            cap = self.options.max_predictions
            if cap and k >= cap and not done:
                raise RunEnd(
                    Status.PREDICTION_LIMIT,
                    f"the run reached its cap of {cap} predictions (--max_predictions); "
                    "the predictions made count",
                )
        # The model said it is done.

    def execute(self) -> None:
        import numpy as np  # noqa: F401  (fail here, not mid-run, if numpy is missing)

        from autodl.data import DataError, load

        try:
            num_test = load(self.task.test_dir).metadata.size()
            output_dim = load(self.task.train_dir).metadata.get_output_size()
        except DataError as e:
            raise RunEnd(Status.BAD_DATASET, f"the dataset is defective: {e}") from None
        self.progress.update("starting the worker")
        self._spawn()
        done = self._construct()
        self._start_clock()
        self._loop(done, (int(num_test), int(output_dim)))
        self.result.status = Status.OK

    # ------------------------------------------------------------------ the end

    def finish(self) -> None:
        """Stop the worker, check the output folder, write end.txt and ingestion.json."""
        # Only a worker that finished is waiting for our next message.
        self.child.stop(polite=self.result.status is Status.OK, kill_grace=self.options.kill_grace)
        self.child.close()
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
            except RunEnd as e:
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
