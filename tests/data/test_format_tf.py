"""Converted raw samples read the same through TensorFlow's own parse as through ours."""

from __future__ import annotations

import pytest
from data_helpers import assert_same_as_tf, needs_av

from autodl.data import find_task
from autodl.data.formats import convert

pytestmark = pytest.mark.tf
pytest.importorskip("tensorflow")


@pytest.mark.parametrize(
    "source, options",
    [
        ("mini-cifar", {}),  # compressed PNG, kept byte for byte
        pytest.param(  # grey JPEG video frames
            "mini-kth", {"frame_step": 10, "max_frames": 5}, marks=needs_av
        ),
        ("randomtext", {}),  # sparse text, multi-label scores
        ("matrix/iris-AutoML", {}),  # dense tabular
    ],
)
def test_converted_task_equals_tensorflow(shared_data, tmp_path, source, options):
    task = find_task(convert(shared_data / "raw" / source, tmp_path, **options))
    assert assert_same_as_tf(task.train_dir) > 0
    assert assert_same_as_tf(task.test_dir) > 0
