"""A hung submission is recorded as such; Ctrl-C keeps finished runs and the next start resumes."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from challenge_helpers import ZEROS, blobs, submission

from autodl.protocol import ProtocolError, read_start

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


def _started_after(prediction_dir: Path, when: float) -> bool:
    """Ingestion of this try (not the previous one) has started."""
    try:
        return read_start(prediction_dir).start_time > when
    except (ProtocolError, OSError):
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

    # 1. The sleeper overruns its budget: stopped, recorded, and the other run is fine.
    proc = cli("challenge", config, "-o", out, "--jobs", "2", timeout=200)
    assert proc.returncode == 0, proc.stderr
    rows = {r["submission"]: r for r in csv.DictReader(open(out / "results.csv"))}
    assert rows["quick"]["status"] == "ok"
    assert rows["sleeper"]["status"] == "timeout" and rows["sleeper"]["num_predictions"] == "0"
    board = {r["submission"]: r for r in csv.DictReader(open(out / "leaderboard.csv"))}
    assert board["sleeper"]["blobs_a_rank"] == "2"  # no prediction: ranks last

    # 2. Ctrl-C while the sleeper runs again (--rerun-failed).
    quick_record = (out / "runs" / "quick" / "blobs_a" / "result.json").read_text()
    sleeper = out / "runs" / "sleeper" / "blobs_a"
    cmd = [
        sys.executable,
        "-m",
        "autodl",
        "challenge",
        str(config),
        "-o",
        str(out),
        "--rerun-failed",
    ]
    launched = time.time()
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not _started_after(sleeper / "predictions", launched):
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
    assert (out / "runs" / "quick" / "blobs_a" / "result.json").read_text() == quick_record
    rows = list(csv.DictReader(open(out / "results.csv")))
    assert [r["submission"] for r in rows] == ["quick"]  # the table holds what finished

    # 3. The next start resumes: only the interrupted run goes again.
    (tmp_path / "subs" / "sleeper" / "model.py").write_text(textwrap.dedent(ZEROS))
    proc = cli("challenge", config, "-o", out, timeout=200)
    assert proc.returncode == 0, proc.stderr
    assert "quick on blobs_a: done before" in proc.stderr
    rows = {r["submission"]: r for r in csv.DictReader(open(out / "results.csv"))}
    assert rows["sleeper"]["status"] == "ok"
