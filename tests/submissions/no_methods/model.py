"""Reference case: a Model without train/test (nor fit/predict)."""


class Model:
    def __init__(self, metadata):
        self.done_training = False

    def learn(self, dataset):
        pass
