"""Allocates (and touches) memory until something stops it."""


class Model:
    def __init__(self, metadata):
        self.done_training = False
        self.hoard = []

    def fit(self, dataset, remaining_time_budget=None):
        while True:
            self.hoard.append(b"x" * (64 << 20))

    def predict(self, dataset, remaining_time_budget=None):
        raise AssertionError("unreachable")
