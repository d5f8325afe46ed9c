"""Reading a dataset's examples a time slice at a time, in a seeded random order."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np


class Reader:
    """Prepares a dataset's ``(example, labels)`` pairs into compact items, bit by bit.

    Rows are visited in a seeded random order when the dataset supports ``ds[i]`` (so a
    first slice holds every class even when the files are sorted by label), in file
    order otherwise. ``prepare`` turns one 4-D example into what the learner keeps
    (a downsampled image, a spectrogram, token ids...), so memory stays small.
    """

    def __init__(
        self,
        dataset: Any,
        prepare: Callable[[np.ndarray], Any],
        seed: int = 0,
        shuffle: bool = True,
    ):
        self._dataset = dataset
        self._prepare = prepare
        self.size = len(dataset)
        self._order: np.ndarray | None = None
        self._iter = None
        if shuffle and hasattr(dataset, "__getitem__"):
            self._order = np.random.default_rng(seed).permutation(self.size)
        self.items: list[Any] = []
        self.labels: list[np.ndarray] = []
        self.seconds_per_item = 0.0

    @property
    def done(self) -> bool:
        return len(self.items) >= self.size

    def read(self, deadline: float = float("inf"), max_items: int | None = None) -> int:
        """Read until ``deadline`` (time.monotonic), ``max_items`` more rows or the end.

        Always reads at least one row when any is left, so every call makes progress.
        Returns how many rows were read.
        """
        start = time.monotonic()
        count = 0
        limit = self.size - len(self.items)
        if max_items is not None:
            limit = min(limit, max_items)
        while count < limit and (count == 0 or time.monotonic() < deadline):
            example, labels = self._next()
            self.items.append(self._prepare(np.asarray(example, dtype=np.float32)))
            self.labels.append(np.asarray(labels, dtype=np.float32).reshape(-1))
            count += 1
        if count:
            rate = (time.monotonic() - start) / count
            self.seconds_per_item = (
                rate if not self.seconds_per_item else (0.5 * self.seconds_per_item + 0.5 * rate)
            )
        return count

    def label_matrix(self) -> np.ndarray:
        return np.stack(self.labels) if self.labels else np.zeros((0, 0), np.float32)

    def _next(self):
        if self._order is not None:
            return self._dataset[int(self._order[len(self.items)])]
        if self._iter is None:
            self._iter = iter(self._dataset)
        return next(self._iter)
