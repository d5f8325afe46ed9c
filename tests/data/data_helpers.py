"""Shared helpers of the data tests: comparing our reader with TensorFlow's parse."""

from __future__ import annotations

import importlib.util
import io
import os
from pathlib import Path

import numpy as np
import pytest

# PyAV is the optional `media` extra: its tests are skipped without it, except in CI
# (which installs every extra), where they run and fail.
needs_av = pytest.mark.skipif(
    importlib.util.find_spec("av") is None and not os.environ.get("CI"),
    reason="PyAV is not installed (pip install 'autodl[media]')",
)


def tf_pairs(split_dir: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    """(example, labels) of every record as TensorFlow's reference pipeline parses it."""
    from autodl.data.tf import reference_dataset

    return [(x.numpy(), y.numpy()) for x, y in reference_dataset(str(split_dir), None)]


def assert_same_as_tf(split_dir: Path, **load_options) -> int:
    """Our arrays equal TensorFlow's within 1e-6 (shape, dtype and values); returns the count."""
    from autodl.data import load

    ours = list(load(split_dir, **load_options))
    ref = tf_pairs(split_dir)
    assert len(ours) == len(ref) > 0
    for i, ((x, y), (rx, ry)) in enumerate(zip(ours, ref, strict=False)):
        assert x.dtype == np.float32 and y.dtype == np.float32, i
        assert x.shape == rx.shape, (i, x.shape, rx.shape)
        assert y.shape == ry.shape, (i, y.shape, ry.shape)
        assert np.max(np.abs(x - rx), initial=0) <= 1e-6, i
        assert np.max(np.abs(y - ry), initial=0) <= 1e-6, i
    return len(ours)


def encode(pixels: np.ndarray, fmt: str, **kw) -> bytes:
    """Encode uint8 pixels (H, W) or (H, W, C) with Pillow in any format it writes."""
    from PIL import Image

    arr = pixels[..., 0] if pixels.ndim == 3 and pixels.shape[2] == 1 else pixels
    bio = io.BytesIO()
    Image.fromarray(arr).save(bio, fmt, **kw)
    return bio.getvalue()


def smooth_image(rng: np.random.Generator, h: int, w: int, c: int) -> np.ndarray:
    """A natural-ish uint8 image (smooth gradients + noise: JPEG's IDCT matters on it)."""
    base = np.cumsum(rng.normal(0, 12, (h, w, c)), axis=1) + np.linspace(40, 200, h)[:, None, None]
    return np.clip(base, 0, 255).astype(np.uint8)
