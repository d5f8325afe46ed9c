"""The floor: predicts 0 for every label, once. Its NAUC is 0 and so is its ALC.

Native API (``fit``/``predict``); useful to check a harness end to end and as the
bottom row of a leaderboard.
"""

from __future__ import annotations

import numpy as np


class Model:
    def __init__(self, metadata):
        self.output_dim = int(metadata.get_output_size())
        self.done_training = False

    def fit(self, dataset, remaining_time_budget=None):
        self.done_training = True

    def predict(self, dataset, remaining_time_budget=None):
        return np.zeros((len(dataset), self.output_dim), dtype=np.float32)
