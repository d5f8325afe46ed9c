"""Returns None from its first test: the reference ends the loop there."""


class Model:
    def __init__(self, metadata):
        self.done_training = False

    def fit(self, dataset, remaining_time_budget=None):
        pass

    def predict(self, dataset, remaining_time_budget=None):
        return None
