"""Declares its TensorFlow mode in autodl.yaml (tf_mode: 1) instead of using TF1-only names:
in TF1 mode TensorFlow runs in graph mode, which the prediction reports."""

import numpy as np
import tensorflow as tf


class Model:
    def __init__(self, metadata):
        self.done_training = False
        self.output_dim = metadata.get_output_size()

    def train(self, dataset, remaining_time_budget=None):
        self.done_training = True

    def test(self, dataset, remaining_time_budget=None):
        count = dataset.reduce(np.int64(0), lambda n, _: n + 1)
        eager = tf.executing_eagerly()
        if not eager:  # graph mode: the count is a tensor to run
            with tf.compat.v1.Session() as session:
                count = session.run(count)
        # 1 where graph mode is on (TF1 mode), 0 where TensorFlow is eager (TF2).
        return np.full((int(count), self.output_dim), 0.0 if eager else 1.0)
