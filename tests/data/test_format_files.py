"""`autodl.data.formats` on the file format: the shared raw samples convert and read back.

Each source is converted once per module; the checks compare what `autodl.data.load`
reads back with the source files decoded independently (Pillow, PyAV, the CSV by hand).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from data_helpers import needs_av
from PIL import Image

from autodl.data import find_task, load
from autodl.data.formats import FormatError, convert, detect
from autodl.protocol import read_matrix


def _raw(shared_data: Path, name: str) -> Path:
    return shared_data / "raw" / name


def _test_labels(task_dir: Path) -> np.ndarray:
    task = find_task(task_dir)
    return np.asarray(read_matrix(task.solution_path), dtype=np.float32)


def _all_pairs(task_dir: Path):
    """(example, labels) of train then test, test labels from the solution file."""
    train = list(load(task_dir, split="train"))
    test = list(load(task_dir, split="test"))
    labels = _test_labels(task_dir)
    assert len(labels) == len(test)
    for (_, erased), _ in zip(test, labels, strict=True):
        assert not erased.any(), "test labels must be erased in the TFRecords"
    return train + [(x, y) for (x, _), y in zip(test, labels, strict=True)], len(train), len(test)


# ------------------------------------------------------------------ mini-cifar (PNG)


@pytest.fixture(scope="module")
def cifar(shared_data, tmp_path_factory):
    return convert(_raw(shared_data, "mini-cifar"), tmp_path_factory.mktemp("cifar"))


def test_detects_file_format(shared_data):
    for name in ("mini-cifar", "mini-kth", "randomtext"):
        assert detect(_raw(shared_data, name)) == "files"


def test_cifar_pixels_and_labels_match_the_pngs(shared_data, cifar):
    source = _raw(shared_data, "mini-cifar")
    names = (source / "label.name").read_text().split()
    with open(source / "labels.csv", newline="") as f:
        expected = {row["FileName"]: int(row["Labels"]) for row in csv.DictReader(f)}
    by_pixels = {}
    for file_name, label in expected.items():
        pixels = np.asarray(Image.open(source / file_name).convert("RGB"))
        by_pixels[pixels.tobytes()] = (file_name, label, pixels)

    pairs, n_train, n_test = _all_pairs(cifar)
    assert (n_train, n_test) == (80, 20)
    seen = set()
    for example, labels in pairs:
        assert example.shape == (1, 32, 32, 3) and example.dtype == np.float32
        key = np.rint(example[0] * 255).astype(np.uint8).tobytes()
        assert key in by_pixels, "an example that is no source image"
        file_name, label, pixels = by_pixels[key]
        np.testing.assert_allclose(example[0], pixels / 255.0, atol=1e-6)
        np.testing.assert_array_equal(labels, np.eye(10, dtype=np.float32)[label])
        seen.add(file_name)
    assert seen == set(expected), "every image exactly once across train and test"

    meta = load(cifar, split="train").metadata
    assert meta.get_output_size() == 10
    assert meta.is_compressed()
    assert tuple(meta.get_tensor_shape()) == (1, 32, 32, 3)
    assert meta.get_label_to_index_map() == {n: i for i, n in enumerate(names)}


def test_cifar_split_is_stratified_and_seeded(shared_data, cifar, tmp_path):
    counts = _test_labels(cifar).sum(axis=0)
    np.testing.assert_array_equal(counts, np.full(10, 2.0))
    again = convert(_raw(shared_data, "mini-cifar"), tmp_path)
    np.testing.assert_array_equal(_test_labels(again), _test_labels(cifar))
    other = convert(_raw(shared_data, "mini-cifar"), tmp_path / "s1", seed=1)
    assert not np.array_equal(
        load(other, split="test").to_numpy()[0], load(cifar, split="test").to_numpy()[0]
    )


# ------------------------------------------------------------------ mini-kth (AVI)


@pytest.fixture(scope="module")
def kth(shared_data, tmp_path_factory):
    # every 4th frame keeps the test quick; the full conversion is the same code path
    return convert(_raw(shared_data, "mini-kth"), tmp_path_factory.mktemp("kth"), frame_step=4)


@needs_av
def test_kth_videos_read_back_as_frames(shared_data, kth):
    import av

    source = _raw(shared_data, "mini-kth")
    first_frames = {}
    with open(source / "labels.csv", newline="") as f:
        for row in csv.DictReader(f):
            with av.open(str(source / row["FileName"])) as container:
                frames = [fr.to_ndarray(format="gray") for fr in container.decode(video=0)]
            first_frames[row["FileName"]] = (frames[::4], int(row["Labels"]))

    pairs, n_train, n_test = _all_pairs(kth)
    assert n_train + n_test == 6 and n_test >= 1
    meta = load(kth, split="train").metadata
    assert meta.is_compressed() and meta.get_num_channels() == 1
    assert tuple(meta.get_matrix_size()) == (120, 160)
    matched = set()
    for example, labels in pairs:
        assert example.ndim == 4 and example.shape[1:] == (120, 160, 1)
        # JPEG is lossy: match each video by its frame count and mean error
        candidates = [
            name
            for name, (frames, _) in first_frames.items()
            if len(frames) == len(example)
            and np.abs(example[0, :, :, 0] - frames[0] / 255.0).mean() < 0.02
        ]
        assert len(candidates) == 1
        frames, label = first_frames[candidates[0]]
        for t in (0, len(frames) // 2, len(frames) - 1):
            assert np.abs(example[t, :, :, 0] - frames[t] / 255.0).mean() < 0.02
        assert labels.argmax() == label and labels.sum() == 1
        matched.add(candidates[0])
    assert len(matched) == 6


# ------------------------------------------------------------------ randomtext (multi-label)


@pytest.fixture(scope="module")
def randomtext(shared_data, tmp_path_factory):
    return convert(_raw(shared_data, "randomtext"), tmp_path_factory.mktemp("rt"))


def test_randomtext_tokens_and_label_confidences(shared_data, randomtext):
    source = _raw(shared_data, "randomtext")
    expected = {}
    with open(source / "randomtext_labels_file_format.csv", newline="") as f:
        for row in csv.DictReader(f):
            tokens = row["LabelConfidencePairs"].split()
            scores = {int(k): float(v) for k, v in zip(tokens[::2], tokens[1::2], strict=True)}
            ids = [int(t) for t in (source / row["FileName"]).read_text().split()]
            expected[tuple(ids)] = scores

    pairs, n_train, n_test = _all_pairs(randomtext)
    assert n_train + n_test == 30
    meta = load(randomtext, split="train").metadata
    top_label = max(k for s in expected.values() for k in s)
    assert meta.get_output_size() == top_label + 1
    assert meta.is_sparse()
    vocab = meta.get_channel_to_index_map()
    feat = (source / "feat.name").read_text().splitlines()
    assert vocab[feat[0]] == 0 and vocab[feat[5]] == 5
    for example, labels in pairs:
        ids = tuple(int(v) for v in example.reshape(-1))
        assert example.shape == (len(ids), 1, 1, 1)
        scores = expected.pop(ids)
        want = np.zeros(meta.get_output_size(), dtype=np.float32)
        for k, v in scores.items():
            want[k] = v
        np.testing.assert_allclose(labels, want, atol=1e-6)
    assert not expected


# ------------------------------------------------------------------ bad input


def _copy_cifar(shared_data: Path, dest: Path, n: int = 12) -> Path:
    """A small file-format folder: the first n images of mini-cifar."""
    source = _raw(shared_data, "mini-cifar")
    dest.mkdir()
    lines = (source / "labels.csv").read_text().splitlines()
    (dest / "labels.csv").write_text("\n".join(lines[: n + 1]) + "\n")
    for line in lines[1 : n + 1]:
        name = line.split(",")[0]
        (dest / name).write_bytes((source / name).read_bytes())
    (dest / "label.name").write_text((source / "label.name").read_text())
    return dest


def _fails(src: Path, out: Path, *fragments: str) -> None:
    with pytest.raises(FormatError) as info:
        convert(src, out)
    for fragment in fragments:
        assert fragment in str(info.value)
    # nothing half-written: the output folder holds no task and no scratch folder
    assert not out.exists() or not any(out.iterdir())


def test_missing_labels_csv(shared_data, tmp_path):
    src = _copy_cifar(shared_data, tmp_path / "src")
    (src / "labels.csv").unlink()
    (src / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(FormatError, match="labels.csv"):
        convert(src, tmp_path / "out", format="files")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_file_named_in_labels_csv_is_absent(shared_data, tmp_path):
    src = _copy_cifar(shared_data, tmp_path / "src")
    lines = (src / "labels.csv").read_text().splitlines()
    (src / lines[4].split(",")[0]).unlink()
    _fails(src, tmp_path / "out", f"{src / 'labels.csv'}:5", lines[4].split(",")[0])


def test_label_outside_label_name(shared_data, tmp_path):
    src = _copy_cifar(shared_data, tmp_path / "src")
    lines = (src / "labels.csv").read_text().splitlines()
    lines[3] = lines[3].split(",")[0] + ",10"
    (src / "labels.csv").write_text("\n".join(lines) + "\n")
    _fails(src, tmp_path / "out", f"{src / 'labels.csv'}:4", "label 10", "label.name")


def test_unreadable_image(shared_data, tmp_path):
    src = _copy_cifar(shared_data, tmp_path / "src")
    name = (src / "labels.csv").read_text().splitlines()[2].split(",")[0]
    (src / name).write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    _fails(src, tmp_path / "out", str(src / name), "not a readable image", f"labels.csv:{3}")


def test_existing_task_is_kept_without_overwrite(shared_data, tmp_path):
    src = _copy_cifar(shared_data, tmp_path / "src")
    first = convert(src, tmp_path / "out")
    before = sorted(p.name for p in first.rglob("*"))
    with pytest.raises(FileExistsError):
        convert(src, tmp_path / "out")
    assert sorted(p.name for p in first.rglob("*")) == before
    assert convert(src, tmp_path / "out", overwrite=True) == first
