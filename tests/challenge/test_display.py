"""The live display through the real CLI: a pseudo-terminal of 80 columns (a live table
that fits it) and a pipe (plain lines, one per event, no escape codes).

Everything is real: `autodl challenge`, `autodl run` and `autodl ingest` as subprocesses on
TFRecord task folders, the terminal a real pty whose window size the kernel reports.
"""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import textwrap
import time
from pathlib import Path

import pytest
from challenge_helpers import CENTROID, FRAGILE, blobs, submission

from autodl.display import Display

pytestmark = pytest.mark.slow

COLUMNS = 80
# Four rounds, a little apart, so the live table has a running row with scores to show.
STEADY = CENTROID.replace("        self.done_training = True\n", "").replace(
    "    def fit(self, dataset, remaining_time_budget=None):\n",
    "    def fit(self, dataset, remaining_time_budget=None):\n"
    "        import time\n"
    "        time.sleep(0.7)\n"
    "        self.rounds = getattr(self, 'rounds', 0) + 1\n"
    "        self.done_training = self.rounds >= 4\n",
)
LONG_NAME = "a_submission_whose_name_is_far_too_long_for_one_terminal_line_of_eighty"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def in_terminal(cmd: list[str], columns: int = COLUMNS, timeout: float = 300) -> tuple[int, str]:
    """Run ``cmd`` with a pty as its terminal (``columns`` wide); (exit code, raw output)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["TERM"] = "xterm-256color"
    proc = subprocess.Popen(cmd, stdin=follower, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    chunks = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the terminal's other side closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return proc.wait(timeout=30), b"".join(chunks).decode(errors="replace")


def screen_lines(raw: str) -> list[str]:
    """Every line as drawn: escape codes dropped, split at newlines and carriage returns."""
    return [line for line in re.split(r"\r\n|\r|\n", ANSI.sub("", raw))]


def live_lines(raw: str) -> list[str]:
    """The lines the live view drew: between its hiding and its showing of the cursor
    (what comes after, the closing table and the paths written, is printed once)."""
    start, end = raw.find("\x1b[?25l"), raw.rfind("\x1b[?25h")
    assert 0 <= start < end, raw
    return screen_lines(raw[start:end])


def autodl(*args: object) -> list[str]:
    return [sys.executable, "-m", "autodl", *map(str, args)]


@pytest.fixture(scope="module")
def challenge(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("display")
    blobs(root / "data", "blobs", classes=4, features=6, seed=5)
    submission(root / "subs", LONG_NAME, STEADY)
    submission(root / "subs", "fragile", FRAGILE)
    config = root / "challenge.yaml"
    config.write_text(
        textwrap.dedent(
            f"""
            title: Display test
            defaults:
              time_budget: 30
            datasets:
              blobs: data/blobs
            submissions:
              {LONG_NAME}: subs/{LONG_NAME}
              fragile: subs/fragile
            """
        )
    )
    return config


def test_challenge_in_a_terminal_shows_every_job_in_a_table_that_fits(challenge, tmp_path):
    code, raw = in_terminal(autodl("challenge", challenge, "-o", tmp_path / "out", "-j", "2"))
    lines = live_lines(raw)
    too_long = [line for line in lines if len(line) > COLUMNS]
    assert not too_long, too_long
    assert "\x1b[" in raw  # drawn in place, not written line after line
    heads = [line for line in lines if re.match(r"job +round +elapsed +NAUC +ALC +state", line)]
    assert heads, raw
    assert any(line.startswith("Display test: 2 running, 0 finished of 2") for line in lines)
    # A running row of the long-named job, cut to fit, with its round, budget and scores.
    running = r"a_submission_whose_name\S*… +[1-4] +\d+/30 s +[01]\.\d{4} +[01]\.\d{4} +learning"
    assert any(re.search(running, line) for line in lines), raw
    # Both finished rows at the end, with their statuses.
    final = lines[[i for i, line in enumerate(lines) if "2 finished of 2" in line][-1] :]
    assert any(re.search(r"^a_submission\S*… +4 .* ok", line) for line in final), final
    assert any(re.search(r"^fragile on blobs +0 .* error: Runtime", line) for line in final), final
    assert code == 0 or "fragile" in raw  # a failed job may make the exit non-zero


def test_challenge_through_a_pipe_writes_plain_lines(challenge, tmp_path):
    proc = subprocess.run(
        autodl("challenge", challenge, "-o", tmp_path / "out"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    err = proc.stderr
    assert "\x1b" not in err and "\r" not in err, err
    assert f"{LONG_NAME} on blobs: started (budget 30 s)" in err
    rounds = re.findall(rf"^{LONG_NAME} on blobs: round (\d), [\d.]+ s of 30 s", err, re.M)
    assert rounds and rounds == sorted(rounds) and rounds[-1] == "4", err
    assert re.search(
        rf"^{LONG_NAME} on blobs: ok, NAUC 1\.0000, ALC 0\.\d{{4}}, 4 rounds", err, re.M
    )
    assert re.search(
        r"^fragile on blobs: error, NAUC -, ALC \S+, .* - .*fragile gives up", err, re.M
    )
    # Resumed: the finished jobs are listed, not run again.
    again = subprocess.run(
        autodl("challenge", challenge, "-o", tmp_path / "out"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert f"{LONG_NAME} on blobs: done before (ok), skipped" in again.stderr
    assert "started" not in again.stderr


def test_run_in_a_narrow_terminal_fits_and_ends_with_the_summary(tmp_path):
    task = blobs(tmp_path / "data", "blobs", classes=3, features=4, seed=3)
    code = submission(tmp_path / "subs", "steady", STEADY)
    out = tmp_path / "r"
    cmd = autodl("run", "--dataset", task, "--code", code, "--time-budget", "20", "-o", out)
    status, raw = in_terminal(cmd, columns=60)
    assert status == 0, raw
    lines = live_lines(raw)
    assert not [line for line in lines if len(line) > 60], lines
    assert any(re.search(r"^steady on blobs +[1-4] +\d+/20 s +[01]\.\d{4}", x) for x in lines)
    assert "steady on blobs: ok" in screen_lines(raw)  # the summary, where the table was


def test_ingest_through_a_pipe_writes_a_line_per_round(tmp_path):
    task = blobs(tmp_path / "data", "blobs", classes=3, features=4, seed=4)
    code = submission(tmp_path / "subs", "steady", STEADY)
    proc = subprocess.run(
        autodl(
            "ingest",
            "--dataset_dir",
            task,
            "--output_dir",
            tmp_path / "pred",
            "--code_dir",
            code,
            "--time_budget",
            "20",
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in proc.stderr and "\r" not in proc.stderr
    rounds = re.findall(r"^\[ingestion\] blobs: round (\d), [\d.]+ s of 20 s$", proc.stderr, re.M)
    # The round shown is the predictions made so far; the closing line counts the last one.
    assert rounds == ["1", "2", "3"], proc.stderr
    assert proc.stderr.splitlines()[-1].startswith("[ingestion] blobs: ok, 4 predictions")


def test_ingest_in_a_terminal_writes_the_workers_output_above_its_row(tmp_path):
    task = blobs(tmp_path / "data", "blobs", classes=3, features=4, seed=4)
    talky = STEADY.replace(
        "        time.sleep(0.7)\n",
        "        time.sleep(0.7)\n        print('hello from fit', flush=True)\n",
    )
    code = submission(tmp_path / "subs", "talky", talky)
    cmd = autodl(
        "ingest", "--dataset_dir", task, "--output_dir", tmp_path / "pred", "--code_dir", code,
        "--time_budget", "20",
    )  # fmt: skip
    status, raw = in_terminal(cmd)
    assert status == 0, raw
    lines = live_lines(raw)
    assert not [line for line in lines if len(line) > COLUMNS], lines
    assert lines.count("hello from fit") == 4, lines  # every print, whole, on its own line
    row = r"^\[ingestion\] blobs +[0-3] +\d+/20 s +- +- +(training|testing)"
    assert any(re.match(row, line) for line in lines), lines
    assert "[ingestion] blobs: ok, 4 predictions" in screen_lines(raw)[-2]  # the table went


def test_display_in_a_tiny_terminal_keeps_raw_output_above_the_table():
    """In-process on a real pty: 50 columns, a row per job, worker output between redraws."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 20, 50, 0, 0))
    stream = io.TextIOWrapper(io.FileIO(follower, "w", closefd=False), write_through=True)
    with Display(stream=stream, title="t", interval=0.05) as display:
        assert display.mode == "live"
        for i in range(3):
            display.started(f"k{i}", label=f"submission number {i} on data", time_budget=9)
        display.started("odd", label="[b]x[/]")  # rich markup in a name: shown as is
        display.progress("k1", round=2, elapsed=3.0, nauc=0.5, alc=0.25)
        display.finished("k2", status="time_limit_exceeded", note="the budget passed")
        time.sleep(0.2)
        with display.paused():
            stream.write("raw worker output\n")
        display.message("a [b]message[/b] line")  # as is, above the table
        time.sleep(0.2)
    os.close(follower)
    raw = os.read(leader, 1 << 20).decode()
    os.close(leader)
    lines = screen_lines(raw)
    assert not [line for line in lines if len(line) > 50], lines
    assert "raw worker output" in lines
    after = lines[lines.index("raw worker output") + 1 :]
    assert any(line.startswith("t: 3 running") for line in after)
    assert "a [b]message[/b] line" in after  # the table, drawn again
    assert any(line.startswith("t: 3 running, 1 finished") for line in lines)
    assert any(line.startswith("[b]x[/] ") for line in lines), lines
    row = r"^submission.*… +2 +3/9 s +0\.5000 +0\.2500 running"
    assert any(re.match(row, line) for line in lines), lines
    assert any(re.match(r"^submission.*… +0 +- +- +- time_l…", line) for line in lines), lines


def test_plain_mode_is_one_line_per_event_and_off_is_silent():
    out = io.StringIO()
    with Display(stream=out) as display:  # a StringIO is no terminal: plain lines
        display.started("a", label="x on y", time_budget=10)
        display.progress("a", round=1, elapsed=1.0)
        display.progress("a", round=1, elapsed=1.5)  # nothing new to say
        display.progress("a", round=1, nauc=0.5, alc=0.2)  # the score arrived
        display.finished("a", status="ok")
    assert out.getvalue().splitlines() == [
        "x on y: started (budget 10 s)",
        "x on y: round 1, 1.0 s of 10 s",
        "x on y: round 1, 1.5 s of 10 s, NAUC 0.5000, ALC 0.2000",
        "x on y: ok, NAUC 0.5000, ALC 0.2000, 1 rounds in 1.5 s",
    ]
    quiet = io.StringIO()
    with Display(stream=quiet, mode="off") as display:
        display.started("a", label="x")
        display.finished("a", status="ok")
    assert quiet.getvalue() == ""
    with pytest.raises(ValueError, match="display mode 'loud'"):
        Display(stream=quiet, mode="loud")
