"""Scores of one prediction: NAUC (2 * AUC - 1 averaged over label columns) and accuracy.

Pure functions of arrays. One validation path (:func:`check_pair`), then vectorised work
over the whole matrix: one ``argsort`` per block of columns and tie groups found with
array operations, never a Python loop over rows or tie groups.

The definitions are those of the 2019 AutoDL scoring program:

- AUC of a column from tie-averaged ranks: ``(sum of ranks of positives - npos(npos+1)/2)
  / (npos * nneg)`` with positives ``solution == 1`` and negatives ``solution < 1``;
- columns without both classes are ignored; NAUC = 2 * mean(AUC) - 1;
- accuracy (reported for multi-class tasks) = ``sum(solution * p / (sum_j |p_j| + 1e-15)) / n``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "accuracy",
    "auc_per_column",
    "check_pair",
    "is_multiclass",
    "nauc",
    "valid_columns",
]

# Elements sorted per block: bounds the temporary arrays (order, sorted values, flags).
_BLOCK_ELEMENTS = 4_000_000


def _as_2d(name: str, a: ArrayLike) -> np.ndarray:
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 1-D or 2-D, got shape {arr.shape}")
    return arr


def _check_finite(name: str, arr: np.ndarray) -> None:
    bad = ~np.isfinite(arr)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValueError(
            f"{name} has {int(bad.sum())} non-finite value(s); the first is {float(arr[i, j])!r} "
            f"at row {i + 1}, column {j + 1}"
        )


def check_pair(solution: ArrayLike, prediction: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Validate a (solution, prediction) pair; return both as float64 2-D arrays.

    1-D inputs are one column. Raises ``ValueError`` for different shapes, no rows, or a
    NaN / infinite value (the message gives its row and column, 1-based).
    """
    s = _as_2d("solution", solution)
    p = _as_2d("prediction", prediction)
    if s.shape != p.shape:
        raise ValueError(f"prediction has shape {p.shape}, solution has shape {s.shape}")
    if s.shape[0] == 0:
        raise ValueError("solution and prediction have no rows")
    _check_finite("solution", s)
    _check_finite("prediction", p)
    return s, p


def valid_columns(solution: ArrayLike) -> np.ndarray:
    """Boolean mask of the columns that hold both classes (some ``== 1`` and some ``< 1``).

    For 0/1 solutions this is the 2019 program's rule (column sum neither 0 nor n).
    """
    s = _as_2d("solution", solution)
    return (s == 1).any(axis=0) & (s < 1).any(axis=0)


def is_multiclass(solution: ArrayLike) -> bool:
    """True when every row is one-hot (L1 norm 1 and max norm 1), as the 2019 program decides."""
    s = np.abs(_as_2d("solution", solution))
    return bool(s.shape[0] > 0 and np.all((s.sum(axis=1) == 1) & (s.max(axis=1) == 1)))


def _group_rank_sums(values: np.ndarray, pos_sorted: np.ndarray) -> np.ndarray:
    """Twice the rank sums of the positives, tie groups averaged (rows of sorted values)."""
    m, n = values.shape
    # A tie group starts where the sorted value changes; every row starts a group, so
    # groups never span two rows and one flat pass handles all of them.
    starts_mask = np.empty((m, n), dtype=bool)
    starts_mask[:, 0] = True
    np.not_equal(values[:, 1:], values[:, :-1], out=starts_mask[:, 1:])
    starts = np.flatnonzero(starts_mask)
    sizes = np.diff(starts, append=m * n)
    # Twice the mean 1-based rank of a group: first + last rank = 2 * start + size + 1.
    twice_rank = 2 * (starts % n) + sizes + 1
    positives = np.add.reduceat(pos_sorted.ravel(), starts, dtype=np.int64)
    return np.bincount(starts // n, weights=positives * twice_rank, minlength=m)


def _positive_rank_sums(pred_t: np.ndarray, pos_t: np.ndarray) -> np.ndarray:
    """Twice the sum of the tie-averaged 1-based ranks of the positives of each row.

    ``pred_t`` is (columns, examples): each row is one label column. Twice the sums are
    exact integers (as floats), so no half rank is rounded.
    """
    m, n = pred_t.shape
    order = np.argsort(pred_t, axis=1)
    values = np.sort(pred_t, axis=1)  # the same sequence as a gather by `order`, faster
    pos_sorted = np.take_along_axis(pos_t, order, axis=1)
    # Rows without ties: the rank of sorted position j is j + 1.
    rows, cols = np.nonzero(pos_sorted)
    out = np.bincount(rows, weights=2.0 * cols + 2.0, minlength=m)
    tied = np.flatnonzero((values[:, 1:] == values[:, :-1]).any(axis=1))
    if tied.size:
        out[tied] = _group_rank_sums(values[tied], pos_sorted[tied])
    return out


def auc_per_column(solution: ArrayLike, prediction: ArrayLike) -> np.ndarray:
    """ROC AUC of every label column from tie-averaged ranks; NaN for single-class columns.

    >>> auc_per_column([[1, 0], [0, 0], [1, 0]], [[0.9, 0.1], [0.2, 0.3], [0.2, 0.5]])
    array([0.75,  nan])
    """
    s, p = check_pair(solution, prediction)
    n, m = s.shape
    out = np.full(m, np.nan)
    pos = s == 1
    npos = pos.sum(axis=0)
    nneg = (s < 1).sum(axis=0)
    cols = np.flatnonzero((npos > 0) & (nneg > 0))
    if cols.size == 0:
        return out
    block = max(1, _BLOCK_ELEMENTS // n)
    for b in range(0, cols.size, block):
        idx = cols[b : b + block]
        # Columns as contiguous rows: a slice when the block is a run of columns (no copy
        # before the transpose), else a gather.
        sel = slice(idx[0], idx[-1] + 1) if idx[-1] - idx[0] == idx.size - 1 else idx
        twice_sums = _positive_rank_sums(
            np.ascontiguousarray(p[:, sel].T), np.ascontiguousarray(pos[:, sel].T)
        )
        npos_b, nneg_b = npos[idx].astype(np.float64), nneg[idx].astype(np.float64)
        out[idx] = (twice_sums / 2 - npos_b * (npos_b + 1) / 2) / (npos_b * nneg_b)
    return out


def nauc(solution: ArrayLike, prediction: ArrayLike) -> float:
    """Normalized ROC AUC, ``2 * mean(AUC) - 1`` over the columns holding both classes.

    ``solution`` is (n, output_dim) of 0/1 labels, ``prediction`` any scores of the same
    shape (higher means more likely positive). Ties get averaged ranks. Columns with a
    single class are ignored; when no column has both classes the score is undefined and
    ``ValueError`` is raised (the 2019 program fails there too: its mean of an empty list
    raises).

    >>> nauc([[1, 0], [0, 1], [1, 0]], [[0.9, 0.1], [0.2, 0.8], [0.6, 0.3]])
    1.0
    """
    aucs = auc_per_column(solution, prediction)
    valid = aucs[~np.isnan(aucs)]
    if valid.size == 0:
        raise ValueError("no label column of the solution holds both classes: NAUC is undefined")
    return float(2 * valid.mean() - 1)


def accuracy(solution: ArrayLike, prediction: ArrayLike) -> float:
    """Accuracy of a multi-class prediction: ``sum(solution * p / (sum_j |p_j| + 1e-15)) / n``.

    Each prediction row is normalised by its L1 norm, so scores need not sum to one.

    >>> round(accuracy([[1, 0], [0, 1]], [[3, 1], [0, 2]]), 6)
    0.875
    """
    s, p = check_pair(solution, prediction)
    normalized = p / (np.abs(p).sum(axis=1, keepdims=True) + 1e-15)
    return float(np.sum(s * normalized) / s.shape[0])
