"""Allocates (and touches) 64 MB blocks until it fails, bounded at 6 GB."""

import numpy as np


class Model:
    def __init__(self, metadata):
        self.output_dim = metadata.get_output_size()
        self.done_training = False
        self.round = 0

    def fit(self, dataset, remaining_time_budget=None):
        if self.round >= 1:
            hoard = []
            for _ in range(6 * 1024 // 64):
                hoard.append(np.ones(8 * 1024 * 1024))

    def predict(self, dataset, remaining_time_budget=None):
        self.round += 1
        return np.full((len(dataset), self.output_dim), 0.1 * self.round)
