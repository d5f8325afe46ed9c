"""A small real task and submission for the bundle tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from challenge_files import challenge_file

MODEL = """
import numpy as np


class Model:
    def __init__(self, metadata):
        self.done_training = False

    def fit(self, dataset, remaining_time_budget=None):
        pass

    def predict(self, dataset, remaining_time_budget=None):
        x, _ = dataset.to_numpy()
        self.done_training = True
        return np.zeros((len(x), 3))
"""


@pytest.fixture(scope="session")
def task(tmp_path_factory) -> Path:
    """A 3-class dense task (TFRecords, metadata, .solution) written by autodl.data."""
    from autodl.data import write_task

    rng = np.random.default_rng(3)
    y = np.arange(60) % 3
    x = (rng.normal(0, 1, size=(60, 4)) + y[:, None]).astype(np.float32)
    return write_task(
        tmp_path_factory.mktemp("data"), "blobs", train=(x[:40], y[:40]), test=(x[40:], y[40:])
    )


@pytest.fixture
def challenge(tmp_path, task) -> Path:
    """A challenge YAML with one dataset (budget 20 s, construction 30 s) and one submission."""
    return challenge_file(
        tmp_path,
        {"blobs": {"path": task, "construction_budget": 30}},
        {"zero": MODEL},
        title="Bundle test",
        defaults={"time_budget": 20, "t0": 30},
    )
