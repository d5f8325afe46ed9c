"""Helpers for the scoring tests: solution and prediction folders written with autodl.protocol."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from autodl import protocol


class Folders:
    """A task's solution folder, prediction folder and score folder under one tmp dir."""

    def __init__(self, root: Path, task: str = "toy") -> None:
        self.task = task
        self.ref = root / "ref"
        self.res = root / "res"
        self.out = root / "out"
        self.ref.mkdir()
        self.res.mkdir()

    def solution(self, sol: np.ndarray) -> np.ndarray:
        (self.ref / f"{self.task}.solution").write_bytes(protocol.format_prediction(sol))
        return sol

    def start(self, *, budget: float = 300.0, start_time: float | None = None, pid: int = 0):
        start_time = time.time() - 1000 if start_time is None else start_time
        protocol.write_start(
            self.res,
            ingestion_pid=pid,
            task_name=self.task,
            time_budget=budget,
            start_time=start_time,
        )
        return start_time

    def predict(self, k: int, pred: np.ndarray, t: float | None, start_time: float) -> None:
        protocol.write_prediction(self.res, self.task, k, pred)
        if t is not None:
            protocol.append_prediction_time(self.res, k, start_time + t)

    def end(self, success: bool = True) -> None:
        protocol.write_end(
            self.res, ingestion_duration=1.0, ingestion_success=success, end_time=time.time()
        )

    def args(self, *extra: str) -> list[str]:
        return [
            "score",
            "--solution_dir",
            str(self.ref),
            "--prediction_dir",
            str(self.res),
            "--score_dir",
            str(self.out),
            *extra,
        ]


@pytest.fixture
def folders(tmp_path: Path) -> Folders:
    return Folders(tmp_path)


def multiclass_task(n: int = 120, m: int = 4, seed: int = 0) -> tuple[np.ndarray, list[np.ndarray]]:
    """A one-hot solution and three predictions that improve (with ties from rounding)."""
    rng = np.random.default_rng(seed)
    sol = np.eye(m)[rng.integers(0, m, n)]
    sol[:m] = np.eye(m)  # every class present
    preds = [np.round(rng.random((n, m)) + w * sol, 1) for w in (0.1, 0.5, 1.0)]
    return sol, preds


@pytest.fixture
def multiclass() -> tuple[np.ndarray, list[np.ndarray]]:
    return multiclass_task()
