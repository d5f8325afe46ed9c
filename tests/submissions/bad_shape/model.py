"""Reference case: round 0 is fine, round 1 returns one column too many."""

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
        extra = 0 if self.round == 1 else 1
        return np.full((len(dataset), self.output_dim + extra), 0.1 * self.round)
