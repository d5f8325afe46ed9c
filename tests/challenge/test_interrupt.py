"""Ctrl-C keeps finished runs, the next start resumes, and a hung run is recorded as such."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from challenge_helpers import ZEROS, blobs, submission

from autodl.protocol import read_start

pytestmark = pytest.mark.slow

SLEEPER = """
import time

class Model:
    def __init__(self, metadata):
        self.done_training = False

    def fit(self, dataset, remaining_time_budget=None):
        time.sleep(1000)  # ignores its budget

    def predict(self, dataset, remaining_time_budget=None):
        raise AssertionError("never reached")
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie has ended
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


def test_hung_run_is_recorded_and_ctrl_c_keeps_finished_runs(tmp_path, cli):
    blobs(tmp_path / "data", "blobs_a", classes=3, features=4, seed=1)
    submission(tmp_path / "subs", "quick", ZEROS)
    submission(tmp_path / "subs", "sleeper", SLEEPER)
    config = tmp_path / "c.yaml"
    config.write_text(
        textwrap.dedent(
            """
            defaults: {time_budget: 4}
            datasets: {blobs_a: data/blobs_a}
            submissions: {quick: subs/quick, sleeper: subs/sleeper}
            """
        )
    )
    out = tmp_path / "out"
    sleeper = out / "runs" / "sleeper" / "blobs_a"

    # 1. Ctrl-C while the sleeper runs (the quick run, first, has finished).
    cmd = [sys.executable, "-m", "autodl", "challenge", str(config), "-o", str(out)]
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (sleeper / "predictions" / "start.txt").is_file():
            assert time.monotonic() < deadline and child.poll() is None, "never started"
            time.sleep(0.2)
        pid = read_start(sleeper / "predictions").ingestion_pid
        time.sleep(0.5)
        child.send_signal(signal.SIGINT)
        _, stderr = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130, stderr
    assert "interrupted" in stderr and "resume" in stderr
    assert not _alive(pid), "the interrupted ingestion is still running"
    assert not (sleeper / "result.json").exists()  # unfinished: not recorded
    quick_record = (out / "runs" / "quick" / "blobs_a" / "result.json").read_text()
    assert json.loads(quick_record)["status"] == "ok"
    rows = list(csv.DictReader(open(out / "results.csv")))
    assert [r["submission"] for r in rows] == ["quick"]  # the table holds what finished

    # 2. The next start resumes: only the interrupted run goes again. This time the
    # sleeper overruns its budget: it is stopped and recorded, and ranks last.
    proc = cli("challenge", config, "-o", out, timeout=200)
    # A run without a prediction failed: the challenge says so in its exit code.
    assert proc.returncode == 1, proc.stderr
    assert "quick on blobs_a: done before" in proc.stderr
    assert (out / "runs" / "quick" / "blobs_a" / "result.json").read_text() == quick_record
    rows = {r["submission"]: r for r in csv.DictReader(open(out / "results.csv"))}
    assert rows["quick"]["status"] == "ok"
    assert rows["sleeper"]["status"] == "timeout" and rows["sleeper"]["num_predictions"] == "0"
    assert "budget" in rows["sleeper"]["error"]
    board = {r["submission"]: r for r in csv.DictReader(open(out / "leaderboard.csv"))}
    assert board["sleeper"]["blobs_a_rank"] == "2"  # no prediction: ranks last
