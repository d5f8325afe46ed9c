"""A chain of processes that changes pid all the time (each forks, then exits), leaving
zombies behind: one scan of /proc never finds the current link of the chain."""

import ctypes
import os

import numpy as np

MARKER = b"autodl-hopper"  # its name in /proc/<pid>/comm, for the test to look for


def _hop():
    while True:
        try:
            pid = os.fork()
        except OSError:  # at the process limit: try again
            continue
        if pid:
            os._exit(0)  # the parent goes, the child carries on under a new pid
        ctypes.CDLL(None).prctl(15, MARKER, 0, 0, 0)  # PR_SET_NAME
        try:
            if os.fork() == 0:
                os._exit(0)  # a zombie nobody waits for
        except OSError:
            pass


class Model:
    def __init__(self, metadata):
        self.output_dim = metadata.get_output_size()
        self.done_training = False

    def fit(self, dataset, remaining_time_budget=None):
        if not getattr(self, "started", False):
            self.started = True
            if os.fork() == 0:
                os.setsid()
                try:
                    _hop()
                finally:
                    os._exit(0)

    def predict(self, dataset, remaining_time_budget=None):
        return np.full((len(dataset), self.output_dim), 0.1)
