"""A well-behaved AutoDL-API model: reads the tf.data datasets as the 2019 kit's did."""

import numpy as np
import tensorflow as tf


class Model:
    def __init__(self, metadata):
        self.metadata = metadata
        self.output_dim = metadata.get_output_size()
        self.done_training = False
        self.round = 0

    def train(self, dataset, remaining_time_budget=None):
        assert isinstance(dataset, tf.data.Dataset)
        n = 0
        for example, labels in dataset.take(4):
            assert example.shape.rank == 4 and labels.shape == (self.output_dim,)
            n += 1
        assert n > 0

    def test(self, dataset, remaining_time_budget=None):
        self.round += 1
        self.done_training = self.round >= 2
        rows = [labels.numpy() * 0 + 0.1 * self.round for _, labels in dataset]
        return np.stack(rows)
