"""A tiny task and a helper that runs the real ``autodl ingest`` in a subprocess."""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from autodl import protocol

SUBMISSIONS = Path(__file__).resolve().parents[1] / "submissions"
NUM_TEST, OUTPUT_DIM = 8, 3


@pytest.fixture(scope="session")
def tiny_task(tmp_path_factory) -> Path:
    """A dense 4x4 task: 12 train, 8 test examples, 3 classes (with its solution beside it)."""
    from autodl.data import write_task

    rng = np.random.default_rng(0)
    x = rng.random((20, 1, 4, 4, 1), dtype=np.float32)
    y = np.arange(20) % 3
    root = tmp_path_factory.mktemp("tasks")
    return write_task(root, "tiny", train=(x[:12], y[:12]), test=(x[12:], y[12:]), output_dim=3)


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    elapsed: float
    output_dir: Path
    result: dict

    @property
    def predictions(self) -> list[np.ndarray]:
        found = protocol.list_predictions(self.output_dir)
        return [protocol.read_matrix(p) for _, _, p in found]

    def check_files(self, rounds: int) -> None:
        """end.txt, start.txt and ``rounds`` intact predictions: prediction k holds (k+1)/10."""
        assert protocol.read_end(self.output_dir) is not None, "end.txt missing"
        assert self.result["num_predictions"] == rounds, self.result
        found = protocol.list_predictions(self.output_dir)
        assert [k for _, k, _ in found] == list(range(rounds)), found
        assert all(task == "tiny" for task, _, _ in found)
        for k, pred in enumerate(self.predictions):
            np.testing.assert_allclose(pred, np.full((NUM_TEST, OUTPUT_DIM), 0.1 * (k + 1)))
        if self.result["start_time"] is not None:
            start = protocol.read_start(self.output_dir)
            assert start.task_name == "tiny"
            assert sorted(start.timestamps) == list(range(rounds))
            times = [start.timestamps[k] for k in range(rounds)]
            assert times == sorted(times) and all(t >= start.start_time for t in times)


def run_ingest(
    task: Path,
    code: str | Path,
    tmp_path: Path,
    *extra: str,
    budget: float = 5,
    timeout: float = 120,
    env: dict[str, str] | None = None,
) -> Run:
    """``python -m autodl ingest`` on ``task`` with the submission ``code`` (a name under
    tests/submissions or a path), from an empty working folder."""
    import subprocess

    code_dir = SUBMISSIONS / code if isinstance(code, str) else code
    out = tmp_path / "out"
    cwd = tmp_path / "cwd"
    cwd.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "autodl",
        "ingest",
        "--dataset_dir",
        str(task),
        "--output_dir",
        str(out),
        "--code_dir",
        str(code_dir),
        "--time_budget",
        str(budget),
        *extra,
    ]
    t0 = time.monotonic()
    full_env = None if env is None else {**os.environ, **env}
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd, env=full_env
    )
    elapsed = time.monotonic() - t0
    result_file = out / "ingestion.json"
    assert result_file.is_file(), f"no ingestion.json\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    result = json.loads(result_file.read_text())
    return Run(proc.returncode, proc.stdout, proc.stderr, elapsed, out, result)


@pytest.fixture
def ingest_run():
    """The :func:`run_ingest` helper."""
    return run_ingest
