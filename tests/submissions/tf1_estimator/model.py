"""A TF1-style AutoDL submission written for our tests: a tf.estimator.Estimator.

Its input functions run in the Estimator's own graph: training returns the dataset
itself, prediction returns the tensors of a one-shot iterator (both 2019 habits).
tf.estimator exists up to TensorFlow 2.15.
"""

import tempfile

import numpy as np
import tensorflow as tf

tf.logging.set_verbosity(tf.logging.ERROR)


class Model:
    def __init__(self, metadata):
        self.done_training = False
        self.rounds = 0
        self.num_classes = metadata.get_output_size()
        row, col, channels = metadata.get_tensor_shape()[1:]
        self.dim = row * col * channels
        self.estimator = tf.estimator.Estimator(
            model_fn=self.model_fn,
            model_dir=tempfile.mkdtemp(prefix="estimator-"),
            config=tf.estimator.RunConfig(session_config=tf.ConfigProto(device_count={"GPU": 0})),
        )

    def model_fn(self, features, labels, mode):
        logits = tf.layers.dense(features, self.num_classes)
        probabilities = tf.nn.softmax(logits)
        if mode == tf.estimator.ModeKeys.PREDICT:
            return tf.estimator.EstimatorSpec(mode, predictions={"p": probabilities})
        loss = tf.losses.softmax_cross_entropy(onehot_labels=labels, logits=logits)
        step = tf.train.GradientDescentOptimizer(0.1).minimize(
            loss, global_step=tf.train.get_global_step()
        )
        return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=step)

    def flat(self, x, y):
        return tf.reshape(x, [self.dim]), y

    def train(self, dataset, remaining_time_budget=None):
        def input_fn():  # the dataset itself: the Estimator makes the iterator
            return dataset.map(self.flat).repeat().batch(4)

        self.estimator.train(input_fn, steps=10)
        print("TF1 estimator global_step:", self.estimator.get_variable_value("global_step"))
        self.rounds += 1
        self.done_training = self.rounds >= 2

    def test(self, dataset, remaining_time_budget=None):
        def input_fn():  # tensors of a one-shot iterator, made in the Estimator's graph
            x, _ = dataset.map(self.flat).batch(4).make_one_shot_iterator().get_next()
            return x

        rows = [p["p"] for p in self.estimator.predict(input_fn)]
        return np.stack(rows)
