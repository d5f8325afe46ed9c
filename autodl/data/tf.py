"""TensorFlow adapter: a TF2 ``tf.data.Dataset`` of the ``(example, labels)`` pairs that
the 2019 reference's ``AutoDLDataset.get_dataset()`` gave, read by our reader (and so
from the decoded cache on later passes).

Shapes are the metadata's, with ``None`` where unknown: ``(T, R, C, Ch)`` for dense and
compressed data, ``(1, None, 2, 1)`` for sparse tabular and ``(None, 1, 1, 1)`` for sparse
text data; labels are ``(output_dim,)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf

if TYPE_CHECKING:
    from .dataset import AutoDLDataset

__all__ = ["to_tf_dataset", "element_spec"]

_BATCH = 256  # examples per generator call when shapes are fixed: fewer Python->TF hops


def element_spec(dataset: AutoDLDataset) -> tuple[tf.TensorSpec, tf.TensorSpec]:
    spec = dataset.spec
    if spec.kind == "sparse_tabular":
        shape: tuple[int | None, ...] = (1, None, 2, 1)
    elif spec.kind == "sparse_text":
        shape = (None, 1, 1, 1)
    else:
        shape = tuple(s if s > 0 else None for s in spec.shape)
    return (
        tf.TensorSpec(shape=shape, dtype=tf.float32),
        tf.TensorSpec(shape=(spec.output_dim,), dtype=tf.float32),
    )


def to_tf_dataset(dataset: AutoDLDataset) -> tf.data.Dataset:
    """``tf.data.Dataset`` of ``(example, labels)`` float32 pairs, in file order."""
    x_spec, y_spec = element_spec(dataset)
    if dataset.spec.is_fixed_shape:

        def batches() -> Iterator[tuple[np.ndarray, np.ndarray]]:
            n = len(dataset)
            if dataset.is_cached:  # one copy a batch, straight from the cache
                for a in range(0, n, _BATCH):
                    yield dataset.gather(np.arange(a, min(a + _BATCH, n)))
                return
            xs, ys = [], []  # a first pass: decoded (in the decode pool) and cached
            for x, y in dataset:
                xs.append(x)
                ys.append(y)
                if len(xs) == _BATCH:
                    yield np.stack(xs), np.stack(ys)
                    xs, ys = [], []
            if xs:
                yield np.stack(xs), np.stack(ys)

        sig = (
            tf.TensorSpec(shape=(None, *x_spec.shape), dtype=tf.float32),
            tf.TensorSpec(shape=(None, *y_spec.shape), dtype=tf.float32),
        )
        return tf.data.Dataset.from_generator(batches, output_signature=sig).unbatch()
    return tf.data.Dataset.from_generator(lambda: iter(dataset), output_signature=(x_spec, y_spec))


def reference_dataset(
    split_dir: str, num_parallel_calls: int | None = tf.data.AUTOTUNE
) -> tf.data.Dataset:
    """The 2019 reference pipeline in TF2: ``TFRecordDataset`` -> ``parse_single_sequence_example``
    -> reshape / ``decode_image`` -> ``(example, labels)``, in file order.

    TensorFlow does all the parsing here; tests and ``benchmarks/bench_data.py`` use it as
    the independent reference our reader is checked and timed against.
    """
    from .metadata import AutoDLMetadata
    from .task import split_files

    md = AutoDLMetadata.from_file(split_dir)
    files = [str(p) for p in split_files(split_dir)]
    seq, row, col, channels = md.get_tensor_shape()
    output_dim = md.get_output_size()
    if md.is_sparse():
        sequence_features = {
            f"0_sparse_{n}": tf.io.VarLenFeature(tf.int64)
            for n in ("col_index", "row_index", "channel_index")
        }
        sequence_features["0_sparse_value"] = tf.io.VarLenFeature(tf.float32)
    elif md.is_compressed():
        sequence_features = {"0_compressed": tf.io.VarLenFeature(tf.string)}
    else:
        sequence_features = {
            "0_dense_input": tf.io.FixedLenSequenceFeature((row, col, channels), tf.float32)
        }
    context_features = {
        "label_index": tf.io.VarLenFeature(tf.int64),
        "label_score": tf.io.VarLenFeature(tf.float32),
    }

    def decode(image: tf.Tensor) -> tf.Tensor:
        pixels = tf.io.decode_image(image, channels=channels, expand_animations=False)
        return tf.image.convert_image_dtype(pixels, tf.float32)

    def parse(record: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        context, features = tf.io.parse_single_sequence_example(
            record, context_features=context_features, sequence_features=sequence_features
        )
        if md.is_sparse():
            if col > 0 and col > channels:
                cols = tf.cast(features["0_sparse_col_index"].values, tf.float32)
                vals = features["0_sparse_value"].values
                pairs = tf.concat([tf.reshape(cols, [-1, 1]), tf.reshape(vals, [-1, 1])], 1)
                example = tf.reshape(pairs, [1, -1, 2, 1])
            else:
                chans = features["0_sparse_channel_index"].values
                example = tf.cast(tf.reshape(chans, [-1, 1, 1, 1]), tf.float32)
        elif md.is_compressed():
            example = tf.map_fn(
                decode, features["0_compressed"].values, fn_output_signature=tf.float32
            )
            example.set_shape(
                [
                    seq if seq > 0 else None,
                    row if row > 0 else None,
                    col if col > 0 else None,
                    channels,
                ]
            )
        else:
            example = tf.reshape(features["0_dense_input"], [seq, row, col, channels])
        index = tf.reshape(context["label_index"].values, [-1, 1])
        labels = tf.sparse.to_dense(
            tf.sparse.SparseTensor(index, context["label_score"].values, (output_dim,)),
            validate_indices=False,
        )
        return example, labels

    return tf.data.TFRecordDataset(files).map(parse, num_parallel_calls=num_parallel_calls)
