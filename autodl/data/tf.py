"""TensorFlow adapter: a TF2 ``tf.data.Dataset`` of the ``(example, labels)`` pairs that
the 2019 reference's ``AutoDLDataset.get_dataset()`` gave, read by our reader (and so
from the decoded cache on later passes). Examples of several bundles (``matrix_spec`` > 1)
are the reference's ``(bundle_0, ..., bundle_n, labels)`` tuples, parsed by TensorFlow.

Shapes are the metadata's, with ``None`` where unknown: ``(T, R, C, Ch)`` for dense and
compressed data, ``(1, None, 2, 1)`` for sparse tabular and ``(None, 1, 1, 1)`` for sparse
text data; labels are ``(output_dim,)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

try:
    import tensorflow as tf
except ModuleNotFoundError as e:  # name the extra, not just the module
    if e.name != "tensorflow":
        raise
    raise ModuleNotFoundError(
        "the TensorFlow datasets (to_tf(), the AutoDL API) need TensorFlow: "
        "pip install 'autodl[tf]'",
        name="tensorflow",
    ) from None

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


def to_tf_dataset(dataset: AutoDLDataset, v1: bool = False) -> tf.data.Dataset:
    """``tf.data.Dataset`` of ``(example, labels)`` float32 pairs, in file order.

    ``v1``: a ``tf.compat.v1.data.Dataset`` (``make_one_shot_iterator()``,
    ``output_shapes``), as TF1 code expects.
    """
    if dataset.metadata.get_bundle_size() > 1:
        # Several bundles: the reference's tuple, parsed by TensorFlow (our reader refuses
        # such examples rather than drop bundles).
        return reference_dataset(str(dataset.split_dir), v1=v1)
    api = tf.compat.v1.data.Dataset if v1 else tf.data.Dataset
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
        return api.from_generator(batches, output_signature=sig).unbatch()
    return api.from_generator(lambda: iter(dataset), output_signature=(x_spec, y_spec))


def reference_dataset(
    split_dir: str,
    num_parallel_calls: int | None = tf.data.AUTOTUNE,
    v1: bool = False,
) -> tf.data.Dataset:
    """The 2019 reference pipeline in TF2: ``TFRecordDataset`` -> ``parse_single_sequence_example``
    -> reshape / ``decode_image`` -> ``(example, labels)``, in file order.

    With several bundles (``matrix_spec`` entries) an element is the reference's tuple
    ``(bundle_0, ..., bundle_n, labels)``, bundle ``i`` read from the ``"{i}_..."``
    features of the record with the shape of the ``i``-th ``matrix_spec``; the sequence
    size is shared. TensorFlow does all the parsing here; tests and
    ``benchmarks/bench_data.py`` use it as the independent reference our reader is checked
    and timed against, and :func:`to_tf_dataset` serves multi-bundle splits with it.
    """
    from .metadata import AutoDLMetadata
    from .task import split_files

    md = AutoDLMetadata.from_file(split_dir)
    files = [str(p) for p in split_files(split_dir)]
    output_dim = md.get_output_size()
    bundles = range(md.get_bundle_size())
    sequence_features: dict = {}
    for i in bundles:
        sequence_features.update(_bundle_features(md, i))
    context_features = {
        "label_index": tf.io.VarLenFeature(tf.int64),
        "label_score": tf.io.VarLenFeature(tf.float32),
    }

    def parse(record: tf.Tensor) -> tuple[tf.Tensor, ...]:
        context, features = tf.io.parse_single_sequence_example(
            record, context_features=context_features, sequence_features=sequence_features
        )
        index = tf.reshape(context["label_index"].values, [-1, 1])
        labels = tf.sparse.to_dense(
            tf.sparse.SparseTensor(index, context["label_score"].values, (output_dim,)),
            validate_indices=False,
        )
        return (*(_bundle_tensor(md, i, features) for i in bundles), labels)

    api = tf.compat.v1.data if v1 else tf.data
    return api.TFRecordDataset(files).map(parse, num_parallel_calls=num_parallel_calls)


def _bundle_features(md, i: int) -> dict:
    """The sequence features of bundle ``i``, as the reference declared them."""
    if md.is_sparse(i):
        features = {
            f"{i}_sparse_{n}": tf.io.VarLenFeature(tf.int64)
            for n in ("col_index", "row_index", "channel_index")
        }
        features[f"{i}_sparse_value"] = tf.io.VarLenFeature(tf.float32)
        return features
    if md.is_compressed(i):
        return {f"{i}_compressed": tf.io.VarLenFeature(tf.string)}
    return {f"{i}_dense_input": tf.io.FixedLenSequenceFeature(md.get_tensor_size(i), tf.float32)}


def _bundle_tensor(md, i: int, features: dict) -> tf.Tensor:
    """Bundle ``i`` of one parsed record: ``(T, R, C, Ch)``, or the sparse layouts."""
    seq, row, col, channels = md.get_tensor_shape(i)
    if md.is_sparse(i):
        if col > 0 and col > channels:
            cols = tf.cast(features[f"{i}_sparse_col_index"].values, tf.float32)
            vals = features[f"{i}_sparse_value"].values
            pairs = tf.concat([tf.reshape(cols, [-1, 1]), tf.reshape(vals, [-1, 1])], 1)
            return tf.reshape(pairs, [1, -1, 2, 1])
        chans = features[f"{i}_sparse_channel_index"].values
        return tf.cast(tf.reshape(chans, [-1, 1, 1, 1]), tf.float32)
    if md.is_compressed(i):

        def decode(image: tf.Tensor) -> tf.Tensor:
            pixels = tf.io.decode_image(image, channels=channels, expand_animations=False)
            return tf.image.convert_image_dtype(pixels, tf.float32)

        example = tf.map_fn(
            decode, features[f"{i}_compressed"].values, fn_output_signature=tf.float32
        )
        example.set_shape([d if d > 0 else None for d in (seq, row, col)] + [channels])
        return example
    return tf.reshape(features[f"{i}_dense_input"], [seq, row, col, channels])
