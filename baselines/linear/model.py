"""The classic reference: a linear model from scikit-learn on simple pooled features.

Each example, a 4-D tensor (time, rows, columns, channels), becomes a short vector:
its mean over time, averaged down to at most 8x8 cells per channel, then the mean,
spread, minimum and maximum of all its values. A logistic regression (one per label
when a row can carry several labels) learns on the whole training set in one go; one
prediction, then ``done_training``. Native API (``fit``/``predict``).
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

CELLS = 8


def _cells(size: int) -> np.ndarray:
    """Start of each of the CELLS cells along an axis of ``size`` (cells may repeat)."""
    return (np.arange(CELLS) * size) // CELLS


def pooled(example: np.ndarray) -> np.ndarray:
    """A fixed-length vector for any example shape (variable sizes included)."""
    x = np.nan_to_num(np.asarray(example, dtype=np.float32))
    frame = x.mean(axis=0)  # (rows, cols, channels)
    rows, cols = frame.shape[:2]
    # Average each cell's block; np.add.reduceat wants strictly usable starts, so cells
    # on axes shorter than CELLS repeat their rows (nearest cell).
    r, c = _cells(rows), _cells(cols)
    if rows >= CELLS:
        frame = np.add.reduceat(frame, r, axis=0) / np.diff(np.append(r, rows))[:, None, None]
    else:
        frame = frame[r]
    if cols >= CELLS:
        frame = np.add.reduceat(frame, c, axis=1) / np.diff(np.append(c, cols))[None, :, None]
    else:
        frame = frame[:, c]
    channels = frame.shape[2]
    grid = frame[:, :, : min(channels, 3)].reshape(-1)
    stats = np.array([x.mean(), x.std(), x.min(), x.max(), np.log1p(x.shape[0])], np.float32)
    return np.concatenate([grid, stats])


class Model:
    def __init__(self, metadata):
        self.output_dim = int(metadata.get_output_size())
        self.done_training = False
        self.model = None
        self.multilabel = False
        self.constant = np.zeros(self.output_dim, np.float32)

    def fit(self, dataset, remaining_time_budget=None):
        features, labels = [], []
        for example, label in dataset:
            features.append(pooled(example))
            labels.append(np.asarray(label, np.float32))
        X, Y = np.stack(features), np.stack(labels)
        self.constant = Y.mean(axis=0)
        self.multilabel = self.output_dim == 1 or bool(np.any((Y > 0).sum(axis=1) != 1))
        pipeline = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=500))
        # One BLAS thread: tiny matrices on a shared machine run slower on more.
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore")
            if self.multilabel:
                self.model = OneVsRestClassifier(pipeline).fit(X, (Y > 0).astype(int))
            elif len(np.unique(Y.argmax(axis=1))) > 1:
                self.model = pipeline.fit(X, Y.argmax(axis=1))
        self.done_training = True

    def predict(self, dataset, remaining_time_budget=None):
        X = np.stack([pooled(example) for example, _ in dataset])
        if self.model is None:
            return np.tile(self.constant, (len(X), 1))
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore")
            proba = self.model.predict_proba(X)
        if self.multilabel:
            return np.asarray(proba, np.float32).reshape(len(X), self.output_dim)
        out = np.zeros((len(X), self.output_dim), np.float32)
        out[:, self.model.classes_] = proba
        return out
