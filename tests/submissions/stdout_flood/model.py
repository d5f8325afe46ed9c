"""Prints 64 MB in each round of training, then finishes after two rounds."""

import sys

import numpy as np

LINE = "flood " * 1000 + "\n"


class Model:
    def __init__(self, metadata):
        self.output_dim = metadata.get_output_size()
        self.done_training = False
        self.round = 0

    def fit(self, dataset, remaining_time_budget=None):
        for _ in range(64 * 1024 * 1024 // len(LINE)):
            sys.stdout.write(LINE)

    def predict(self, dataset, remaining_time_budget=None):
        self.round += 1
        self.done_training = self.round >= 2
        return np.full((len(dataset), self.output_dim), 0.1 * self.round)
