"""load(), find_task(), indexing, iteration and the decoded cache (no TensorFlow here)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autodl.data.decode as decode_module
from autodl.data import AutoDLDataset, find_task, load, write_task


def test_load_accepts_every_folder_of_a_task(miniciao):
    for path in (miniciao, miniciao / "miniciao.data", miniciao / "miniciao.data" / "train"):
        assert len(load(path)) == 82
        assert len(load(path, "test")) == 18
    assert load(miniciao / "miniciao.data" / "test").metadata.size() == 18
    task = find_task(miniciao / "miniciao.data" / "test")
    assert task.name == "miniciao" and task.solution_path.name == "miniciao.solution"
    assert task.public_info_path.name == "miniciao_public.info"


def test_bare_split_folder(mini_mnist):
    task = find_task(mini_mnist)
    assert (task.name, task.train_dir, task.test_dir, task.data_dir) == (
        "mini-mnist",
        mini_mnist.resolve(),
        None,
        None,
    )
    ds = load(mini_mnist)
    assert [p.name for p in ds.files] == [
        "mnist-00000-of-00002.tfrecord",
        "mnist-00001-of-00002.tfrecord",
    ]
    x, y = ds[-1]
    assert x.shape == (1, 28, 28, 1) and y.shape == (10,) and y.sum() == 1


def test_metadata_reference_methods(miniciao):
    md = load(miniciao).metadata
    assert md.get_output_size() == 10
    assert md.get_tensor_shape() == (1, 32, 32, 3)
    assert md.size() == 82
    assert md.get_matrix_size() == (32, 32) and md.get_matrix_size(0) == (32, 32)
    assert md.get_num_channels() == 3 and md.get_sequence_size() == 1
    assert md.is_compressed() and not md.is_sparse()
    assert md.get_label_to_index_map()["airplane"] == 0
    assert md.get_channel_to_index_map() == {} and md.get_feature_to_index_map() == {}
    assert md.get_dataset_name().endswith("miniciao.data/train")


def test_index_and_iteration_agree(mini_mnist):
    ds = load(mini_mnist)
    pairs = list(ds)
    assert len(pairs) == len(ds)
    for i in (0, 7, len(ds) - 1):
        np.testing.assert_array_equal(ds[i][0], pairs[i][0])
        np.testing.assert_array_equal(ds[i][1], pairs[i][1])
    with pytest.raises(IndexError):
        ds[len(ds)]


def test_later_passes_do_not_parse_again(miniciao, parse_calls):
    ds = load(miniciao)
    first = list(ds)
    assert len(parse_calls) == 82 and ds.is_cached
    second = list(ds)
    third = [ds[i] for i in range(len(ds))]
    assert len(parse_calls) == 82
    for (a, b), (c, d), (e, _f) in zip(first, second, third, strict=False):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(a, e)
        np.testing.assert_array_equal(b, d)
    # returned arrays are the caller's: changing one leaves the cache intact
    second[0][0][:] = -1
    assert ds[0][0].min() >= 0


def test_interrupted_pass_is_resumed(miniciao, parse_calls):
    ds = load(miniciao)
    for i, _ in enumerate(ds):
        if i == 9:
            break
    assert len(parse_calls) == 10 and not ds.is_cached
    assert len(list(ds)) == 82
    assert len(parse_calls) == 82 and ds.is_cached


def test_cache_limit_keeps_what_fits_and_warns_once(miniciao, parse_calls):
    from autodl.data.cache import CacheLimitWarning

    per_example = 32 * 32 * 3 + 10 * 4  # uint8 pixels and float32 labels
    ds = load(miniciao, cache_limit=10 * per_example)
    with pytest.warns(CacheLimitWarning, match=r"10 of 82 examples .* the other 72") as record:
        a = list(ds)
    assert len(record) == 1
    assert not ds.is_cached and ds.cache.count == 10 and ds.cache.nbytes <= 10 * per_example
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once: later refusals are silent
        b = list(ds)
    # the 10 kept ones are served from the cache, the other 72 decoded again
    assert len(parse_calls) == 82 + 72
    for (x, _), (y, _) in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    no_cache = load(miniciao, cache=False)
    list(no_cache)
    assert not no_cache.is_cached and no_cache.cache is None


def test_variable_shapes_are_cached(tmp_path, parse_calls):
    images = [np.full((h, h + 1, 3), h, np.uint8) for h in (3, 5, 4)]
    root = write_task(tmp_path, "var", (images, [0, 1, 0]), format="compressed")
    ds = load(root)
    shapes = [x.shape for x, _ in ds]
    assert shapes == [(1, 3, 4, 3), (1, 5, 6, 3), (1, 4, 5, 3)]
    assert [x.shape for x, _ in ds] == shapes and len(parse_calls) == 3


def test_worker_processes_give_the_same_pairs(tmp_path, monkeypatch):
    monkeypatch.setattr(decode_module, "PROCESS_MIN", 10)
    monkeypatch.setattr(decode_module, "CHUNK", 7)
    x = np.random.default_rng(0).random((40, 1, 3, 3, 1), dtype=np.float32)
    y = np.arange(40) % 3
    root = write_task(tmp_path, "proc", (x, y), num_shards=3)
    in_process = list(load(root, num_workers=0, cache=False))
    workers = list(load(root, num_workers=2, cache=False))
    for (a, b), (c, d) in zip(in_process, workers, strict=False):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    assert len(workers) == 40


def test_dataset_pickles(miniciao):
    import pickle

    ds = load(miniciao)
    list(ds)
    back = pickle.loads(pickle.dumps(ds))
    assert isinstance(back, AutoDLDataset) and len(back) == 82
    np.testing.assert_array_equal(back[3][0], ds[3][0])


def test_import_is_light():
    import subprocess
    import sys

    code = (
        "import sys, autodl.data; "
        "print(any(m in sys.modules for m in ('torch', 'tensorflow', 'PIL')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_errors_in_worker_processes_name_file_and_record(tmp_path, monkeypatch):
    from autodl.data import FeatureError

    monkeypatch.setattr(decode_module, "PROCESS_MIN", 10)
    monkeypatch.setattr(decode_module, "CHUNK", 4)
    x = np.zeros((20, 2), np.float32)
    y = np.arange(20) % 5
    root = write_task(tmp_path, "bad", (x, y))
    split = root / "bad.data" / "train"
    meta = split / "metadata.textproto"
    meta.write_text(meta.read_text().replace("output_dim: 5", "output_dim: 4"))
    with pytest.raises(FeatureError, match=r"sample-bad-train.tfrecord: record 4: label index 4"):
        list(load(split, num_workers=2))
