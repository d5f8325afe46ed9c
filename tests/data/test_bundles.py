"""Examples of several bundles (``matrix_spec`` > 1): the TF adapter gives the 2019
reference's ``(bundle_0, bundle_1, labels)``; the native dataset refuses them by name,
never reading bundle 0 alone.

The split is hand-made: two SequenceExamples with a dense bundle 0 (1 x 2 x 3 x 1) and a
sparse tabular bundle 1 (col_count 5), framed by our TFRecord writer.
"""

from __future__ import annotations

import numpy as np
import pytest

from autodl.data import DataError, load
from autodl.data.proto import SequenceExample
from autodl.data.tfrecord import write_records

METADATA = """
is_sequence: false
sample_count: 2
sequence_size: 1
output_dim: 3
matrix_spec { col_count: 3 row_count: 2 is_sequence_col: false is_sequence_row: false
              has_locality_col: true has_locality_row: true format: DENSE num_channels: 1 }
matrix_spec { col_count: 5 row_count: 1 is_sequence_col: false is_sequence_row: false
              has_locality_col: false has_locality_row: false format: SPARSE num_channels: 1 }
"""

DENSE = [np.arange(6, dtype=np.float32) / 8, np.arange(6, 12, dtype=np.float32) / 8]
SPARSE = [([1, 4], [0.5, -2.0]), ([0, 2, 3], [1.0, 0.25, 3.0])]  # (cols, values)
LABELS = [2, 0]


def _record(k: int) -> bytes:
    ex = SequenceExample()
    ex.context.feature["id"].int64_list.value.append(k)
    ex.context.feature["label_index"].int64_list.value.append(LABELS[k])
    ex.context.feature["label_score"].float_list.value.append(1.0)
    lists = ex.feature_lists.feature_list
    lists["0_dense_input"].feature.add().float_list.value.extend(DENSE[k].tolist())
    cols, values = SPARSE[k]
    lists["1_sparse_col_index"].feature.add().int64_list.value.extend(cols)
    lists["1_sparse_row_index"].feature.add().int64_list.value.extend([0] * len(cols))
    lists["1_sparse_channel_index"].feature.add().int64_list.value.extend([0] * len(cols))
    lists["1_sparse_value"].feature.add().float_list.value.extend(values)
    return ex.SerializeToString()


@pytest.fixture
def two_bundles(tmp_path):
    split = tmp_path / "train"
    split.mkdir()
    (split / "metadata.textproto").write_text(METADATA)
    write_records(split / "sample-two-train.tfrecord", [_record(0), _record(1)])
    return split


def _expected(k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What the reference's parse gives, by hand: the dense bundle reshaped, the tabular
    one as (col, value) pairs of shape (1, nnz, 2, 1), the labels one-hot."""
    cols, values = SPARSE[k]
    pairs = np.array(list(zip(cols, values, strict=True)), np.float32).reshape(1, -1, 2, 1)
    return DENSE[k].reshape(1, 2, 3, 1), pairs, np.eye(3, dtype=np.float32)[LABELS[k]]


def test_native_dataset_refuses_several_bundles_by_name(two_bundles):
    dataset = load(two_bundles)
    assert len(dataset) == 2 and dataset.metadata.get_bundle_size() == 2
    for read in (lambda: dataset[0], lambda: next(iter(dataset)), dataset.to_numpy):
        with pytest.raises(DataError) as info:
            read()
        message = str(info.value)
        assert "metadata.textproto" in message and "matrix_spec: 2 bundles" in message
        assert "(bundle_0, ..., labels)" in message


@pytest.mark.tf
def test_tf_adapter_gives_every_bundle_as_the_reference_did(two_bundles):
    tf = pytest.importorskip("tensorflow")
    elements = list(load(two_bundles).to_tf())
    assert len(elements) == 2
    for k, element in enumerate(elements):
        assert len(element) == 3  # (bundle_0, bundle_1, labels)
        for got, want in zip(element, _expected(k), strict=True):
            np.testing.assert_array_equal(got.numpy(), want)
    # And TensorFlow's parser, asked for the raw features directly, agrees on the keys.
    record = _record(1)
    _, features = tf.io.parse_single_sequence_example(
        record,
        sequence_features={
            "0_dense_input": tf.io.FixedLenSequenceFeature([2, 3, 1], tf.float32),
            "1_sparse_col_index": tf.io.VarLenFeature(tf.int64),
            "1_sparse_value": tf.io.VarLenFeature(tf.float32),
        },
    )
    np.testing.assert_array_equal(elements[1][0].numpy()[0], features["0_dense_input"][0])
    np.testing.assert_array_equal(
        elements[1][1].numpy()[0, :, 0, 0], features["1_sparse_col_index"].values.numpy()
    )
    np.testing.assert_array_equal(
        elements[1][1].numpy()[0, :, 1, 0], features["1_sparse_value"].values.numpy()
    )
    spec = load(two_bundles).to_tf().element_spec
    assert [s.shape.as_list() for s in spec] == [[1, 2, 3, 1], [1, None, 2, 1], [3]]
