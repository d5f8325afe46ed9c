"""A TensorFlow submission on the AutoDL API (``train``/``test``), kept small on purpose.

It shows how a 2019-style submission reads its data: ``dataset`` is a TF2
``tf.data.Dataset`` of ``(example, labels)`` pairs, ``example`` a float32 tensor
``(time, rows, columns, channels)`` (some sizes vary between examples) and ``labels`` a
float32 vector of ``output_size``. Each example is pooled to a short vector inside the
``tf.data`` pipeline (mean over time, an 8x8 grid, a few statistics); a one-layer Keras
model (softmax, or sigmoids when rows can hold several labels) learns on it, a few
epochs per round, the rounds growing so that the first prediction comes early.
"""

from __future__ import annotations

import time

import numpy as np
import tensorflow as tf

GRID = 8
ROUNDS = 4  # epochs per round: 2, 4, 8, 16


def pool(example: tf.Tensor, labels: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """One example -> a fixed-length vector, whatever its time length and frame size."""
    frame = tf.reduce_mean(example, axis=0)[:, :, :3]  # (rows, columns, <=3 channels)
    grid = tf.reshape(tf.image.resize(frame, (GRID, GRID), method="area"), [-1])
    length = tf.cast(tf.shape(example)[0], tf.float32)
    stats = tf.stack(
        [
            tf.reduce_mean(example),
            tf.math.reduce_std(example),
            tf.reduce_min(example),
            tf.reduce_max(example),
            tf.math.log1p(length),
        ]
    )
    return tf.concat([grid, stats], axis=0), labels


def to_arrays(dataset: tf.data.Dataset) -> tuple[np.ndarray, np.ndarray]:
    pooled = dataset.map(pool, num_parallel_calls=tf.data.AUTOTUNE).batch(512)
    xs, ys = [], []
    for x, y in pooled:
        xs.append(x.numpy())
        ys.append(y.numpy())
    return np.concatenate(xs), np.concatenate(ys)


class Model:
    def __init__(self, metadata):
        self.output_dim = int(metadata.get_output_size())
        self.done_training = False
        self.rounds = 0
        self.model = None
        self.train_arrays = None
        self.test_features = None
        tf.random.set_seed(0)

    def _build(self, features: np.ndarray, labels: np.ndarray) -> tf.keras.Model:
        multilabel = self.output_dim == 1 or bool(np.any((labels > 0).sum(axis=1) != 1))
        norm = tf.keras.layers.Normalization()
        norm.adapt(features)
        model = tf.keras.Sequential(
            [
                tf.keras.Input((features.shape[1],)),
                norm,
                tf.keras.layers.Dense(
                    self.output_dim, activation="sigmoid" if multilabel else "softmax"
                ),
            ]
        )
        loss = "binary_crossentropy" if multilabel else "categorical_crossentropy"
        model.compile(optimizer=tf.keras.optimizers.Adam(0.01), loss=loss)
        return model

    def train(self, dataset, remaining_time_budget=None):
        start = time.time()
        if self.train_arrays is None:
            self.train_arrays = to_arrays(dataset)
        features, labels = self.train_arrays
        if self.model is None:
            self.model = self._build(features, labels)
        self.model.fit(features, labels, epochs=2 ** (self.rounds + 1), batch_size=64, verbose=0)
        self.rounds += 1
        took = time.time() - start
        # The next round is twice as long; stop when it would not fit in the budget.
        if self.rounds >= ROUNDS or (
            remaining_time_budget is not None and 3 * took > remaining_time_budget - took
        ):
            self.done_training = True

    def test(self, dataset, remaining_time_budget=None):
        if self.test_features is None:
            self.test_features = to_arrays(dataset)[0]
        return self.model.predict(self.test_features, batch_size=512, verbose=0)
