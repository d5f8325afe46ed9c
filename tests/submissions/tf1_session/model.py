"""A TF1-style AutoDL submission written for our tests (2019-era APIs, run unchanged).

Softmax regression in a tf.Session: placeholders, tf.get_variable, a tf.train optimizer,
tf.logging; the training set is converted to numpy through a one-shot iterator made in a
fresh tf.Graph(), the test set is read by a one-shot iterator of the default graph.
It prints what the test checks: the sums of the numpy conversion and the loss.
"""

import numpy as np
import tensorflow as tf

tf.logging.set_verbosity(tf.logging.ERROR)


def to_numpy(dataset):
    """Every (example, labels) pair of the dataset, stacked, read in a graph of its own."""
    with tf.Graph().as_default():
        next_element = dataset.make_one_shot_iterator().get_next()
        xs, ys = [], []
        with tf.Session() as sess:
            while True:
                try:
                    x, y = sess.run(next_element)
                except tf.errors.OutOfRangeError:
                    break
                xs.append(x)
                ys.append(y)
    return np.stack(xs), np.stack(ys)


class Model:
    def __init__(self, metadata):
        self.done_training = False
        self.rounds = 0
        self.num_classes = metadata.get_output_size()
        row, col, channels = metadata.get_tensor_shape()[1:]
        self.dim = row * col * channels
        # The model lives in the default graph, as most 2019 code had it.
        self.x = tf.placeholder(tf.float32, [None, self.dim])
        self.y = tf.placeholder(tf.float32, [None, self.num_classes])
        w = tf.get_variable("w", [self.dim, self.num_classes], initializer=tf.zeros_initializer())
        b = tf.get_variable("b", [self.num_classes], initializer=tf.zeros_initializer())
        logits = tf.matmul(self.x, w) + b
        self.probabilities = tf.nn.softmax(logits)
        self.loss = tf.reduce_mean(
            tf.nn.softmax_cross_entropy_with_logits_v2(labels=self.y, logits=logits)
        )
        self.step = tf.train.AdamOptimizer(0.05).minimize(self.loss)
        self.session = tf.Session()
        self.session.run(tf.global_variables_initializer())
        self.x_train = None

    def train(self, dataset, remaining_time_budget=None):
        if self.x_train is None:
            print("TF1 output_shapes:", [s.as_list() for s in dataset.output_shapes])
            x, y = to_numpy(dataset)
            print(f"TF1 numpy train: n={len(x)} sum_x={x.sum():.6f} sum_y={y.sum():.6f}")
            self.x_train, self.y_train = x.reshape(len(x), -1), y
        feed = {self.x: self.x_train, self.y: self.y_train}
        first = self.session.run(self.loss, feed)
        for _ in range(50):
            self.session.run(self.step, feed)
        last = self.session.run(self.loss, feed)
        print(f"TF1 loss: {first:.6f} -> {last:.6f} eager={tf.executing_eagerly()}")
        self.rounds += 1
        self.done_training = self.rounds >= 2

    def test(self, dataset, remaining_time_budget=None):
        # A one-shot iterator of the default graph (where the model is), batched.
        batch = dataset.map(lambda x, y: tf.reshape(x, [self.dim])).batch(5)
        next_batch = batch.make_one_shot_iterator().get_next()
        out = []
        while True:
            try:
                x = self.session.run(next_batch)
            except tf.errors.OutOfRangeError:
                break
            out.append(self.session.run(self.probabilities, {self.x: x}))
        return np.concatenate(out)
