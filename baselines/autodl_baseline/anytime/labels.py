"""Label handling shared by every learner: task kind, targets, prior and the NAUC metric."""

from __future__ import annotations

import numpy as np


def is_multilabel(labels: np.ndarray) -> bool:
    """True when a row can hold several labels (or one binary column): use sigmoids."""
    if labels.ndim != 2 or labels.shape[1] == 1:
        return True
    positives = (labels > 0).sum(axis=1)
    return bool(np.any(positives != 1))


def prior(labels: np.ndarray, n_rows: int) -> np.ndarray:
    """A constant prediction: each column's mean label (scores NAUC 0, never crashes)."""
    mean = labels.mean(axis=0) if len(labels) else np.zeros(labels.shape[1], np.float32)
    return np.tile(mean.astype(np.float32), (n_rows, 1))


def nauc(solution: np.ndarray, prediction: np.ndarray) -> float:
    """2 * mean column ROC AUC - 1 over columns with both classes (tie-averaged ranks).

    The competition's score of one prediction, used here to pick among candidate models
    on held-out rows. Returns 0.0 when no column has both classes.
    """
    from scipy.stats import rankdata

    truth = solution > 0
    aucs = []
    for k in range(truth.shape[1]):
        pos = truth[:, k]
        npos = int(pos.sum())
        nneg = len(pos) - npos
        if npos == 0 or nneg == 0:
            continue
        ranks = rankdata(prediction[:, k])
        aucs.append((ranks[pos].sum() - npos * (npos + 1) / 2) / (npos * nneg))
    return float(2 * np.mean(aucs) - 1) if aucs else 0.0


def full_columns(proba: np.ndarray, classes: np.ndarray, n_outputs: int) -> np.ndarray:
    """Spread scikit-learn's columns (only the classes it saw) over all output columns."""
    out = np.zeros((proba.shape[0], n_outputs), np.float32)
    out[:, np.asarray(classes, dtype=int)] = proba
    return out
