"""TFRecord framing and our protobuf messages against TensorFlow's own."""

from __future__ import annotations

import pytest

from autodl.data.proto import DataSpecification, MatrixSpec, SequenceExample, parse_proto
from autodl.data.tfrecord import masked_crc, read_records, record_spans, write_records


def test_round_trip_and_empty_records(tmp_path):
    records = [b"", b"x", bytes(range(256)) * 100]
    path = tmp_path / "r.tfrecord"
    write_records(path, records)
    assert list(read_records(path)) == records
    write_records(tmp_path / "empty.tfrecord", [])
    assert list(read_records(tmp_path / "empty.tfrecord")) == []


def test_masked_crc_known_value():
    # CRC-32C("123456789") is 0xE3069283 (the standard check value), then TFRecord's mask
    crc = 0xE3069283
    assert masked_crc(b"123456789") == ((((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF)


def test_real_shards_rewrite_byte_for_byte(mini_mnist, tmp_path):
    for shard in sorted(mini_mnist.glob("*.tfrecord")):
        out = tmp_path / shard.name
        write_records(out, read_records(shard))
        assert out.read_bytes() == shard.read_bytes()


def test_crc_can_be_skipped(tmp_path):
    path = tmp_path / "r.tfrecord"
    write_records(path, [b"hello"])
    buf = bytearray(path.read_bytes())
    buf[13] ^= 1
    assert record_spans(bytes(buf), check_crc=False) == [(12, 5)]


@pytest.mark.tf
def test_tensorflow_reads_ours_and_we_read_tensorflows(tmp_path):
    tf = pytest.importorskip("tensorflow")
    records = [b"a" * n for n in (0, 1, 1000)]
    ours = tmp_path / "ours.tfrecord"
    write_records(ours, records)
    assert [r.numpy() for r in tf.data.TFRecordDataset(str(ours))] == records
    theirs = tmp_path / "theirs.tfrecord"
    with tf.io.TFRecordWriter(str(theirs)) as w:
        for r in records:
            w.write(r)
    assert list(read_records(theirs)) == records
    assert theirs.read_bytes() == ours.read_bytes()


def test_proto_descriptors_match_the_wire_format():
    fields = {f.name: (f.number, f.type) for f in SequenceExample.DESCRIPTOR.fields}
    assert fields == {"context": (1, 11), "feature_lists": (2, 11)}
    feature = SequenceExample.DESCRIPTOR.fields_by_name["context"].message_type
    entry = feature.fields_by_name["feature"].message_type
    assert entry.GetOptions().map_entry
    kinds = entry.fields_by_name["value"].message_type
    assert [(f.name, f.number) for f in kinds.fields] == [
        ("bytes_list", 1),
        ("float_list", 2),
        ("int64_list", 3),
    ]
    assert kinds.oneofs[0].name == "kind"
    spec = DataSpecification()
    assert spec.sequence_size == 1 and MatrixSpec().num_channels == -1
    assert DataSpecification.DESCRIPTOR.file.package == "autodl"
    assert MatrixSpec.Format.Name(MatrixSpec.COMPRESSED) == "COMPRESSED"


def test_proto_reader_rejects_what_it_does_not_know():
    with pytest.raises(ValueError, match="unknown type"):
        parse_proto('syntax = "proto3"; package p; message A { B b = 1; }', "x.proto")
    with pytest.raises(ValueError, match="expected"):
        parse_proto('syntax = "proto3"; message A { int32 a = ; }', "x.proto")
