"""The any-time loop's state: data read so far, the candidates, and which one to output."""

from __future__ import annotations

import sys
import time

import numpy as np

from .boosting import BoostingCandidate
from .labels import is_multilabel, nauc, prior
from .linear import LinearCandidate
from .network import NetworkCandidate
from .reading import Reader

MIN_VALIDATION = 150  # below this many training rows, nothing is held out
MAX_VALIDATION = 1000
FIRST_SLICE = 3000  # rows read before the first prediction, at most
PATIENCE = 4  # rounds without a better validation score before the network stops


class Engine:
    """Reads data in slices and trains a fast linear candidate and a stronger one.

    Every fifth row read goes to a validation set when the dataset is large enough;
    after each round the output is the candidate (or the average of both) scoring the
    best NAUC there. Without a validation set the average is used once the strong
    candidate has trained a little.
    """

    def __init__(self, spec, domain: str, n_outputs: int, device: str, seed: int):
        self.spec = spec
        self.domain = domain
        self.n_outputs = n_outputs
        self.device = device
        self.seed = seed
        self.reader: Reader | None = None
        self.train_items: list = []
        self.train_labels: list = []
        self.val_items: list = []
        self.val_labels: list = []
        self.test_items: list | None = None
        self.candidates: list = []
        self.multilabel: bool | None = None
        self.choice = "none"
        self.val_scores: dict[str, float] = {}
        self.best_strong = -np.inf
        self.stale_rounds = 0
        self._scored_version = -1
        self.done = False
        self._test_cache: dict[str, tuple[int, np.ndarray]] = {}
        self._everything: list = []
        self.linear_check: LinearCandidate | None = None

    # ----------------------------------------------------------------- training

    def read(self, dataset, deadline: float, max_items: int | None = None) -> None:
        if self.reader is None:
            self.reader = Reader(dataset, self.spec.prepare, self.seed)
        start = len(self.reader.items)
        self.reader.read(deadline, max_items)
        hold_out = self.reader.size >= MIN_VALIDATION
        for k in range(start, len(self.reader.items)):
            to_val = hold_out and k % 5 == 4 and len(self.val_items) < MAX_VALIDATION
            (self.val_items if to_val else self.train_items).append(self.reader.items[k])
            (self.val_labels if to_val else self.train_labels).append(self.reader.labels[k])

    def fit(self, dataset, deadline: float, limit: float | None = None) -> None:
        """One round: read, train until ``deadline``; uninterruptible fits end by ``limit``.

        The first round only reads a slice and fits the linear model, so that the first
        prediction comes within seconds; the strong candidate starts in the second.
        """
        now = time.monotonic()
        first = self.reader is None
        if first or not self.reader.done:
            share = 0.6 if first else 0.33
            self.read(
                dataset, now + share * (deadline - now), max_items=FIRST_SLICE if first else None
            )
        if not self.candidates:
            self._make_candidates(np.stack(self.train_labels))
        complete = self.reader.done
        linear, strong = self.candidates
        items, labels = self._all()
        if linear.wants(len(labels), 0.3 * (deadline - time.monotonic())):
            linear.update(items, labels, deadline, complete)
        if first:
            self.choice = "linear" if linear.trained else "none"
            return
        train_labels = np.stack(self.train_labels)
        if time.monotonic() < deadline and not strong.done:
            if isinstance(strong, BoostingCandidate):
                strong.update(self.train_items, train_labels, deadline, complete, limit=limit)
            else:
                strong.update(self.train_items, train_labels, deadline, complete)
        if self.val_items and self.linear_check.wants(len(train_labels), np.inf):
            self.linear_check.update(self.train_items, train_labels, deadline, complete)
        self._select()
        self.done = complete and strong.done and not linear.wants(len(labels), np.inf)

    def min_round_seconds(self) -> float:
        """A round shorter than this would barely move the strong candidate."""
        strong = self.candidates[1] if self.candidates else None
        return 5.0 * getattr(strong, "step_seconds", 0.0)

    def _all(self) -> tuple[list, np.ndarray]:
        """Training and validation rows together (what the linear model outputs from)."""
        if len(self._everything) != len(self.train_items) + len(self.val_items):
            self._everything = self.train_items + self.val_items
        return self._everything, np.stack(self.train_labels + self.val_labels)

    def _make_candidates(self, labels: np.ndarray) -> None:
        self.multilabel = is_multilabel(labels)
        n = self.reader.size
        sparse = self.domain == "text"

        def linear() -> LinearCandidate:
            return LinearCandidate(
                self.spec.pooled, self.n_outputs, self.multilabel, self.seed, sparse=sparse
            )

        if self.domain == "tabular":
            strong = BoostingCandidate(self.spec.raw, self.n_outputs, self.multilabel, self.seed)
        else:
            # Small datasets need many passes; large ones stop on the validation set.
            epochs = float(np.clip(30000 / max(n, 1), 20, 300))
            strong = NetworkCandidate(
                self.spec,
                self.n_outputs,
                self.multilabel,
                self.seed,
                self.device,
                max_epochs=epochs,
            )
        self.candidates = [linear(), strong]
        # The output linear model sees the validation rows too; this twin does not, so
        # that its validation score is honest.
        self.linear_check = linear()

    def _select(self) -> None:
        linear, strong = self.candidates
        if not strong.trained:
            self.choice = "linear" if linear.trained else "none"
            return
        if not linear.trained:
            self.choice = "strong"
            return
        if len(self.val_items) < 30 or not self.linear_check.trained:
            warm = getattr(strong, "epochs", 10.0) >= 5
            self.choice = "blend" if warm else "linear"
            return
        truth = np.stack(self.val_labels)
        p_lin = self.linear_check.predict(self.val_items)
        p_str = strong.predict(self.val_items)
        scores = {
            "linear": nauc(truth, p_lin),
            "strong": nauc(truth, p_str),
            "blend": nauc(truth, 0.5 * (p_lin + p_str)),
        }
        self.val_scores = scores
        self.choice = max(scores, key=scores.get)
        if strong.version == self._scored_version:
            return  # the network did not train this round: no news about its progress
        self._scored_version = strong.version
        if scores["strong"] > self.best_strong + 1e-4:
            self.best_strong, self.stale_rounds = scores["strong"], 0
        else:
            self.stale_rounds += 1
            if self.stale_rounds >= PATIENCE and isinstance(strong, NetworkCandidate):
                strong.done = True

    # ----------------------------------------------------------------- prediction

    def read_test(self, dataset) -> list:
        if self.test_items is None:
            reader = Reader(dataset, self.spec.prepare, self.seed, shuffle=False)
            reader.read()
            self.test_items = reader.items
        return self.test_items

    def predict(self, dataset) -> np.ndarray:
        items = self.read_test(dataset)
        linear, strong = self.candidates or (None, None)
        if self.choice == "none":
            return prior(np.stack(self.train_labels), len(items))
        parts = []
        if self.choice in ("linear", "blend"):
            parts.append(self._cached(linear, items))
        if self.choice in ("strong", "blend"):
            parts.append(self._cached(strong, items))
        return np.mean(parts, axis=0).astype(np.float32)

    def _cached(self, candidate, items) -> np.ndarray:
        hit = self._test_cache.get(candidate.name)
        if hit is None or hit[0] != candidate.version:
            hit = (candidate.version, candidate.predict(items))
            self._test_cache[candidate.name] = hit
        return hit[1]

    def describe(self) -> str:
        linear, strong = self.candidates or (None, None)
        extra = f" epochs={strong.epochs:.1f}" if hasattr(strong, "epochs") else ""
        scores = " ".join(f"{k}={v:.3f}" for k, v in self.val_scores.items())
        sizes = f"train={len(self.train_items)} val={len(self.val_items)}"
        return f"{self.domain}: {sizes} out={self.choice}{extra} {scores}"


def log(message: str) -> None:
    print(f"[autodl_baseline] {message}", file=sys.stderr, flush=True)
