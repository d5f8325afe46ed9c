"""Our reader against TensorFlow's own parse (tf.io.parse_single_sequence_example + the
reference reshape / tf.io.decode_image): every array, max abs difference <= 1e-6, on the
shared real data and on tasks written here in every form the format has."""

from __future__ import annotations

import numpy as np
import pytest
from data_helpers import assert_same_as_tf, encode, smooth_image

from autodl.data import load, write_task
from autodl.data.proto import SequenceExample
from autodl.data.tfrecord import write_records

pytestmark = pytest.mark.tf
pytest.importorskip("tensorflow")


def test_miniciao_train_and_test(miniciao):
    assert assert_same_as_tf(miniciao / "miniciao.data" / "train") == 82
    assert assert_same_as_tf(miniciao / "miniciao.data" / "test") == 18
    # erased test labels read as zeros
    assert all(not y.any() for _, y in load(miniciao, "test"))


def test_mini_mnist_two_shards(mini_mnist):
    assert assert_same_as_tf(mini_mnist) == len(load(mini_mnist))


def test_second_pass_from_cache_equals_tf(miniciao):
    ds = load(miniciao)
    first = list(ds)
    assert ds.is_cached
    second = list(ds)
    for (a, b), (c, d) in zip(first, second, strict=False):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    assert ds[5][0].shape == (1, 32, 32, 3)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def _labels(rng, n, k=5):
    return rng.integers(0, k, n)


def test_dense_sequences_several_shards(tmp_path, rng):
    x = rng.normal(size=(12, 3, 4, 5, 2)).astype(np.float32)
    root = write_task(
        tmp_path, "dense", (x[:9], _labels(rng, 9)), (x[9:], _labels(rng, 3)), num_shards=3
    )
    assert len(list((root / "dense.data" / "train").glob("*.tfrecord"))) == 3
    assert assert_same_as_tf(root / "dense.data" / "train") == 9
    assert assert_same_as_tf(root / "dense.data" / "test") == 3


def test_png_variable_sizes(tmp_path, rng):
    images = [smooth_image(rng, int(h), int(w), 3) for h, w in rng.integers(5, 40, (10, 2))]
    root = write_task(
        tmp_path,
        "png",
        (images[:7], _labels(rng, 7)),
        (images[7:], _labels(rng, 3)),
        format="compressed",
    )
    md = load(root).metadata
    assert md.get_matrix_size() == (-1, -1)
    assert assert_same_as_tf(root / "png.data" / "train") == 7
    # lossless: pixels come back exactly
    for (x, _), img in zip(load(root), images, strict=False):
        np.testing.assert_array_equal(np.rint(x[0] * 255).astype(np.uint8), img)


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("subsampling", ["4:2:0", "4:4:4", "4:2:2"])
def test_jpeg_pixels_equal_tensorflow(tmp_path, rng, channels, subsampling):
    pytest.importorskip("simplejpeg")
    images = []
    for i in range(8):
        img = smooth_image(rng, int(rng.integers(8, 48)), int(rng.integers(8, 48)), 3)
        if i % 3 == 0:
            img = img[..., :1]  # greyscale JPEGs too
        images.append(
            encode(
                img,
                "JPEG",
                quality=int(rng.integers(40, 98)),
                subsampling=subsampling,
                progressive=bool(i % 2),
            )
        )
    root = write_task(
        tmp_path, "jpg", (images, _labels(rng, 8)), format="compressed", num_channels=channels
    )
    assert assert_same_as_tf(root / "jpg.data" / "train") == 8


def test_video_frames(tmp_path, rng):
    videos = []
    for t in (4, 2, 5):  # variable length
        h, w = rng.integers(8, 24, 2)
        videos.append([encode(smooth_image(rng, int(h), int(w), 3), "PNG") for _ in range(t)])
    root = write_task(tmp_path, "vid", (videos, _labels(rng, 3)), format="compressed")
    assert load(root).metadata.get_tensor_shape() == (-1, -1, -1, 3)
    assert [x.shape[0] for x, _ in load(root)] == [4, 2, 5]
    assert assert_same_as_tf(root / "vid.data" / "train") == 3


def test_jpeg_video_frames(tmp_path, rng):
    pytest.importorskip("simplejpeg")
    videos = [
        [encode(smooth_image(rng, 20, 28, 3), "JPEG", quality=85) for _ in range(t)] for t in (3, 6)
    ]
    root = write_task(tmp_path, "jvid", (videos, _labels(rng, 2)), format="compressed")
    assert load(root).metadata.get_tensor_shape() == (-1, 20, 28, 3)
    assert assert_same_as_tf(root / "jvid.data" / "train") == 2


def test_fixed_length_video_from_pixels(tmp_path, rng):
    frames = np.stack(
        [np.stack([smooth_image(rng, 16, 20, 3) for _ in range(3)]) for _ in range(4)]
    )
    root = write_task(tmp_path, "clips", (frames, _labels(rng, 4)), format="compressed")
    assert load(root).metadata.get_tensor_shape() == (3, 16, 20, 3)
    assert assert_same_as_tf(root / "clips.data" / "train") == 4
    x, _ = load(root)[1]
    np.testing.assert_array_equal(np.rint(x * 255).astype(np.uint8), frames[1])


@pytest.mark.parametrize(
    "mode,channels",
    [("RGBA", 3), ("RGB", 1), ("L", 3), ("LA", 3), ("P", 3), ("RGBA", 4), ("RGB", 4), ("L", 1)],
)
def test_png_channel_conversions(tmp_path, rng, mode, channels):
    from PIL import Image

    images = []
    for _ in range(3):
        img = Image.fromarray(smooth_image(rng, 12, 15, 3)).convert(mode)
        import io

        bio = io.BytesIO()
        img.save(bio, "PNG")
        images.append(bio.getvalue())
    root = write_task(
        tmp_path, "conv", (images, _labels(rng, 3)), format="compressed", num_channels=channels
    )
    assert assert_same_as_tf(root / "conv.data" / "train") == 3


@pytest.mark.parametrize("fmt", ["GIF", "BMP"])
def test_gif_and_bmp(tmp_path, rng, fmt):
    images = [encode(smooth_image(rng, 10, 13, 3), fmt) for _ in range(3)]
    root = write_task(tmp_path, "other", (images, _labels(rng, 3)), format="compressed")
    assert assert_same_as_tf(root / "other.data" / "train") == 3


def test_sparse_tabular(tmp_path, rng):
    x = rng.normal(size=(10, 30)).astype(np.float32)
    x[rng.random(x.shape) < 0.8] = 0
    x[3] = 0  # an example with no non-zero at all
    root = write_task(
        tmp_path, "tab", (x[:8], _labels(rng, 8)), (x[8:], _labels(rng, 2)), format="sparse"
    )
    assert assert_same_as_tf(root / "tab.data" / "train") == 8
    for row, (ex, _) in zip(x, load(root), strict=False):
        nz = np.flatnonzero(row)
        assert ex.shape == (1, nz.size, 2, 1)
        np.testing.assert_array_equal(ex[0, :, 0, 0], nz)
        np.testing.assert_array_equal(ex[0, :, 1, 0], row[nz])


def test_sparse_tabular_from_scipy(tmp_path, rng):
    scipy_sparse = pytest.importorskip("scipy.sparse")
    m = scipy_sparse.random(6, 40, density=0.2, format="csr", random_state=3, dtype=np.float32)
    root = write_task(tmp_path, "sp", (m, _labels(rng, 6)), format="sparse")
    assert assert_same_as_tf(root / "sp.data" / "train") == 6


def test_sparse_text(tmp_path, rng):
    docs = [rng.integers(0, 50, int(n)) for n in rng.integers(0, 20, 9)]
    vocab = {f"w{i}": i for i in range(50)}
    root = write_task(
        tmp_path, "txt", (docs, _labels(rng, 9)), format="sparse", channel_to_index_map=vocab
    )
    md = load(root).metadata
    assert md.get_channel_to_index_map() == vocab
    assert assert_same_as_tf(root / "txt.data" / "train") == 9
    for doc, (ex, _) in zip(docs, load(root), strict=False):
        np.testing.assert_array_equal(ex.reshape(-1), doc)


def test_multilabel_scores_and_hand_made_records(tmp_path):
    """Records built by hand: several values per step, unpacked floats, label scores."""
    split = tmp_path / "hand.data" / "train"
    split.mkdir(parents=True)
    (split / "metadata.textproto").write_text(
        "output_dim: 4\nsequence_size: 2\n"
        "matrix_spec { row_count: 1 col_count: 3 num_channels: 1 format: DENSE }\n"
    )
    records = []
    for i in range(3):
        ex = SequenceExample()
        ctx = ex.context.feature
        ctx["label_index"].int64_list.value.extend([0, 3])
        ctx["label_score"].float_list.value.extend([0.25 * i, 1.0])
        steps = ex.feature_lists.feature_list["0_dense_input"].feature
        for t in range(2):
            steps.add().float_list.value.extend([i + t + 0.5, -1.0, 1e-3 * t])
        ex.feature_lists.feature_list["unrelated"].feature.add()  # ignored, like TF
        records.append(ex.SerializeToString())
    write_records(split / "sample-hand.tfrecord", records)
    assert assert_same_as_tf(split) == 3
    x, y = load(split)[2]
    np.testing.assert_array_equal(y, [0.5, 0, 0, 1])
    assert x.shape == (2, 1, 3, 1)


def test_tensorflow_wire_compatibility():
    """Our messages and TensorFlow's serialise to the same bytes."""
    from tensorflow.core.example import example_pb2

    ours = SequenceExample()
    ours.context.feature["label_index"].int64_list.value.extend([1, 7])
    ours.context.feature["label_score"].float_list.value.extend([1.0, 0.5])
    ours.feature_lists.feature_list["0_compressed"].feature.add().bytes_list.value.append(b"xyz")
    theirs = example_pb2.SequenceExample.FromString(ours.SerializeToString())
    assert list(theirs.context.feature["label_index"].int64_list.value) == [1, 7]
    assert SequenceExample.FromString(theirs.SerializeToString()) == ours
