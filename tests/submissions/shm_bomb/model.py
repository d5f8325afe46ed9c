"""Parks 2 GiB in shared memory and tmpfs files: memory that RLIMIT_DATA never counts."""

import os

import numpy as np


class Model:
    def __init__(self, metadata):
        self.output_dim = metadata.get_output_size()
        self.done_training = False
        self.round = 0

    def fit(self, dataset, remaining_time_budget=None):
        if self.round == 1:
            block = b"x" * (1 << 20)
            for path in ("/dev/shm/bomb", os.path.join(os.environ.get("TMPDIR", "/tmp"), "b")):
                with open(path, "wb") as f:
                    for _ in range(1024):
                        f.write(block)
            print("shm: 2 GiB parked")

    def predict(self, dataset, remaining_time_budget=None):
        self.round += 1
        return np.full((len(dataset), self.output_dim), 0.1 * self.round)
