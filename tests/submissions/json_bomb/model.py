"""Sends the supervisor a message header nested a million levels deep."""

import os
import sys
import time

import numpy as np


class Model:
    def __init__(self, metadata):
        self.output_dim = metadata.get_output_size()
        self.done_training = False
        self.round = 0

    def fit(self, dataset, remaining_time_budget=None):
        if self.round == 1:
            raw = b"[" * 500_000 + b"]" * 500_000
            os.write(int(sys.argv[-1]), len(raw).to_bytes(4, "big") + raw)
            time.sleep(60)

    def predict(self, dataset, remaining_time_budget=None):
        self.round += 1
        return np.full((len(dataset), self.output_dim), 0.1 * self.round)
