"""Run by tests/ingestion/test_tf1.py in a subprocess (TF1 mode changes the process's
``tensorflow`` for good): reads one split through TF1 mode's dataset in every graph TF1
code uses, and prints, as JSON, what each read gave.

    python tf1_graph_probe.py SPLIT_DIR OUT.npz
"""

from __future__ import annotations

import json
import sys

import numpy as np


def drain(next_element, session) -> list:
    out = []
    while True:
        try:
            out.append(session.run(next_element))
        except Exception as e:  # tf.errors.OutOfRangeError, named after the alias below
            if type(e).__name__ != "OutOfRangeError":
                raise
            return out


def main(split_dir: str, out_path: str) -> None:
    from autodl.data import load
    from autodl.data.tf import to_tf_dataset
    from autodl.ingestion import tf1

    info = tf1.activate()
    import tensorflow as tf  # what the submission gets: tf.compat.v1, graph mode

    data = load(split_dir)
    dataset = tf1.to_graph_free(data)
    report: dict = {"info": info, "eager": tf.executing_eagerly(), "module": tf.__name__}
    arrays: dict[str, np.ndarray] = {}

    # 1. The default graph: a one-shot iterator of the dataset as given.
    with tf.Session() as sess:
        pairs = drain(dataset.make_one_shot_iterator().get_next(), sess)
    arrays["default_x"] = np.stack([x for x, _ in pairs])
    arrays["default_y"] = np.stack([y for _, y in pairs])

    # 2. A fresh tf.Graph(): transformations applied in the default graph, iterated there.
    mapped = dataset.map(lambda x, y: (x * 2.0, y)).batch(5)
    with tf.Graph().as_default(), tf.Session() as sess:
        batches = drain(mapped.make_one_shot_iterator().get_next(), sess)
    arrays["fresh_x"] = np.concatenate([x for x, _ in batches]) / 2.0
    report["fresh_batches"] = [len(x) for x, _ in batches]

    # 3. An initializable iterator, made through the module function, in another graph.
    with tf.Graph().as_default(), tf.Session() as sess:
        iterator = tf.data.make_initializable_iterator(dataset.take(3))
        sess.run(iterator.initializer)
        report["initializable_count"] = len(drain(iterator.get_next(), sess))

    # 4. The plain TF dataset (TF >= 1.15's eager building) in a fresh graph: the failure
    # the graph-free dataset exists for.
    plain = to_tf_dataset(data, v1=True)
    try:
        with tf.Graph().as_default():
            plain.make_one_shot_iterator()
        report["plain_fresh_graph"] = "no error"
    except ValueError as e:
        report["plain_fresh_graph"] = str(e).splitlines()[0]

    # 5. An Estimator's input_fn, which runs in the Estimator's own graph (TF <= 2.15).
    report["estimator"] = tf1._has_estimator(tf)
    if report["estimator"]:
        import tempfile

        def model_fn(features, labels, mode):
            w = tf.get_variable("w", [1], initializer=tf.zeros_initializer())
            if mode == tf.estimator.ModeKeys.PREDICT:
                return tf.estimator.EstimatorSpec(mode, predictions={"x": features + 0 * w})
            loss = tf.reduce_mean(tf.square(w - 1.0)) + 0 * tf.reduce_sum(labels)
            step = tf.train.GradientDescentOptimizer(0.1).minimize(
                loss, global_step=tf.train.get_global_step()
            )
            return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=step)

        est = tf.estimator.Estimator(model_fn, model_dir=tempfile.mkdtemp())
        est.train(lambda: dataset.repeat().batch(4), steps=3)  # the dataset returned
        report["estimator_step"] = int(est.get_variable_value("global_step"))

        def predict_input():  # tensors of a one-shot iterator made inside input_fn
            return dataset.batch(4).make_one_shot_iterator().get_next()[0]

        arrays["estimator_x"] = np.stack([p["x"] for p in est.predict(predict_input)])
    np.savez(out_path, **arrays)
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
