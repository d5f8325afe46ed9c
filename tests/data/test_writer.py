"""write_task: complete task folders that read back exactly (TensorFlow's view of them is
checked in test_reader_tf.py)."""

from __future__ import annotations

import numpy as np
import pytest

from autodl.data import AutoDLMetadata, find_task, load, write_task
from autodl.protocol import read_matrix


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def test_task_layout_solution_info_and_names(tmp_path, rng):
    x = rng.random((10, 1, 6, 5, 3), dtype=np.float32)
    y = rng.integers(0, 4, 10)
    names = ["ant", "bee", "cat", "dog"]
    root = write_task(
        tmp_path,
        "zoo",
        (x[:7], y[:7]),
        (x[7:], y[7:]),
        label_names=names,
        domain="image",
        public_info={"source": "unit test"},
    )
    task = find_task(root)
    assert (task.name, task.root) == ("zoo", root)
    assert task.solution_path == root / "zoo.solution"
    assert sorted(p.name for p in task.train_dir.iterdir()) == [
        "metadata.textproto",
        "sample-zoo-train.tfrecord",
    ]
    np.testing.assert_array_equal(read_matrix(task.solution_path), np.eye(4)[y[7:]])
    assert task.solution_path.stat().st_mode & 0o077 == 0  # the scorer's alone
    assert task.solution_path.read_text().splitlines()[0] == " ".join(
        f"{v:g}" for v in np.eye(4)[y[7]]
    )
    assert (root / "zoo_label.name").read_text().split() == names
    info = (root / "zoo_public.info").read_text()
    assert "domain : image\n" in info and "sample_num : 10\n" in info
    assert "label_num : 4\n" in info and "source : unit test\n" in info
    md = load(root).metadata
    assert md.get_label_to_index_map() == {n: i for i, n in enumerate(names)}
    assert (md.size(), md.get_output_size(), md.get_tensor_shape()) == (7, 4, (1, 6, 5, 3))
    assert load(root, "test").metadata.size() == 3
    # round trip, exact; the test split's labels are erased
    for (a, b), xa, ya in zip(load(root), x, y, strict=False):
        np.testing.assert_array_equal(a, xa)
        np.testing.assert_array_equal(b, np.eye(4, dtype=np.float32)[ya])
    assert all(not b.any() for _, b in load(root, "test"))


def test_metadata_text_round_trip(tmp_path, rng):
    root = write_task(
        tmp_path,
        "t",
        (rng.random((3, 4)), [0, 1, 1]),
        feature_to_index_map={"f0": 0, "f1": 1, "f2": 2, "f3": 3},
    )
    path = root / "t.data" / "train" / "metadata.textproto"
    md = AutoDLMetadata.from_file(path)
    assert md.get_feature_to_index_map() == {"f0": 0, "f1": 1, "f2": 2, "f3": 3}
    again = AutoDLMetadata.from_text(md.to_text())
    assert again.metadata_ == md.metadata_
    # single-quoted strings, as in real files, read through protobuf text format
    quoted = AutoDLMetadata.from_text(
        "output_dim: 2 matrix_spec { row_count: 1 col_count: 1 } "
        "label_to_index_map { key: 'yes' value: 1 } label_to_index_map { key: \"no\" value: 0 }"
    )
    assert quoted.get_label_to_index_map() == {"yes": 1, "no": 0}
    assert quoted.get_class_labels() == ["no", "yes"]


def test_multilabel_scores_and_shards(tmp_path, rng):
    x = rng.random((9, 2, 3, 3, 1), dtype=np.float32)
    y = (rng.random((9, 5)) < 0.4) * rng.random((9, 5))
    y = y.astype(np.float32)
    root = write_task(tmp_path, "ml", (x, y), (x[:2], y[:2]), num_shards=4)
    files = sorted(p.name for p in (root / "ml.data" / "train").glob("*.tfrecord"))
    assert files == [f"sample-ml-train-0000{k}-of-00004.tfrecord" for k in range(4)]
    got = list(load(root))
    np.testing.assert_array_equal(np.stack([b for _, b in got]), y)
    np.testing.assert_array_equal(np.stack([a for a, _ in got]), x)
    np.testing.assert_allclose(read_matrix(root / "ml.solution"), y[:2], rtol=1e-5)


def test_compressed_jpeg_and_encoded_bytes(tmp_path, rng):
    from data_helpers import encode, smooth_image

    pixels = np.stack([smooth_image(rng, 16, 16, 3) for _ in range(4)])
    root = write_task(
        tmp_path,
        "j",
        (pixels, [0, 1, 0, 1]),
        format="compressed",
        image_format="jpeg",
        jpeg_quality=90,
    )
    x, _ = load(root)[0]
    assert x.shape == (1, 16, 16, 3)
    # lossy: the pixels are the JPEG's (Pillow's accurate IDCT differs by a few levels)
    import io

    from PIL import Image

    from autodl.data.writer import encode_image

    pil = np.asarray(Image.open(io.BytesIO(encode_image(pixels[0], "jpeg", 90))), np.float32)
    assert np.abs(x[0] * 255 - pil).max() <= 8
    gray = [encode(smooth_image(rng, 9, 11, 1), "PNG") for _ in range(2)]
    root = write_task(tmp_path, "g", (gray, [0, 1]))  # bytes: compressed guessed
    md = load(root).metadata
    assert md.is_compressed() and md.get_tensor_shape() == (1, 9, 11, 1)
    assert (root / "g_public.info").read_text().startswith("domain : image")


def test_sparse_text_and_tabular_metadata(tmp_path):
    docs = [np.array([3, 1, 4]), np.array([], dtype=np.int64), np.array([5, 9, 2, 6])]
    root = write_task(tmp_path, "txt", (docs, [0, 1, 0]), format="sparse")
    md = load(root).metadata
    assert md.is_sparse() and md.get_num_channels() == 10 and md.get_sequence_size() == -1
    assert [x.reshape(-1).tolist() for x, _ in load(root)] == [[3, 1, 4], [], [5, 9, 2, 6]]
    assert "domain : text" in (root / "txt_public.info").read_text()
    tab = np.array([[0, 1.5, 0, 2], [0, 0, 0, 0], [7, 0, 0, 0]], np.float32)
    root = write_task(tmp_path, "tab", (tab, [0, 1, 1]), format="sparse")
    got = [x for x, _ in load(root)]
    assert got[0].tolist() == [[[[1.0], [1.5]], [[3.0], [2.0]]]]
    assert got[1].shape == (1, 0, 2, 1)
    assert "domain : tabular" in (root / "tab_public.info").read_text()


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"name": "a/b"}, "bad task name"),
        ({"num_shards": 0}, "num_shards"),
        ({"format": "weird"}, "format must be one of"),
        ({"label_names": ["one"]}, "1 label names for output_dim"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, message):
    x = np.zeros((2, 3), np.float32)
    args = {"name": "ok", **kwargs}
    name = args.pop("name")
    output_dim = 2 if "label_names" in kwargs else None
    with pytest.raises(ValueError, match=message):
        write_task(tmp_path, name, (x, [0, 1]), output_dim=output_dim, **args)
    assert not any(tmp_path.iterdir())


def test_overwrite_replaces(tmp_path):
    x = np.zeros((2, 3), np.float32)
    write_task(tmp_path, "o", (x, [0, 1]))
    root = write_task(tmp_path, "o", (np.ones((3, 3), np.float32), [1, 1, 0]), overwrite=True)
    assert len(load(root)) == 3 and sorted(p.name for p in tmp_path.iterdir()) == ["o"]


@pytest.mark.parametrize(
    "examples, options, domain",
    [
        (np.zeros((4, 1, 5, 6, 1), np.float32), {}, "image"),
        (np.zeros((4, 3, 5, 6, 1), np.float32), {}, "video"),
        ([np.zeros((7 + k, 1, 1, 1), np.float32) for k in range(4)], {}, "speech"),
        (np.zeros((4, 1, 1, 9, 1), np.float32), {}, "tabular"),
        (np.eye(4, 5, dtype=np.float32), {"format": "sparse"}, "tabular"),
        ([np.arange(k + 1) for k in range(4)], {"format": "sparse"}, "text"),
        ([np.zeros((2, 4, 4, 3), np.uint8)] * 4, {"format": "compressed"}, "video"),
    ],
)
def test_written_domain_is_what_inspect_guesses(tmp_path, examples, options, domain):
    from autodl.data.domain import guess_domain
    from autodl.data.inspect import inspect_task

    root = write_task(tmp_path, "d", (examples, np.arange(4) % 2), **options)
    assert f"domain : {domain}\n" in (root / "d_public.info").read_text()
    # the public.info line aside, the metadata alone gives the same answer
    assert guess_domain(load(root).metadata) == domain
    (root / "d_public.info").write_text("sample_num : 4\n")
    summary = inspect_task(root)
    assert (summary.domain, summary.domain_source) == (domain, "shape")
