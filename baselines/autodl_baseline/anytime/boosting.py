"""Gradient boosting candidate for tabular data: stronger settings as time allows."""

from __future__ import annotations

import time
import warnings

import numpy as np

from .labels import full_columns

# (max_iter, learning_rate, max_leaf_nodes): each stage is refitted from scratch, so a
# later stage runs only when its cost, predicted from the previous one, fits the round.
FIRST_ROWS = 2000
STAGES = ((30, 0.2, 15), (150, 0.1, 31), (400, 0.05, 31), (1000, 0.03, 63))


class BoostingCandidate:
    name = "boosting"

    def __init__(self, features, n_outputs: int, multilabel: bool, seed: int):
        self._features = features
        self.n_outputs = n_outputs
        self.multilabel = multilabel
        self.seed = seed
        self.models = None
        self.stage = 0
        self.n_fitted = 0
        self.last_cost = 0.0  # seconds per (iteration * row * leaf) of the last fit
        self.version = 0
        self.done = False

    def estimate(self, n_items: int, stage: int) -> float:
        if not self.last_cost:
            return 0.0
        max_iter, _, leaves = STAGES[stage]
        return 1.5 * self.last_cost * max_iter * leaves * n_items

    def update(
        self,
        items,
        labels: np.ndarray,
        deadline: float,
        complete: bool = False,
        limit: float | None = None,
    ) -> None:
        """Fit the next stage if it is expected to end before ``limit`` (default: deadline).

        A fit cannot be cut short, so the engine passes the end of the whole budget as
        ``limit``: a stage longer than one round is still worth running when it fits.
        """
        from sklearn.ensemble import HistGradientBoostingClassifier

        if self.models is None and len(labels) > FIRST_ROWS:
            # The first fit has no cost estimate yet: keep it small (rows come shuffled).
            items, labels = items[:FIRST_ROWS], labels[:FIRST_ROWS]
        n = len(labels)
        # Refit at the same stage when the data doubled, else move to the next stage.
        stage = self.stage
        if self.models is not None and n < 2 * self.n_fitted:
            stage += 1
        if stage >= len(STAGES):
            self.done = complete
            return
        if not self.multilabel and len(np.unique(labels.argmax(axis=1))) < 2:
            return
        if time.monotonic() + self.estimate(n, stage) > (limit or deadline):
            # Later stages cost more still: with all the data read, nothing is left to do.
            self.done = complete and limit is not None
            return
        max_iter, lr, leaves = STAGES[stage]
        start = time.monotonic()
        X = self._features(items)
        columns = range(labels.shape[1]) if self.multilabel else [None]
        models = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for k in columns:
                y = (labels[:, k] > 0).astype(int) if k is not None else labels.argmax(axis=1)
                if len(np.unique(y)) < 2:
                    models.append(float(y[0]) if len(y) else 0.0)
                    continue
                clf = HistGradientBoostingClassifier(
                    max_iter=max_iter,
                    learning_rate=lr,
                    max_leaf_nodes=leaves,
                    l2_regularization=1.0,
                    min_samples_leaf=min(20, max(2, n // 20)),
                    early_stopping=n > 1000,
                    random_state=self.seed,
                )
                models.append(clf.fit(X, y))
        self.models = models
        self.stage = stage
        self.n_fitted = n
        self.last_cost = (time.monotonic() - start) / (max_iter * leaves * max(n, 1))
        self.version += 1
        self.done = complete and stage == len(STAGES) - 1

    def predict(self, items) -> np.ndarray:
        X = self._features(items)
        if not self.multilabel:
            model = self.models[0]
            return full_columns(model.predict_proba(X), model.classes_, self.n_outputs)
        out = np.zeros((X.shape[0], self.n_outputs), np.float32)
        for k, model in enumerate(self.models):
            out[:, k] = model if isinstance(model, float) else model.predict_proba(X)[:, 1]
        return out

    @property
    def trained(self) -> bool:
        return self.models is not None
