"""to_numpy(), to_torch() with its collate policies, to_tf()."""

from __future__ import annotations

import numpy as np
import pytest

from autodl.data import load, write_task


@pytest.fixture
def variable(tmp_path):
    images = [
        np.full((h, w, 3), 10 * k, np.uint8) for k, (h, w) in enumerate([(4, 6), (6, 4), (5, 5)])
    ]
    return write_task(tmp_path, "var", (images, [0, 1, 2]), format="compressed")


def test_to_numpy_stacks(miniciao):
    ds = load(miniciao)
    x, y = ds.to_numpy()
    assert x.shape == (82, 1, 32, 32, 3) and y.shape == (82, 10)
    assert x.dtype == np.float32 and y.dtype == np.float32
    np.testing.assert_array_equal(x[5], ds[5][0])


def test_to_numpy_refuses_variable_shapes_and_big_arrays(variable, miniciao):
    with pytest.raises(ValueError, match=r"example 1 has shape \(1, 6, 4, 3\).*cannot stack"):
        load(variable).to_numpy()
    with pytest.raises(ValueError, match="over the limit"):
        load(miniciao).to_numpy(max_bytes=500_000)


def test_torch_dataset_and_default_loader(miniciao):
    torch = pytest.importorskip("torch")
    tds = load(miniciao).to_torch()
    assert len(tds) == 82
    x, y = tds[0]
    assert isinstance(x, torch.Tensor) and x.dtype == torch.float32 and x.shape == (1, 32, 32, 3)
    batches = list(tds.loader(batch_size=32))
    assert [b[0].shape[0] for b in batches] == [32, 32, 18]
    assert batches[0][0].shape == (32, 1, 32, 32, 3) and batches[0][1].shape == (32, 10)
    np.testing.assert_array_equal(batches[1][0][3].numpy(), load(miniciao)[35][0])


def test_torch_policies(variable):
    pytest.importorskip("torch")
    from autodl.data.torch import collate

    tds = load(variable).to_torch()
    batch = [tds[i] for i in range(3)]
    x, y = collate(batch, "pad")
    assert x.shape == (3, 1, 6, 6, 3)
    assert float(x[0, 0, :4, :6].min()) == 0 and float(x[1, 0, :6, :4].max()) > 0
    assert float(x[1, 0, :, 4:].abs().max()) == 0  # padded with zeros
    x, _ = collate(batch, "crop")
    assert x.shape == (3, 1, 4, 4, 3)
    x, _ = collate(batch, "resize", size=(8, 8))
    assert x.shape == (3, 1, 8, 8, 3)
    np.testing.assert_allclose(x[2].numpy(), 20 / 255, rtol=1e-5)  # constant image stays
    x, _ = collate(batch, "pad", size=(5, 7))
    assert x.shape == (3, 1, 5, 7, 3)
    with pytest.raises(ValueError, match="different shapes"):
        collate(batch, "error")
    with pytest.raises(ValueError, match="policy must be one of"):
        collate(batch, "stretch")
    loader = tds.loader(batch_size=2, policy="crop")
    assert [tuple(b[0].shape) for b in loader] == [(2, 1, 4, 4, 3), (1, 1, 5, 5, 3)]


def test_torch_loader_with_worker_processes(miniciao):
    pytest.importorskip("torch")
    ds = load(miniciao).cache_all()
    loader = ds.to_torch().loader(batch_size=41, num_workers=2)
    xs = [b[0] for b in loader]
    np.testing.assert_array_equal(xs[1][0].numpy(), ds[41][0])


@pytest.mark.tf
def test_to_tf_yields_the_reference_pairs(miniciao, variable):
    tf = pytest.importorskip("tensorflow")
    from data_helpers import tf_pairs

    for split in (miniciao / "miniciao.data" / "train", variable / "var.data" / "train"):
        ds = load(split)
        tfds = ds.to_tf()
        assert isinstance(tfds, tf.data.Dataset)
        for _ in range(2):  # a second pass comes from the cache
            got = [(x.numpy(), y.numpy()) for x, y in tfds]
            ref = tf_pairs(split)
            assert len(got) == len(ref)
            for (a, b), (c, d) in zip(got, ref, strict=False):
                assert a.shape == c.shape
                assert np.abs(a - c).max() <= 1e-6 and np.abs(b - d).max() <= 1e-6
    spec = load(variable).to_tf().element_spec
    assert spec[0].shape.as_list() == [1, None, None, 3] and spec[1].shape.as_list() == [3]
