"""AutoDL baseline: one PyTorch submission for images, videos, speech, text and tables.

Native API of ``autodl ingest``: ``Model(metadata)``, ``fit(dataset, remaining_time_budget)``,
``predict(dataset, remaining_time_budget)``, ``done_training``. The dataset is an
``autodl.data`` dataset of ``(example, labels)`` pairs (``len``, ``ds[i]``, iteration).

Any-time: the first round trains a linear model on a slice and predicts within seconds;
each later round is a little longer (the score weights early time most, on a log scale),
reads more data and trains a stronger model (a CNN, a (2+1)D CNN, a CNN on log-mel
spectrograms, a fastText-style network, or gradient boosting) for its time slice.
Budget-aware: step and prediction times are measured so that no round overruns the time
left. Seeded; it never raises: on an internal error it returns its last good prediction.
"""

from __future__ import annotations

import os
import time
import traceback

import numpy as np
import torch  # imported here so the import is paid during construction, not the budget
from anytime.domain import infer_domain
from anytime.engine import Engine, log
from anytime.labels import prior
from anytime.speech import SpeechSpec
from anytime.tabular import TabularSpec
from anytime.text import TextSpec
from anytime.vision import ImageSpec, VideoSpec
from threadpoolctl import threadpool_limits

SEED = 0
SPECS = {
    "image": ImageSpec,
    "video": VideoSpec,
    "speech": SpeechSpec,
    "text": TextSpec,
    "tabular": TabularSpec,
}
FIRST_ROUND = 2.0  # seconds, at most, of reading and fitting before the first prediction
GROWTH = 0.4  # each later round lasts this fraction of the time elapsed so far
SAFETY = 1.0  # seconds kept free at the end of the budget


def _device() -> str:
    wanted = os.environ.get("AUTODL_DEVICE", "").strip()
    if wanted.startswith("cuda") and torch.cuda.is_available():
        return wanted
    if not wanted and torch.cuda.is_available():
        return "cuda"
    return "cpu"


def _threads() -> int:
    """Threads for torch and the BLAS/OpenMP pools: the cores that are free right now.

    ``OMP_NUM_THREADS`` wins when set. On a shared machine, spinning threads that wait for
    a busy core make small kernels many times slower than one thread, so cores already
    busy (the load average) are left alone.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return max(1, min(cores, int(env)))
    try:
        busy = int(round(os.getloadavg()[0]))
    except OSError:
        busy = 0
    return max(1, min(cores, cores - busy))


def _warm_up() -> None:
    """Pay one-off costs during construction, which the time budget does not count.

    Building the first optimizer imports torch's compiler stack (seconds), and the
    first scikit-learn fits import their modules.
    """
    import scipy.stats  # noqa: F401
    import sklearn.ensemble  # noqa: F401
    import sklearn.linear_model  # noqa: F401
    import sklearn.multiclass  # noqa: F401
    import sklearn.pipeline  # noqa: F401

    x = np.random.default_rng(0).normal(size=(20, 3))
    sklearn.linear_model.LogisticRegression().fit(x, np.arange(20) % 2).predict_proba(x)

    weight = torch.zeros(2, 2, requires_grad=True)
    optimizer = torch.optim.AdamW([weight])
    torch.nn.functional.conv2d(torch.zeros(1, 1, 4, 4), weight.view(1, 1, 2, 2)).sum().backward()
    optimizer.step()


class Model:
    def __init__(self, metadata):
        self.metadata = metadata
        self.done_training = False
        self.device = _device()
        _warm_up()  # first, so that the thread limits below reach every library it loads
        threads = _threads()
        torch.set_num_threads(threads)
        # Kept as attributes: the limits hold while the objects live. The linear models'
        # matrices are small, so one BLAS thread is fastest; boosting uses OpenMP.
        self._blas = threadpool_limits(1, user_api="blas")
        self._openmp = threadpool_limits(threads, user_api="openmp")
        torch.manual_seed(SEED)
        np.random.seed(SEED)
        self.n_outputs = int(metadata.get_output_size())
        self.engine: Engine | None = None
        self.last_prediction: np.ndarray | None = None
        self.started: float | None = None
        self.predict_seconds = 0.0
        self.rounds = 0

    # ------------------------------------------------------------------ native API

    def fit(self, dataset, remaining_time_budget=None):
        now = time.monotonic()
        if self.started is None:
            self.started = now
        remaining = float("inf") if remaining_time_budget is None else remaining_time_budget
        try:
            if self.engine is None:
                self.engine = self._make_engine(dataset)
            elapsed = now - self.started
            length = (
                FIRST_ROUND
                if not self.rounds
                else max(
                    FIRST_ROUND,
                    GROWTH * elapsed,
                    2 * self.predict_seconds,
                    self.engine.min_round_seconds(),
                )
            )
            predict_reserve = 1.5 * self.predict_seconds if self.rounds else 0.0
            available = remaining - predict_reserve - SAFETY
            if self.rounds and available < 0.5:
                self.done_training = True
                return
            self.engine.fit(
                dataset, now + max(0.1, min(length, available)), limit=now + max(0.1, available)
            )
            self.rounds += 1
            log(
                f"round {self.rounds} at {time.monotonic() - self.started:.1f}s: "
                f"{self.engine.describe()}"
            )
            used = time.monotonic() - now
            left = remaining - used - 1.5 * max(self.predict_seconds, 0.1) - SAFETY
            if self.engine.done or left < min(length, 2.0):
                self.done_training = True
        except Exception:
            log("fit failed, keeping the last good prediction:\n" + traceback.format_exc())
            self.done_training = True

    def predict(self, dataset, remaining_time_budget=None):
        start = time.monotonic()
        remaining = float("inf") if remaining_time_budget is None else remaining_time_budget
        try:
            if self.last_prediction is not None and 1.2 * self.predict_seconds > remaining:
                return self.last_prediction
            prediction = self.engine.predict(dataset)
            if prediction.shape != (len(dataset), self.n_outputs) or not np.all(
                np.isfinite(prediction)
            ):
                raise ValueError(f"bad prediction of shape {prediction.shape}")
            self.last_prediction = prediction
        except Exception:
            log("predict failed, returning the last good prediction:\n" + traceback.format_exc())
            self.done_training = True
            if self.last_prediction is None:
                self.last_prediction = prior(
                    np.zeros((1, self.n_outputs), np.float32), len(dataset)
                )
        self.predict_seconds = time.monotonic() - start
        return self.last_prediction

    # ------------------------------------------------------------------ helpers

    def _make_engine(self, dataset) -> Engine:
        example, _ = dataset[0] if hasattr(dataset, "__getitem__") else next(iter(dataset))
        shape = tuple(np.asarray(example).shape)
        domain = infer_domain(self.metadata, shape)
        spec = SPECS[domain](self.metadata, shape, self.device.startswith("cuda"))
        log(
            f"domain {domain}, example shape {shape}, {self.n_outputs} outputs, "
            f"device {self.device}, {torch.get_num_threads()} threads"
        )
        return Engine(spec, domain, self.n_outputs, self.device, SEED)
