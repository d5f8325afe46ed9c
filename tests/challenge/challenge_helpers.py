"""Helpers of the challenge tests: run folders as the runner and scorer leave them, tiny
real tasks and submissions (CENTROID and submission() live in tests/challenge_files.py,
shared with the Docker and bundle tests)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from challenge_files import CENTROID, submission

from autodl.data import write_task
from autodl.protocol import write_learning_curve, write_scores_json

__all__ = ["CENTROID", "FRAGILE", "ZEROS", "blobs", "submission", "write_run"]


def write_run(
    root: Path,
    submission: str,
    dataset: str,
    *,
    timestamps: list[float],
    nauc: list[float],
    alc: float | None,
    status: str = "ok",
    time_budget: float = 20.0,
    t0: float = 60.0,
    layout: str = "runs",
) -> Path:
    """A finished run's score folder, written with the protocol's writers.

    ``layout="runs"`` gives ``root/runs/<submission>/<dataset>/scores`` with the
    ingestion record beside it; ``"bare"`` gives a lone ``root/<submission>`` score folder.
    """
    if layout == "runs":
        run_dir = root / "runs" / submission / dataset
        score_dir = run_dir / "scores"
        (run_dir / "predictions").mkdir(parents=True, exist_ok=True)
        record = {
            "status": status,
            "error": None if status == "ok" else "boom",
            "task_name": dataset,
            "num_predictions": len(timestamps),
            "time_budget": time_budget,
            "device": {"type": "cpu", "name": "cpu", "memory_bytes": 0},
        }
        (run_dir / "predictions" / "ingestion.json").write_text(json.dumps(record))
    else:
        score_dir = root / submission
    score_dir.mkdir(parents=True, exist_ok=True)
    if alc is not None:
        write_scores_json(
            score_dir,
            {
                "score": alc,
                "alc": alc,
                "duration": timestamps[-1] if timestamps else 0.0,
                "nauc": nauc[-1] if nauc else None,
                "accuracy": None,
                "num_predictions": len(timestamps),
                "status": "ok",
                "error": None,
                "task": dataset,
            },
        )
        write_learning_curve(
            score_dir,
            {
                "task": dataset,
                "time_budget": time_budget,
                "t0": t0,
                "timestamps": timestamps,
                "nauc": nauc,
                "accuracy": None,
                "alc": alc,
            },
        )
    return score_dir


# --------------------------------------------------------------------------- real runs

# Constant predictions: NAUC 0 whatever the timing, so ALC is exactly 0.
ZEROS = """
import numpy as np

class Model:
    def __init__(self, metadata):
        self.output_dim = metadata.get_output_size()
        self.done_training = False

    def fit(self, dataset, remaining_time_budget=None):
        pass

    def predict(self, dataset, remaining_time_budget=None):
        self.done_training = True
        return np.zeros((len(dataset), self.output_dim))
"""

# Predicts zeros on 3-class tasks (tying with ZEROS), fails before predicting on others.
FRAGILE = ZEROS.replace(
    "    def fit(self, dataset, remaining_time_budget=None):\n        pass",
    "    def fit(self, dataset, remaining_time_budget=None):\n"
    "        if self.output_dim != 3:\n"
    "            raise RuntimeError('fragile gives up on purpose')",
)


def blobs(root: Path, name: str, classes: int, features: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 4, (classes, features))

    def sample(n):
        y = np.arange(n) % classes
        return (centers[y] + rng.normal(0, 1, (n, features))).astype(np.float32), y

    return write_task(root, name, train=sample(60), test=sample(30), output_dim=classes)
