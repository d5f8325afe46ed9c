"""Tabular rows: dense ``(1, 1, C, 1)`` or sparse ``(1, nnz, 2, 1)`` (column, value) pairs."""

from __future__ import annotations

import numpy as np


class TabularSpec:
    def __init__(self, metadata, example_shape, cuda: bool):
        try:
            _, cols = metadata.get_matrix_size(0)
            channels = metadata.get_num_channels(0) or 1
            sparse = bool(metadata.is_sparse(0))
        except Exception:
            cols, channels, sparse = -1, 1, False
        _, r, c, ch = example_shape
        # A dense row holds all `cols` columns; a sparse one holds (column, value) pairs.
        self.sparse = sparse or (cols > 2 and c == 2)
        self.width = cols * max(channels, 1) if self.sparse else r * c * ch

    def prepare(self, example: np.ndarray) -> np.ndarray:
        if self.sparse:
            row = np.zeros(self.width, np.float32)
            pairs = example.reshape(-1, 2)
            row[pairs[:, 0].astype(np.int64) % self.width] = pairs[:, 1]
            return row
        return example.reshape(-1).astype(np.float32)

    def pooled(self, items) -> np.ndarray:
        return np.nan_to_num(np.stack(items))

    def raw(self, items) -> np.ndarray:
        return np.stack(items)
