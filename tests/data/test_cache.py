"""The decoded cache on every access path: indexing, gathers, loaders (with worker
processes), to_numpy, to_tf; its limit; batches equal to per-example collation."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
from data_helpers import smooth_image

from autodl.data import load, write_task
from autodl.data.cache import CacheLimitWarning

N = 300


@pytest.fixture(scope="module")
def jpegs(tmp_path_factory):
    """A JPEG image task of N examples of 16x16x3, in 3 shards."""
    rng = np.random.default_rng(0)
    x = np.stack([smooth_image(rng, 16, 16, 3) for _ in range(N)])
    root = write_task(
        tmp_path_factory.mktemp("jpegs"),
        "jpegs",
        (x, np.arange(N) % 7),
        format="compressed",
        image_format="jpeg",
        num_shards=3,
    )
    return root / "jpegs.data" / "train"


@pytest.fixture(scope="module")
def reference(jpegs):
    """Every pair as the uncached reader parses it."""
    return load(jpegs, cache=False).gather(np.arange(N))


def test_indexing_fills_the_cache_in_any_order(jpegs, reference, parse_calls):
    ds = load(jpegs)
    order = np.random.default_rng(1).permutation(N)
    first = {int(i): ds[int(i)] for i in order}
    assert len(parse_calls) == N and ds.is_cached and ds.cache.fills == N
    again = [ds[i] for i in range(N)]
    assert len(parse_calls) == N  # served from the cache
    for i, (x, y) in enumerate(again):
        np.testing.assert_array_equal(x, reference[0][i])
        np.testing.assert_array_equal(y, reference[1][i])
        np.testing.assert_array_equal(x, first[i][0])
    again[0][0][:] = -1  # the caller's copy: the cache is untouched
    assert ds[0][0].min() >= 0
    list(ds)
    assert len(parse_calls) == N


def test_gather_equals_per_example_reads(jpegs, reference, parse_calls):
    ds = load(jpegs)
    index = np.array([5, -1, 5, 17, 0, 299, 120])
    x, y = ds.gather(index)
    assert x.shape == (7, 1, 16, 16, 3) and y.shape == (7, 7)
    np.testing.assert_array_equal(x, reference[0][index])
    np.testing.assert_array_equal(y, reference[1][index])
    assert len(parse_calls) == 5  # each distinct example decoded once (-1 is 299)
    ds.gather(index)
    assert len(parse_calls) == 5
    with pytest.raises(IndexError):
        ds.gather([N])


def test_shuffled_loader_decodes_each_example_once(jpegs, reference, parse_calls):
    torch = pytest.importorskip("torch")
    from autodl.data.torch import BatchDataset, collate

    ds = load(jpegs)
    loader = ds.to_torch().loader(batch_size=64, shuffle=True)
    assert isinstance(loader.dataset, BatchDataset) and loader.batch_size is None
    assert loader.pin_memory == torch.cuda.is_available()
    for epoch in range(3):
        seen = []
        for x, y in loader:
            assert x.dtype == torch.float32 and x.shape[1:] == (1, 16, 16, 3)
            seen.append(y.shape[0])
        assert sum(seen) == N
        assert len(parse_calls) == N and ds.cache.fills == N, epoch
    # whole-batch gathers equal per-example collation, in the sampler's order
    order = np.random.default_rng(2).permutation(N).tolist()
    tds = ds.to_torch()
    batches = list(tds.loader(batch_size=50, sampler=order, drop_last=True))
    assert len(batches) == N // 50
    for k, (x, y) in enumerate(batches):
        cx, cy = collate([tds[i] for i in order[50 * k : 50 * (k + 1)]])
        assert torch.equal(x, cx) and torch.equal(y, cy)
        np.testing.assert_array_equal(x.numpy(), reference[0][order[50 * k : 50 * (k + 1)]])


def test_loader_workers_share_one_cache(jpegs, reference, parse_calls):
    torch = pytest.importorskip("torch")
    ds = load(jpegs)
    loader = ds.to_torch().loader(batch_size=32, shuffle=True, num_workers=2)
    for epoch in range(2):
        assert sum(len(x) for x, _ in loader) == N
        # decoded in the workers, once each, into this process's cache
        assert len(parse_calls) == 0 and ds.is_cached, epoch
        assert ds.cache.fills == N and int(ds.cache.filled.max()) == 1, epoch
    # this process reads what the workers decoded, equal to the uncached parse
    x, y = ds.gather(np.arange(N))
    np.testing.assert_array_equal(x, reference[0])
    np.testing.assert_array_equal(y, reference[1])
    assert len(parse_calls) == 0
    # sequential, with workers: the same pairs as per-example reads
    seq = torch.cat([b[0] for b in ds.to_torch().loader(batch_size=64, num_workers=2)])
    np.testing.assert_array_equal(seq.numpy(), reference[0])


@pytest.mark.slow
def test_spawned_workers_map_the_same_cache(jpegs, parse_calls):
    pytest.importorskip("torch")
    ds = load(jpegs)
    loader = ds.to_torch().loader(batch_size=100, num_workers=1, multiprocessing_context="spawn")
    assert sum(len(x) for x, _ in loader) == N
    assert len(parse_calls) == 0 and ds.is_cached and ds.cache.fills == N


def test_pickled_dataset_maps_the_same_cache(jpegs, reference, parse_calls):
    ds = load(jpegs)
    back = pickle.loads(pickle.dumps(ds))
    x, _ = back[7]  # decoded and stored by the copy...
    assert ds.cache.has(7) and len(parse_calls) == 1  # ...visible to the original
    np.testing.assert_array_equal(ds[7][0], x)
    assert len(parse_calls) == 1


def test_limit_past_it_serves_what_is_cached(jpegs, reference, parse_calls):
    torch = pytest.importorskip("torch")
    per_example = 16 * 16 * 3 + 7 * 4  # uint8 pixels and float32 labels
    ds = load(jpegs, cache_limit=100 * per_example)
    assert ds.cache.limit == 100 * per_example
    loader = ds.to_torch().loader(batch_size=64, sampler=list(range(N - 1, -1, -1)))
    with pytest.warns(CacheLimitWarning, match=r"100 of 300 examples"):
        first = torch.cat([x for x, _ in loader])
    assert ds.cache.count == 100 and ds.cache.nbytes == 100 * per_example
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        second = torch.cat([x for x, _ in loader])
    assert len(parse_calls) == N + (N - 100)  # the 100 kept are not decoded again
    np.testing.assert_array_equal(first.numpy(), reference[0][::-1])
    np.testing.assert_array_equal(second.numpy(), reference[0][::-1])
    # with workers: the cached batches come as indices, the others as tensors
    loader = ds.to_torch().loader(batch_size=64, sampler=list(range(N)), num_workers=2)
    third = torch.cat([x for x, _ in loader])
    np.testing.assert_array_equal(third.numpy(), reference[0])
    assert ds.cache.count == 100


def test_limit_from_the_environment(jpegs, monkeypatch):
    monkeypatch.setenv("AUTODL_CACHE_LIMIT", "1e6")
    assert load(jpegs).cache.limit == 1_000_000


def test_to_numpy_fills_the_cache_for_every_later_path(jpegs, reference, parse_calls):
    ds = load(jpegs)
    x, y = ds.to_numpy()
    np.testing.assert_array_equal(x, reference[0])
    assert len(parse_calls) == N and ds.is_cached
    list(ds)
    ds[3]
    ds.to_numpy()
    assert len(parse_calls) == N


@pytest.fixture(scope="module")
def variable(tmp_path_factory):
    images = [np.full((4 + k % 5, 3 + k % 3, 3), k, np.uint8) for k in range(40)]
    root = write_task(
        tmp_path_factory.mktemp("var"), "var", (images, np.arange(40) % 2), format="compressed"
    )
    return root / "var.data" / "train"


def test_variable_shapes_share_the_cache_with_workers(variable, parse_calls):
    torch = pytest.importorskip("torch")
    from autodl.data.torch import collate

    ds = load(variable)
    assert ds.cache.shape is None
    loader = ds.to_torch().loader(batch_size=8, shuffle=True, num_workers=2, policy="pad")
    assert sum(len(x) for x, _ in loader) == 40
    assert len(parse_calls) == 0 and ds.is_cached and ds.cache.fills == 40
    uncached = load(variable, cache=False)
    for i in range(40):
        a, b = ds[i], uncached[i]
        assert a[0].shape == b[0].shape
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
    assert len(parse_calls) == 40  # only the uncached reader parsed
    batch = next(iter(ds.to_torch().loader(batch_size=5)))
    assert torch.equal(batch[0], collate([ds.to_torch()[i] for i in range(5)])[0])


def test_variable_shapes_limit(variable):
    ds = load(variable, cache_limit=2000)
    with pytest.warns(CacheLimitWarning):
        pairs = list(ds)
    assert 0 < ds.cache.count < 40 and ds.cache.nbytes <= 2000
    again = list(ds)
    for (a, _), (b, _) in zip(pairs, again, strict=True):
        np.testing.assert_array_equal(a, b)


def test_to_device_on_the_cpu_and_on_cuda(jpegs):
    torch = pytest.importorskip("torch")
    from autodl.data.torch import to_device

    x, y = next(iter(load(jpegs).to_torch().loader(batch_size=4)))
    same = to_device({"x": x, "pair": (x, y), "n": 3}, "cpu")
    assert same["x"] is x and same["pair"][1] is y and same["n"] == 3
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device: the asynchronous copy is checked where there is one")
    loader = load(jpegs).to_torch().loader(batch_size=4)
    bx, by = next(iter(loader))
    assert bx.is_pinned()
    gx, gy = to_device((bx, by), "cuda")
    assert gx.is_cuda and torch.equal(gx.cpu(), x) and torch.equal(gy.cpu(), y)


@pytest.mark.tf
def test_to_tf_reads_the_cache(jpegs, reference, parse_calls):
    pytest.importorskip("tensorflow")
    ds = load(jpegs)
    for _ in range(2):
        xs = np.stack([x.numpy() for x, _ in ds.to_tf()])
        np.testing.assert_array_equal(xs, reference[0])
    assert len(parse_calls) == N


def test_address_space_limit_shrinks_the_cache(variable):
    import subprocess
    import sys

    # under RLIMIT_AS (the sandbox without a cgroup) a 16 GiB map is refused: the cache
    # halves its limit until the map fits, and the dataset reads as usual
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (3 << 30, resource.RLIM_INFINITY))\n"
        "from autodl.data import load\n"
        f"ds = load({str(variable)!r}, cache_limit=16 << 30)\n"
        "assert len(list(ds)) == 40 and ds.is_cached, ds.cache.count\n"
        "assert 0 < ds.cache.limit < 3 << 30, ds.cache.limit\n"
        "print('OK')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "OK" in proc.stdout, proc.stderr


def test_unpickled_after_its_owner_is_gone_has_its_own_cache(jpegs, reference, tmp_path):
    import subprocess
    import sys

    blob = tmp_path / "ds.pickle"
    code = (
        "import pickle, sys\n"
        "from autodl.data import load\n"
        f"ds = load({str(jpegs)!r})\n"
        "ds[0]\n"
        f"open({str(blob)!r}, 'wb').write(pickle.dumps(ds))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    back = pickle.loads(blob.read_bytes())  # the owner's process has exited
    assert back.cache.count == 0  # a fresh cache of this process, not a stranger's file
    np.testing.assert_array_equal(back[0][0], reference[0][0])
    assert back.cache.count == 1


# ---------------------------------------------------------------------- the limit, again


def test_images_are_kept_as_uint8_pixels(jpegs, reference):
    ds = load(jpegs).cache_all()
    # a quarter of float32's bytes: pixels, then the labels as float32
    assert ds.cache.dtype == np.uint8 and ds.cache.nbytes == N * (16 * 16 * 3 + 7 * 4)
    x, y = ds.gather(np.arange(N))
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x, reference[0])  # the same bits as the float32 parse
    np.testing.assert_array_equal(y, reference[1])


def test_limit_with_two_workers_warns_in_this_process_once(jpegs, reference):
    torch = pytest.importorskip("torch")
    per_example = 16 * 16 * 3 + 7 * 4
    ds = load(jpegs, cache_limit=100 * per_example)
    order = np.random.default_rng(3).permutation(N).tolist()
    loader = ds.to_torch().loader(batch_size=32, sampler=order, num_workers=2)
    # the workers decode and find the cache full; the warning is raised here, once
    with pytest.warns(CacheLimitWarning, match=r"of 300 examples .* decoded on every access"):
        first = torch.cat([x for x, _ in loader])
    assert ds.cache.full and ds.cache.count == 100 and ds.cache.nbytes == 100 * per_example
    np.testing.assert_array_equal(first.numpy(), reference[0][order])
    kept = ds.cache.filled.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # later refusals are silent
        second = torch.cat([x for x, _ in loader])
        shuffled = ds.to_torch().loader(batch_size=64, shuffle=True, num_workers=2)
        assert sum(len(x) for x, _ in shuffled) == N
    np.testing.assert_array_equal(second.numpy(), reference[0][order])
    # what was kept stays kept, nothing else is stored, nothing is stored twice
    np.testing.assert_array_equal(ds.cache.filled, kept)
    assert int(ds.cache.filled.max()) == 1


def test_limit_zero_keeps_nothing_and_reads_everything(jpegs, reference, parse_calls):
    ds = load(jpegs, cache_limit=0)
    with pytest.warns(CacheLimitWarning, match=r"0 of 300 examples"):
        x, _ = ds.gather(np.arange(N))
    np.testing.assert_array_equal(x, reference[0])
    assert ds.cache.count == 0 and len(parse_calls) == N
    ds.gather(np.arange(10))
    assert len(parse_calls) == N + 10  # decoded again: nothing is kept


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2M", 2 << 20), ("1.5k", 1536), ("1e6", 10**6), ("0", 0), ("4GiB", 4 << 30)],
)
def test_limit_sizes_from_the_environment(jpegs, monkeypatch, text, expected):
    monkeypatch.setenv("AUTODL_CACHE_LIMIT", text)
    assert load(jpegs).cache.limit == expected


def test_bad_limit_in_the_environment_is_named(jpegs, monkeypatch):
    monkeypatch.setenv("AUTODL_CACHE_LIMIT", "lots")
    with pytest.raises(ValueError, match=r"\$AUTODL_CACHE_LIMIT: cache limit 'lots'"):
        load(jpegs)


CACHE_MODEL = """
import os
import numpy as np


class Model:
    def __init__(self, metadata):
        self.output_dim = metadata.get_output_size()
        self.done_training = False

    def fit(self, dataset, remaining_time_budget=None):
        list(dataset)
        print(f"env={os.environ.get('AUTODL_CACHE_LIMIT')} limit={dataset.cache.limit}")

    def predict(self, dataset, remaining_time_budget=None):
        self.done_training = True
        return np.zeros((len(dataset), self.output_dim))
"""


@pytest.fixture(scope="module")
def small_task(tmp_path_factory):
    rng = np.random.default_rng(0)
    x = rng.random((12, 1, 4, 4, 1), dtype=np.float32)
    root = tmp_path_factory.mktemp("task")
    return write_task(
        root, "small", train=(x[:8], np.arange(8) % 2), test=(x[8:], np.arange(4) % 2)
    )


@pytest.mark.parametrize("given", ["--cache-limit", "env"])
def test_ingest_hands_the_limit_to_the_model(cli, small_task, tmp_path, given):
    code = tmp_path / "code"
    code.mkdir()
    (code / "model.py").write_text(CACHE_MODEL)
    args = ["ingest", "--dataset_dir", small_task, "--output_dir", tmp_path / "out"]
    args += ["--code_dir", code, "--time_budget", "60"]
    env = dict(__import__("os").environ)
    if given == "env":
        env["AUTODL_CACHE_LIMIT"] = "3M"
    else:
        args += ["--cache-limit", "3M"]
    proc = cli(*args, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"env={3 << 20} limit={3 << 20}" in proc.stdout, proc.stdout[-3000:]


def test_bad_cache_limit_flags_are_refused(cli, small_task, tmp_path):
    proc = cli(
        "ingest",
        "--dataset_dir",
        small_task,
        "--output_dir",
        tmp_path / "out",
        "--code_dir",
        tmp_path,
        "--cache-limit",
        "lots",
    )
    assert proc.returncode == 2 and "cache limit 'lots'" in proc.stderr
    assert not (tmp_path / "out").exists()
    proc = cli("run", "--cache-limit=-3G", "-o", tmp_path / "runs")
    assert proc.returncode != 0 and "--cache-limit: cache limit '-3G'" in proc.stderr
