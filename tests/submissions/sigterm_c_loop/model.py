"""Ignores SIGTERM, then spins in C (a regular expression that backtracks for ages).

The regex engine runs in C and holds the GIL: no Python signal handler, no
KeyboardInterrupt, only SIGKILL ends it.
"""

import re
import signal

import numpy as np


class Model:
    def __init__(self, metadata):
        self.output_dim = metadata.get_output_size()
        self.done_training = False
        self.round = 0
        signal.signal(signal.SIGTERM, signal.SIG_IGN)

    def fit(self, dataset, remaining_time_budget=None):
        if self.round >= 1:
            re.match(r"(a+)+$", "a" * 64 + "b")

    def predict(self, dataset, remaining_time_budget=None):
        self.round += 1
        return np.full((len(dataset), self.output_dim), 0.1 * self.round)
