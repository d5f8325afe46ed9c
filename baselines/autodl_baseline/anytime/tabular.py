"""Tabular rows: dense ``(1, 1, C, 1)`` or sparse ``(1, nnz, 2, 1)`` (column, value) pairs."""

from __future__ import annotations

import numpy as np

MAX_DENSE = 2000  # columns given to gradient boosting, which needs a dense matrix


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
        self.kept: np.ndarray | None = None

    def prepare(self, example: np.ndarray):
        if self.sparse:
            pairs = example.reshape(-1, 2)
            return pairs[:, 0].astype(np.int64) % self.width, pairs[:, 1].astype(np.float32)
        return example.reshape(-1).astype(np.float32)

    def pooled(self, items):
        """All columns: a dense matrix, or a CSR matrix for sparse rows."""
        if not self.sparse:
            return np.nan_to_num(np.stack(items))
        from scipy.sparse import csr_matrix

        indptr = np.cumsum([0] + [len(cols) for cols, _ in items])
        indices = np.concatenate([cols for cols, _ in items])
        values = np.nan_to_num(np.concatenate([vals for _, vals in items]))
        matrix = csr_matrix((values, indices, indptr), shape=(len(items), self.width))
        matrix.sum_duplicates()
        return matrix

    def raw(self, items) -> np.ndarray:
        """A dense matrix; of sparse rows, the MAX_DENSE columns most often set in training."""
        if not self.sparse:
            return np.stack(items)
        matrix = self.pooled(items)
        if self.kept is None:  # the first call sees the training rows
            counts = np.asarray((matrix != 0).sum(axis=0)).ravel()
            self.kept = np.sort(np.argsort(-counts, kind="stable")[:MAX_DENSE])
        return matrix[:, self.kept].toarray()
