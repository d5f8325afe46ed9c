"""Fixtures of the challenge tests: run folders as the runner and the scorer leave them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autodl.protocol import write_learning_curve, write_scores_json


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


@pytest.fixture
def make_run():
    return write_run
