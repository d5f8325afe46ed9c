"""Forks up to 100 children that leave the process group (setsid) and sleep.

Bounded so that a failing harness cannot take the machine down. Under a process limit
the fork fails (BlockingIOError); without one, the children must still be gone after
ingestion ends.
"""

import os
import time

import numpy as np


class Model:
    def __init__(self, metadata):
        self.output_dim = metadata.get_output_size()
        self.done_training = False
        self.round = 0

    def fit(self, dataset, remaining_time_budget=None):
        if self.round == 1:
            for _ in range(100):
                if os.fork() == 0:
                    os.setsid()
                    time.sleep(120)
                    os._exit(0)
            time.sleep(120)

    def predict(self, dataset, remaining_time_budget=None):
        self.round += 1
        return np.full((len(dataset), self.output_dim), 0.1 * self.round)
