"""`autodl run`: the default submission on the built-in dataset, the live line, bad input."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import zipfile

import pytest
from challenge_helpers import CENTROID, blobs, submission

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def autodl_home(tmp_path_factory) -> dict[str, str]:
    """A private dataset cache: the built-in dataset is built as on a fresh machine."""
    return {**os.environ, "AUTODL_HOME": str(tmp_path_factory.mktemp("autodl_home"))}


def test_run_without_code_or_dataset_runs_the_default(tmp_path, cli, autodl_home):
    out = tmp_path / "runs"
    proc = cli("run", "--time-budget", "5", "-o", out, env=autodl_home, timeout=300)
    assert proc.returncode == 0, proc.stderr
    run_dir = out / "autodl_baseline" / "cluttered_digits"
    result = json.loads((run_dir / "result.json").read_text())
    assert result["status"] in ("ok", "timeout"), result
    assert result["num_predictions"] >= 1 and result["alc"] > 0
    assert f"report: {run_dir / 'report.html'}" in proc.stdout
    assert (run_dir / "report.html").is_file()
    assert "\r" not in proc.stderr  # no live line when the output is not a terminal
    # The dataset handed to ingestion is the .data folder alone.
    assert [p.name for p in (run_dir / "input_data").iterdir()] == ["cluttered_digits.data"]


def test_run_shows_a_live_line_in_a_terminal_and_takes_a_zip(tmp_path):
    task = blobs(tmp_path / "data", "blobs", classes=3, features=4, seed=3)
    code = submission(tmp_path / "subs", "centroid", CENTROID)
    packed = tmp_path / "centroid.zip"
    with zipfile.ZipFile(packed, "w") as zf:
        zf.write(code / "model.py", "model.py")
    cmd = [
        sys.executable,
        "-m",
        "autodl",
        "run",
        "--dataset",
        str(task),
        "--code",
        str(packed),
        "--time-budget",
        "5",
        "-o",
        str(tmp_path / "runs"),
    ]
    leader, follower = pty.openpty()
    proc = subprocess.Popen(cmd, stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:  # EIO: the terminal's other side closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    assert proc.wait(timeout=120) == 0
    text = b"".join(chunks).decode(errors="replace")
    assert "\r" in text  # the live table is redrawn in place
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)
    row = r"centroid on blobs +[01] +\d+/5 s +(-|[01]\.\d{4}) +(-|[01]\.\d{4}) +\w"
    assert re.search(row, plain), text  # job, round, elapsed/budget, NAUC, ALC, state
    assert "centroid on blobs: ok" in text
    run_dir = tmp_path / "runs" / "centroid" / "blobs"
    assert (run_dir / "code" / "centroid" / "model.py").is_file()  # the zip, extracted


@pytest.mark.parametrize(
    "args, message",
    [
        (["--dataset", "no_such_dataset"], "no_such_dataset"),
        (["--code", "no/such/folder"], "no/such/folder"),
        (["--time-budget", "0"], "--time-budget"),
    ],
)
def test_run_bad_input_is_one_clear_error(tmp_path, cli, args, message):
    proc = cli("run", *args, "-o", tmp_path / "runs", timeout=60)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert not (tmp_path / "runs").exists()
