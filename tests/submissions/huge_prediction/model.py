"""Its second prediction has 2,000,000 rows (48 MB), far more than the test set."""

import numpy as np


class Model:
    def __init__(self, metadata):
        self.output_dim = metadata.get_output_size()
        self.done_training = False
        self.round = 0

    def fit(self, dataset, remaining_time_budget=None):
        pass

    def predict(self, dataset, remaining_time_budget=None):
        self.round += 1
        rows = len(dataset) if self.round == 1 else 2_000_000
        return np.full((rows, self.output_dim), 0.1 * self.round)
