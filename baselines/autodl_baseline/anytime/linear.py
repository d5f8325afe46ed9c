"""The fast candidate: a linear model from scikit-learn on a domain's pooled features."""

from __future__ import annotations

import time
import warnings

import numpy as np

from .labels import full_columns


class LinearCandidate:
    """Logistic regression (one-vs-rest when multi-label) on ``features(items)``.

    Refitting is cheap and not interruptible, so it is refitted only when the data grew
    and the last fit's cost, scaled to the new size, fits the time given.
    """

    name = "linear"

    def __init__(self, features, n_outputs: int, multilabel: bool, seed: int, sparse: bool = False):
        self._features = features
        self.n_outputs = n_outputs
        self.multilabel = multilabel
        self.seed = seed
        self.sparse = sparse
        self.model = None
        self.n_fitted = 0
        self.fit_seconds = 0.0
        self.version = 0
        self.done = False

    def wants(self, n_items: int, seconds: float) -> bool:
        """Whether a refit on ``n_items`` rows is worth it and fits in ``seconds``."""
        if self.model is None:
            return True
        if n_items < 1.3 * self.n_fitted:
            return False
        return self.fit_seconds * n_items / max(self.n_fitted, 1) < seconds

    def update(self, items, labels: np.ndarray, deadline: float, complete: bool = False) -> None:
        from scipy.sparse import issparse
        from sklearn.linear_model import LogisticRegression
        from sklearn.multiclass import OneVsRestClassifier
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        start = time.monotonic()
        X = self._features(items)
        if self.sparse:
            from sklearn.feature_extraction.text import TfidfTransformer

            clf = LogisticRegression(C=4.0, solver="liblinear", max_iter=200)
            steps = [TfidfTransformer(sublinear_tf=True), clf]
        else:
            clf = LogisticRegression(C=1.0, max_iter=300)
            # Sparse rows (wide tables) keep their zeros: scale without centring.
            steps = [StandardScaler(with_mean=not issparse(X)), clf]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if self.multilabel:
                y = (labels > 0).astype(int)
                model = OneVsRestClassifier(make_pipeline(*steps)).fit(X, y)
            else:
                y = labels.argmax(axis=1)
                if len(np.unique(y)) < 2:
                    return
                if self.sparse and len(np.unique(y)) > 2:
                    steps[-1] = OneVsRestClassifier(steps[-1])  # liblinear is binary only
                model = make_pipeline(*steps).fit(X, y)
        self.model = model
        self.n_fitted = len(labels)
        self.fit_seconds = time.monotonic() - start
        self.version += 1

    def predict(self, items) -> np.ndarray:
        X = self._features(items)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            proba = self.model.predict_proba(X)
        if self.multilabel:
            return np.asarray(proba, np.float32).reshape(len(proba), -1)
        return full_columns(proba, self.model.classes_, self.n_outputs)

    @property
    def trained(self) -> bool:
        return self.model is not None
