"""Takes 60 s to build (longer than the construction budget the test gives)."""

import time


class Model:
    def __init__(self, metadata):
        time.sleep(60)
        self.done_training = False

    def fit(self, dataset, remaining_time_budget=None):
        pass

    def predict(self, dataset, remaining_time_budget=None):
        return None
