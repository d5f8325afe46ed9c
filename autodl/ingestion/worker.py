"""The untrusted side of ingestion: imports ``model.py`` and calls the participant API.

Run by the supervisor as ``python -m autodl.ingestion.worker READ_FD WRITE_FD`` in its
own process group, scratch folder and scrubbed environment. It does what the
supervisor's messages say (``init``, ``train``, ``test``, ``exit``) and answers each one;
the supervisor owns the clock and every file of the protocol. Nothing here is trusted:
the participant's code runs in this process and may rewrite any of it, which is why the
supervisor validates every answer.

This module imports only :mod:`autodl.ingestion.messages` and :mod:`autodl.ingestion.api`
from the package, never the supervisor.
"""

from __future__ import annotations

import ctypes
import faulthandler
import importlib.util
import os
import platform
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from autodl.ingestion import api as api_module
from autodl.ingestion.messages import Reader, send, truncate

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Ask the kernel to SIGKILL us when the supervisor dies (Linux)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    # In a sandbox our parent is bwrap's init (pid 1 of the namespace), which dies with
    # the supervisor (--die-with-parent) and takes us along: nothing to check.
    # Re-parented to pid 1: the supervisor died before the call, unless it is pid 1 itself
    # (the first process of a container without an init).
    supervisor_is_init = os.environ.get("AUTODL_SUPERVISOR_PID") == "1"
    if os.environ.get("AUTODL_SANDBOX") != "bwrap" and os.getppid() == 1 and not supervisor_is_init:
        os._exit(1)


def set_rlimits(limits: dict[str, int]) -> list[str]:
    """Lower our own rlimits (always allowed) before any participant code runs."""
    import resource

    errors = []
    for name, value in limits.items():
        try:
            resource.setrlimit(getattr(resource, name), (int(value), int(value)))
        except (AttributeError, ValueError, OSError) as e:
            errors.append(f"{name} = {value} not applied: {e}")
    return errors


def _cpu_device() -> dict[str, Any]:
    name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        memory = 0
    return {"type": "cpu", "name": name, "memory_bytes": int(memory), "count": os.cpu_count()}


def detect_device() -> dict[str, Any]:
    """The device the model gets: the first visible CUDA GPU when PyTorch sees one, else CPU.

    PyTorch is imported only when an NVIDIA driver is present and GPUs are visible, so
    a CPU machine pays nothing.
    """
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in ("", "-1"):
        return _cpu_device()
    if not (os.path.exists("/proc/driver/nvidia") or os.path.exists("/dev/nvidiactl")):
        return _cpu_device()
    if importlib.util.find_spec("torch") is None:
        return _cpu_device()
    try:
        import torch

        if torch.cuda.is_available():
            props = torch.cuda.get_device_properties(0)
            return {
                "type": "cuda",
                "name": props.name,
                "memory_bytes": int(props.total_memory),
                "count": torch.cuda.device_count(),
            }
    except Exception:  # a broken CUDA setup means CPU, not a failed run
        pass
    return _cpu_device()


_OURS = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep  # autodl/


def _ours(filename: str) -> bool:
    return filename.startswith(_OURS) or filename.startswith("<frozen importlib")


def _trim(te: traceback.TracebackException, code_dir: str, seen: set[int]) -> None:
    """Drop the harness's frames above the participant's first one (the worker calling
    the API), and name the participant's files relative to the submission folder."""
    if id(te) in seen:
        return
    seen.add(id(te))
    frames = list(te.stack)
    first = next((i for i, f in enumerate(frames) if not _ours(f.filename)), None)
    if first is None and te.exc_type is not None and issubclass(te.exc_type, SyntaxError):
        first = len(frames)  # the import machinery alone: the error's own lines say where
    if first is not None:
        frames = frames[first:]
    prefix = code_dir.rstrip(os.sep) + os.sep if code_dir else None
    for f in frames:
        f.line  # noqa: B018 - read the source line before the file is renamed below
        if prefix and f.filename.startswith(prefix):
            f.filename = f.filename[len(prefix) :]
    te.stack = traceback.StackSummary.from_list(frames)
    if prefix and isinstance(getattr(te, "filename", None), str) and te.filename.startswith(prefix):
        te.filename = te.filename[len(prefix) :]
    for chained in (te.__cause__, te.__context__):
        if chained is not None:
            _trim(chained, code_dir, seen)


def participant_traceback(exc: BaseException, code_dir: str = "") -> str:
    """The traceback of an exception from the participant's code, from its own first frame
    (file, line number and code line), as Python prints it.

    >>> def fit():
    ...     raise ValueError("my bug")
    >>> try:
    ...     fit()
    ... except ValueError as e:
    ...     print(participant_traceback(e).splitlines()[-1])
    ValueError: my bug
    """
    te = traceback.TracebackException(type(exc), exc, exc.__traceback__, compact=True)
    _trim(te, code_dir, set())
    return "".join(te.format())


def _error(stage: str, exc: BaseException, code_dir: str = "") -> dict[str, Any]:
    """The ``error`` message for an exception raised by the participant's code."""
    if isinstance(exc, MemoryError):
        kind, message = "out_of_memory", f"MemoryError in {stage}: {exc}".rstrip(": ")
    elif isinstance(exc, SystemExit):
        kind, message = "exit", f"the model called sys.exit({exc.code!r}) in {stage}"
    elif isinstance(exc, KeyboardInterrupt):
        kind, message = "exception", f"KeyboardInterrupt in {stage}"
    else:
        kind = "exception"
        text = str(exc).strip().splitlines()
        message = f"{type(exc).__name__} in {stage}: {text[0] if text else ''}".rstrip(": ")
        tf1 = sys.modules.get("autodl.ingestion.tf1")  # loaded in TF1 mode only
        if tf1 is not None:
            message += tf1.hint(exc)
        if isinstance(exc, ModuleNotFoundError) and exc.name:
            message += (
                f" ({exc.name.split('.')[0]} is not installed where the submission runs: "
                "give it an environment that has it, --python PATH)"
            )
    try:
        tb = participant_traceback(exc, code_dir)
    except Exception:  # the participant's exception may break formatting: keep Python's
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return {
        "op": "error",
        "stage": stage,
        "kind": kind,
        "message": truncate(message, 2000),
        "traceback": truncate(tb),
    }


def pack_prediction(prediction: Any) -> tuple[dict[str, Any], Any]:
    """The message for what ``test``/``predict`` returned: header and raw float bytes."""
    import numpy as np

    if prediction is None:
        return {"op": "none"}, None
    try:
        arr = np.asarray(prediction)
    except Exception as e:
        return {
            "op": "bad_prediction",
            "message": f"test returned a {type(prediction).__name__} that is not an array: {e}",
        }, None
    if arr.dtype.kind not in "biuf":
        what = {"U": "strings", "S": "bytes", "O": "Python objects", "c": "complex numbers"}
        return {
            "op": "bad_prediction",
            "message": f"test returned an array of {what.get(arr.dtype.kind, arr.dtype.name)} "
            f"(dtype {arr.dtype}, shape {arr.shape}); a prediction holds real numbers",
        }, None
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float64)
    arr = np.ascontiguousarray(arr.astype(arr.dtype.newbyteorder("<"), copy=False))
    header = {"op": "prediction", "shape": list(arr.shape), "dtype": arr.dtype.str}
    return header, memoryview(arr.reshape(-1)).cast("B") if arr.size else None


def _activate_tf1() -> dict[str, Any]:
    """TF1 mode (:mod:`autodl.ingestion.tf1`), refused in one line without TensorFlow."""
    if importlib.util.find_spec("tensorflow") is None:
        raise api_module.APIError(
            "the submission runs in TF1 mode (--tf-mode), but TensorFlow is not installed "
            "where it runs: give it an environment that has it (--python PATH)"
        )
    from autodl.ingestion import tf1

    return tf1.activate()


class _BadDataset(Exception):
    """The dataset could not be loaded (before any participant code ran)."""


class Worker:
    """One participant model served over the message pipe."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self.reader = Reader(read_fd)
        self.write_fd = write_fd
        self.stage = "start"
        self.code_dir = ""
        self.tf1: dict[str, Any] | None = None  # what TF1 mode did, when it is on

    def send(self, header: dict[str, Any], payload: Any = None) -> None:
        send(self.write_fd, header, payload)

    def construct(self, init: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
        """Load the data, import model.py, build the datasets for its API and the Model."""
        self.stage = "loading the dataset"
        from autodl.data import DataError, load

        try:
            train = load(init["train_dir"])
            test = load(init["test_dir"])
        except DataError as e:
            raise _BadDataset(str(e)) from None
        # Sent before model.py is imported: a bad_dataset error only counts before it,
        # when no participant code can have forged it.
        self.send({"op": "loaded"})
        if init.get("tf_mode") == "1":
            self.stage = "TF1 mode (tensorflow as tf.compat.v1)"
            self.tf1 = _activate_tf1()
        if init.get("numpy_aliases"):  # an environment that asks for them (legacy)
            import numpy

            from autodl.ingestion.numpy_aliases import restore

            restore(numpy)
        self.stage = "the import of model.py"
        code_dir = self.code_dir = init["code_dir"]
        sys.path.insert(0, code_dir)
        spec = importlib.util.spec_from_file_location("model", Path(code_dir) / "model.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["model"] = module
        spec.loader.exec_module(module)
        model_class = getattr(module, "Model", None)
        if model_class is None:
            raise api_module.APIError("model.py defines no class named Model")
        api = api_module.detect(model_class)
        if api.name == api_module.AUTODL and importlib.util.find_spec("tensorflow") is None:
            raise api_module.APIError(
                "the model uses the AutoDL API (train/test), whose datasets are "
                "tf.data.Datasets, but TensorFlow is not installed (pip install 'autodl[tf]')"
            )
        self.stage = f"the preparation of the {api.name} API's datasets"
        train_ds, test_ds = api.datasets(train, test, tf1=self.tf1 is not None)
        self.stage = "model construction (Model(metadata))"
        model = model_class(train.metadata)
        return api, model, train_ds, test_ds

    def serve(self) -> int:
        init, _ = self.reader.receive()
        errors = set_rlimits(init.get("rlimits") or {})
        device = detect_device()
        os.environ["AUTODL_DEVICE"] = device["type"]
        self.send({"op": "device", "device": device, "limit_errors": errors})
        try:
            api, model, train_ds, test_ds = self.construct(init)
            done = bool(getattr(model, "done_training", False))
        except BaseException as e:
            stage = self.stage
            if isinstance(e, _BadDataset):
                self.send({"op": "error", "stage": stage, "kind": "bad_dataset", "message": str(e)})
            elif isinstance(e, api_module.APIError):
                self.send({"op": "error", "stage": stage, "kind": "api", "message": str(e)})
            else:
                self.send(_error(stage, e, self.code_dir))
            return 1
        self.send({"op": "ready", "api": api.name, "done_training": done})
        k = 0
        while True:
            msg, _ = self.reader.receive()
            if msg["op"] == "exit":
                return 0
            if msg["op"] != "round":
                continue
            deadline = msg["deadline"]
            try:
                stage = f"{api.train} (round {k})"
                getattr(model, api.train)(
                    train_ds, remaining_time_budget=deadline - time.monotonic()
                )
                self.send({"op": "trained"})
                stage = f"{api.test} (round {k})"
                result = getattr(model, api.test)(
                    test_ds, remaining_time_budget=deadline - time.monotonic()
                )
                header, payload = pack_prediction(result)
                header["done_training"] = bool(getattr(model, "done_training", False))
            except BaseException as e:
                self.send(_error(stage, e, self.code_dir))
                return 1
            self.send(header, payload)
            k += 1


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    _die_with_parent()
    faulthandler.enable()
    read_fd, write_fd = int(argv[0]), int(argv[1])
    return Worker(read_fd, write_fd).serve()


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # os._exit: no interpreter teardown, where a participant's threads or atexit hooks
    # could hang after the answer was sent.
    os._exit(code)
