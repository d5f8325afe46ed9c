"""Bad input: one clear error of ours, naming the file and the record index."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from autodl.data import (
    DataError,
    FeatureError,
    MetadataError,
    RecordError,
    TaskError,
    find_task,
    load,
    write_task,
)
from autodl.data.proto import SequenceExample
from autodl.data.tfrecord import record_spans, write_records


@pytest.fixture
def ciao_copy(miniciao, tmp_path) -> Path:
    """A writable copy of miniciao's train split."""
    dst = tmp_path / "ciao.data" / "train"
    shutil.copytree(miniciao / "miniciao.data" / "train", dst)
    return dst


def _shard(split: Path) -> Path:
    return next(split.glob("*.tfrecord"))


def _read_all(split: Path, **kw) -> list:
    return list(load(split, **kw))


def test_corrupt_data_crc(ciao_copy):
    shard = _shard(ciao_copy)
    buf = bytearray(shard.read_bytes())
    start, length = record_spans(bytes(buf))[3]
    buf[start + length // 2] ^= 0xFF
    shard.write_bytes(bytes(buf))
    with pytest.raises(RecordError) as err:
        _read_all(ciao_copy)
    assert err.value.record == 3 and err.value.path == str(shard)
    assert str(shard) in str(err.value) and "record 3" in str(err.value)
    assert "CRC" in str(err.value)


def test_corrupt_length_crc(ciao_copy):
    shard = _shard(ciao_copy)
    buf = bytearray(shard.read_bytes())
    start, _ = record_spans(bytes(buf))[5]
    buf[start - 12 + 1] ^= 0x01  # a bit of the length field of record 5
    shard.write_bytes(bytes(buf))
    with pytest.raises(RecordError, match=r"record 5: corrupt length"):
        _read_all(ciao_copy)


def test_truncated_record(ciao_copy):
    shard = _shard(ciao_copy)
    buf = shard.read_bytes()
    n = len(record_spans(buf))
    shard.write_bytes(buf[:-10])
    with pytest.raises(RecordError, match=rf"record {n - 1}: truncated record"):
        len(load(ciao_copy))
    shard.write_bytes(buf + b"\x01\x02\x03")  # trailing garbage: a truncated header
    with pytest.raises(RecordError, match=rf"record {n}: truncated header"):
        len(load(ciao_copy))


def test_missing_metadata(ciao_copy):
    (ciao_copy / "metadata.textproto").unlink()
    with pytest.raises(TaskError, match="not an AutoDL task"):
        load(ciao_copy)
    with pytest.raises(MetadataError, match="metadata file not found"):
        from autodl.data import AutoDLDataset

        AutoDLDataset(ciao_copy)


@pytest.mark.parametrize(
    "text,message",
    [
        ("output_dim: 10\nmatrix_spec { row_count: 32 col_count: 32 ", "malformed metadata"),
        ("output_dim: ten\n", "malformed metadata"),
        ("output_dim: 10\nno_such_field: 3\n", "malformed metadata"),
        ("output_dim: 10\n", "no matrix_spec"),
        ("matrix_spec { row_count: 3 col_count: 3 }\n", "output_dim must be positive"),
    ],
)
def test_malformed_metadata(ciao_copy, text, message):
    path = ciao_copy / "metadata.textproto"
    path.write_text(text)
    with pytest.raises(MetadataError, match=message) as err:
        load(ciao_copy)
    assert str(path) in str(err.value)


def _with_metadata(split: Path, text: str) -> Path:
    (split / "metadata.textproto").write_text(text)
    return split


def test_feature_names_other_than_the_metadata_says(ciao_copy):
    _with_metadata(
        ciao_copy,
        "output_dim: 10 matrix_spec { row_count: 32 col_count: 32 num_channels: 3 format: DENSE }",
    )
    with pytest.raises(FeatureError) as err:
        _read_all(ciao_copy)
    msg = str(err.value)
    assert "record 0" in msg and "'0_dense_input' not found" in msg and "0_compressed" in msg


def test_image_size_contradicts_metadata(ciao_copy):
    _with_metadata(
        ciao_copy,
        "output_dim: 10 matrix_spec { row_count: 31 col_count: 32 "
        "num_channels: 3 format: COMPRESSED }",
    )
    with pytest.raises(FeatureError, match=r"record 0: .*32x32, the metadata says 31x32"):
        _read_all(ciao_copy)


def test_dense_size_contradicts_metadata(mini_mnist, tmp_path):
    split = tmp_path / "mnist"
    shutil.copytree(mini_mnist, split)
    _with_metadata(split, "output_dim: 10 matrix_spec { row_count: 27 col_count: 28 }")
    with pytest.raises(
        FeatureError,
        match=r"mnist-00000-of-00002.tfrecord: record 0: .*784 "
        r"values, the metadata shape \(27, 28, 1\) needs 756",
    ):
        _read_all(split)
    _with_metadata(
        split, "output_dim: 10 sequence_size: 2 matrix_spec { row_count: 28 col_count: 28 }"
    )
    with pytest.raises(FeatureError, match="1 time steps, the metadata says sequence_size 2"):
        _read_all(split)


def test_label_index_beyond_output_dim(ciao_copy):
    first_big = next(i for i, (_, y) in enumerate(load(ciao_copy)) if y.argmax() >= 4)
    _with_metadata(
        ciao_copy,
        "output_dim: 4 matrix_spec { row_count: 32 col_count: 32 "
        "num_channels: 3 format: COMPRESSED }",
    )
    with pytest.raises(
        FeatureError,
        match=rf"record {first_big}: label index \d+ is outside "
        r"\[0, output_dim=4\)",
    ):
        _read_all(ciao_copy)


def _hand_split(tmp_path: Path, records: list[bytes], metadata: str) -> Path:
    split = tmp_path / "hand"
    split.mkdir()
    (split / "metadata.textproto").write_text(metadata)
    write_records(split / "sample-hand.tfrecord", records)
    return split


def _image_record(data: bytes) -> bytes:
    ex = SequenceExample()
    ex.context.feature["label_index"].int64_list.value.append(0)
    ex.context.feature["label_score"].float_list.value.append(1.0)
    ex.feature_lists.feature_list["0_compressed"].feature.add().bytes_list.value.append(data)
    return ex.SerializeToString()


def test_undecodable_image(miniciao, tmp_path):
    good = next(iter(load(miniciao)))  # noqa: F841 - the real data reads fine
    png = (miniciao / "miniciao.data" / "train").glob("*.tfrecord")
    from autodl.data.tfrecord import read_records

    real = list(read_records(next(png)))[:3]
    broken = SequenceExample.FromString(real[1])
    data = broken.feature_lists.feature_list["0_compressed"].feature[0].bytes_list.value[0]
    broken.feature_lists.feature_list["0_compressed"].feature[0].bytes_list.value[0] = data[
        : len(data) // 2
    ]  # a PNG cut in half
    records = [real[0], broken.SerializeToString(), _image_record(b"\xff\xd8\xffnot a jpeg")]
    meta = (
        "output_dim: 10 matrix_spec { row_count: 32 col_count: 32 num_channels: 3 "
        "format: COMPRESSED }"
    )
    split = _hand_split(tmp_path, records, meta)
    ds = load(split)
    assert ds[0][0].shape == (1, 32, 32, 3)
    with pytest.raises(FeatureError, match=r"record 1: '0_compressed' image 0: undecodable PNG"):
        ds[1]
    with pytest.raises(FeatureError, match=r"record 2: '0_compressed' image 0: undecodable JPEG"):
        ds[2]
    with pytest.raises(FeatureError, match="record 1"):
        list(ds)


def test_not_a_sequence_example_and_wrong_kinds(tmp_path):
    wrong = SequenceExample()
    wrong.context.feature["label_index"].float_list.value.append(1.0)
    wrong.feature_lists.feature_list["0_dense_input"].feature.add().float_list.value.extend([1, 2])
    records = [b"\x0a\xff\xff\xff", wrong.SerializeToString()]
    split = _hand_split(
        tmp_path, records, "output_dim: 3 matrix_spec { row_count: 1 col_count: 2 }"
    )
    ds = load(split)
    with pytest.raises(FeatureError, match="record 0: not a SequenceExample"):
        ds[0]
    with pytest.raises(FeatureError, match="record 1: 'label_index' is float_list"):
        ds[1]


def test_folders_that_are_not_tasks(tmp_path):
    with pytest.raises(TaskError, match="no such file"):
        find_task(tmp_path / "nope")
    with pytest.raises(TaskError, match="not an AutoDL task"):
        load(tmp_path)
    (tmp_path / "a.data").mkdir()
    (tmp_path / "b.data").mkdir()
    with pytest.raises(TaskError, match="more than one"):
        find_task(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "metadata.textproto").write_text(
        "output_dim: 2 matrix_spec { row_count: 1 col_count: 2 }"
    )
    with pytest.raises(DataError, match="no TFRecord files"):
        load(empty)


def test_errors_are_value_errors_and_pickle():
    import pickle

    err = FeatureError("/x/y.tfrecord", "bad thing", 7)
    assert isinstance(err, ValueError) and isinstance(err, DataError)
    back = pickle.loads(pickle.dumps(err))
    assert str(back) == str(err) == "/x/y.tfrecord: record 7: bad thing" and back.record == 7


def test_failed_overwrite_keeps_the_old_task(tmp_path):
    x = np.zeros((4, 1, 2, 2, 1), np.float32)
    root = write_task(tmp_path, "keep", (x, [0, 1, 0, 1]), (x, [1, 0, 1, 0]))
    before = sorted(p.relative_to(tmp_path) for p in root.rglob("*"))
    bad = [np.zeros((1, 2, 2, 1)), np.zeros((1, 3, 2, 1))]  # dense sizes differ
    with pytest.raises(ValueError, match="dense examples must share"):
        write_task(tmp_path, "keep", (bad, [0, 1]), overwrite=True)
    with pytest.raises(ValueError, match="class index 7"):
        write_task(tmp_path, "keep", (x, [0, 1, 0, 7]), output_dim=3, overwrite=True)
    with pytest.raises(FileExistsError):
        write_task(tmp_path, "keep", (x, [0, 1, 0, 1]))
    assert sorted(p.relative_to(tmp_path) for p in root.rglob("*")) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep"]  # nothing left aside
    assert len(load(root)) == 4
