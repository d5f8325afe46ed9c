"""GPU assignment (one job per GPU at a time) and the live line's reading of the run files."""

from __future__ import annotations

import re
import textwrap
import time

import pytest
from challenge_helpers import blobs, submission

from autodl.challenge.live import read_state, run_folder_reader, stage
from autodl.protocol import append_prediction_time, write_end, write_scores_json, write_start
from autodl.resources import detect_gpus, parse_gpus

# Says which GPUs it was given and when it held them (the worker's output goes to the log).
GPU_PROBE = """
import os, time
import numpy as np

class Model:
    def __init__(self, metadata):
        self.output_dim = metadata.get_output_size()
        self.done_training = False

    def fit(self, dataset, remaining_time_budget=None):
        start = time.time()
        time.sleep(1.5)
        print(f"PROBE gpu={os.environ.get('CUDA_VISIBLE_DEVICES')!r} {start} {time.time()}",
              flush=True)

    def predict(self, dataset, remaining_time_budget=None):
        self.done_training = True
        return np.zeros((len(dataset), self.output_dim))
"""


def test_parse_and_detect_gpus(monkeypatch):
    assert parse_gpus(None) is None
    assert parse_gpus("none") == [] and parse_gpus("") == []
    assert parse_gpus("0, 2") == ["0", "2"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")
    assert detect_gpus() == ["3", "5"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert detect_gpus() == []


@pytest.mark.slow
def test_at_most_one_job_per_gpu(tmp_path, cli):
    blobs(tmp_path / "data", "blobs_a", classes=3, features=4, seed=1)
    for name in ("p1", "p2", "p3"):
        submission(tmp_path / "subs", name, GPU_PROBE)
    config = tmp_path / "c.yaml"
    config.write_text(
        textwrap.dedent(
            """
            defaults: {time_budget: 30}
            datasets: {blobs_a: data/blobs_a}
            submissions: {p1: subs/p1, p2: subs/p2, p3: subs/p3}
            """
        )
    )
    out = tmp_path / "out"
    # Three jobs asked at once, two GPUs: at most two run, the third waits for a free GPU.
    proc = cli("challenge", config, "-o", out, "--jobs", "3", "--gpus", "0,1", timeout=300)
    assert proc.returncode == 0, proc.stderr
    held = []
    for name in ("p1", "p2", "p3"):
        log = (out / "runs" / name / "blobs_a" / "logs" / "ingestion.log").read_text()
        m = re.search(r"PROBE gpu='(\d)' ([\d.]+) ([\d.]+)", log)
        assert m, log
        held.append((m[1], float(m[2]), float(m[3])))
    assert {g for g, _, _ in held} == {"0", "1"}
    for i, (g1, s1, e1) in enumerate(held):
        for g2, s2, e2 in held[i + 1 :]:
            if g1 == g2:
                assert e1 <= s2 or e2 <= s1, f"two jobs held GPU {g1} at once: {held}"


def test_live_state_follows_the_run_files(tmp_path):
    pred, scores = tmp_path / "predictions", tmp_path / "scores"
    pred.mkdir()
    scores.mkdir()
    assert stage(read_state(tmp_path, 60)) == "building the model"
    assert run_folder_reader(tmp_path, 60)().round is None  # nothing to show yet

    start = time.time() - 10
    write_start(pred, ingestion_pid=1, task_name="t", time_budget=60, start_time=start)
    append_prediction_time(pred, 0, start + 2)
    append_prediction_time(pred, 1, start + 5)
    write_scores_json(scores, {"alc": 0.25, "nauc": 0.5, "num_predictions": 2})
    state = read_state(tmp_path, 60)
    assert (state.rounds, state.nauc, state.alc, state.ended) == (2, 0.5, 0.25, False)
    assert 9 < state.elapsed < 30
    shown = run_folder_reader(tmp_path, 60)()
    assert (shown.round, shown.nauc, shown.alc, shown.stage) == (2, 0.5, 0.25, "learning")

    write_end(pred, ingestion_duration=7, ingestion_success=1, end_time=start + 7)
    state = read_state(tmp_path, 60)
    assert state.ended and state.elapsed == pytest.approx(7)  # the clock stopped
    assert run_folder_reader(tmp_path, 60)().stage == "final scoring"
