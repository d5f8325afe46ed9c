"""Tiny real submissions and challenge files, shared by the challenge, Docker and bundle
tests (a module beside tests/conftest.py, so every test folder imports the same one)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import yaml

# Nearest class centroid: learns the blobs at once, one prediction, then stops.
CENTROID = """
import numpy as np

class Model:
    def __init__(self, metadata):
        self.done_training = False

    def fit(self, dataset, remaining_time_budget=None):
        x, y = dataset.to_numpy()
        x = x.reshape(len(x), -1)
        self.centroids = (y.T @ x) / np.maximum(y.sum(axis=0), 1)[:, None]

    def predict(self, dataset, remaining_time_budget=None):
        x, _ = dataset.to_numpy()
        x = x.reshape(len(x), -1)
        d = ((x[:, None, :] - self.centroids[None]) ** 2).sum(axis=2)
        self.done_training = True
        return -d
"""


def submission(root: Path, name: str, code: str) -> Path:
    """The submission folder ``root/name`` holding ``code`` as its model.py."""
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "model.py").write_text(textwrap.dedent(code))
    return folder


def challenge_file(
    root: Path,
    datasets: dict[str, Any],
    submissions: dict[str, str],
    *,
    title: str | None = None,
    defaults: dict[str, float] | None = None,
    name: str = "challenge.yaml",
) -> Path:
    """A challenge YAML in ``root`` (see docs/challenge.md): ``datasets`` maps a name to a
    task folder or a mapping, ``submissions`` a name to model.py's code, each written to
    ``root/<name>`` and named by its relative path."""
    for sub, code in submissions.items():
        submission(root, sub, code)
    config: dict[str, Any] = {"title": title} if title else {}
    if defaults:
        config["defaults"] = defaults
    config["datasets"] = {
        k: ({**v, "path": str(v["path"])} if isinstance(v, dict) else str(v))
        for k, v in datasets.items()
    }
    config["submissions"] = {sub: sub for sub in submissions}
    path = root / name
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path
