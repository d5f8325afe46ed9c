"""A deterministic AutoDL-API model: class centroids of a growing prefix of the train set.

Round k uses the first 20*k training examples, so successive predictions differ and the
learning curve has several points; the same inputs give the same bytes on any machine.
"""

import numpy as np


class Model:
    def __init__(self, metadata):
        self.output_dim = metadata.get_output_size()
        self.round = 0
        self.done_training = False
        self.centroids = None

    def train(self, dataset, remaining_time_budget=None):
        self.round += 1
        xs, ys = [], []
        for x, y in dataset.take(20 * self.round).as_numpy_iterator():
            xs.append(np.asarray(x, dtype=np.float64).ravel())
            ys.append(np.asarray(y))
        x, y = np.stack(xs), np.stack(ys)
        counts = y.sum(axis=0)[:, None]
        self.centroids = (y.T @ x) / np.maximum(counts, 1)
        if self.round >= 3:
            self.done_training = True

    def test(self, dataset, remaining_time_budget=None):
        x = np.stack(
            [np.asarray(e, dtype=np.float64).ravel() for e, _ in dataset.as_numpy_iterator()]
        )
        d = ((x[:, None, :] - self.centroids[None, :, :]) ** 2).sum(axis=2)
        scores = np.exp(-(d - d.min(axis=1, keepdims=True)))
        return np.round(scores / scores.sum(axis=1, keepdims=True), 6)
