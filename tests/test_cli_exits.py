"""Exit codes, tracebacks and the model's output, through the real `autodl` command.

Real submissions from tests/submissions/ on the built-in 'wine' dataset, with budgets of a
few seconds: `run`, `ingest` and `challenge` exit non-zero when a run did not end well
(the code of its status, from the one table in autodl.protocol.status); usage errors are
one line and exit 2; the submission's own traceback reaches the terminal and the log.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from autodl.data import samples
from autodl.protocol import USAGE_EXIT_CODE, RunFolder, Status

REPO = Path(__file__).resolve().parents[1]
SUBS = REPO / "tests" / "submissions"
BUDGET = "3"


@pytest.fixture(scope="module")
def wine() -> Path:
    """The built-in dataset's task folder (built once in the user's cache)."""
    return Path(samples.resolve("wine"))


@pytest.fixture
def home(tmp_path) -> dict[str, str]:
    """A private $AUTODL_HOME: the per-user folder where outputs go without -o."""
    return {**os.environ, "AUTODL_HOME": str(tmp_path / "home")}


def run(cli, wine: Path, sub: str, out: Path, *args, **kwargs):
    return cli(
        "run", "--dataset", wine, "--code", SUBS / sub, "--time-budget", BUDGET, "-o", out,
        "--quiet", *args, timeout=300, **kwargs,
    )  # fmt: skip


def result_of(out: Path, sub: str) -> dict:
    return json.loads(RunFolder(out / sub / "wine").result.read_text())


@pytest.mark.parametrize(
    "sub, status",
    [
        ("native_ok", Status.OK),
        ("time_limit", Status.TIMEOUT),  # used its whole budget: a success, as documented
        ("exception", Status.ERROR),
        ("bad_shape", Status.BAD_PREDICTION),
        ("syntax_error", Status.ERROR),
    ],
)
def test_run_exits_with_the_code_of_its_status(cli, wine, tmp_path, sub, status):
    out = tmp_path / "runs"
    proc = run(cli, wine, sub, out)
    assert result_of(out, sub)["status"] == status.value
    assert proc.returncode == status.exit_code, proc.stdout + proc.stderr
    assert (proc.returncode == 0) == status.success
    assert f"{sub} on wine: {status.value}" in proc.stdout


def test_failed_run_shows_the_submissions_own_traceback(cli, wine, tmp_path):
    out = tmp_path / "runs"
    proc = run(cli, wine, "exception", out)
    assert proc.returncode == Status.ERROR.exit_code
    tb = proc.stdout[proc.stdout.index("the submission's traceback:") :]
    # The participant's frame with file, line and code; none of the harness's frames.
    assert 'File "model.py", line 14, in fit' in tb, proc.stdout
    assert 'raise ValueError("the participant\'s model failed on purpose")' in tb
    assert tb.rstrip().endswith("ValueError: the participant's model failed on purpose")
    assert "worker.py" not in proc.stdout + proc.stderr
    folder = RunFolder(out / "exception" / "wine")
    log = folder.ingestion_log.read_text()
    assert 'File "model.py", line 14, in fit' in log and "worker.py" not in log
    # The stored traceback (what report.html shows) is the same one.
    record = json.loads((folder.predictions / "ingestion.json").read_text())
    assert record["traceback"].startswith("Traceback (most recent call last):\n")
    assert 'File "model.py", line 14, in fit' in record["traceback"]
    assert "autodl/ingestion" not in record["traceback"]


def test_syntax_error_traceback_points_at_the_line(cli, wine, tmp_path):
    proc = run(cli, wine, "syntax_error", tmp_path / "runs")
    tb = proc.stdout[proc.stdout.index("the submission's traceback:") :]
    assert 'File "model.py", line 13' in tb and "^" in tb, proc.stdout
    assert "SyntaxError: 'return' outside function" in tb
    assert "importlib" not in tb and "worker.py" not in tb


def test_model_output_always_in_the_log_and_live_on_request(cli, wine, tmp_path):
    out = tmp_path / "runs"
    quiet = run(cli, wine, "native_ok", out)
    assert quiet.returncode == 0, quiet.stderr
    log = RunFolder(out / "native_ok" / "wine").ingestion_log.read_text()
    assert "AUTODL_DEVICE=cpu" in log  # printed by the model's constructor
    assert "AUTODL_DEVICE" not in quiet.stdout + quiet.stderr
    shown = run(cli, wine, "native_ok", out, "--show-output")
    assert shown.returncode == 0, shown.stderr
    assert "AUTODL_DEVICE=cpu" in shown.stderr, shown.stderr
    assert "--show-output" in cli("run", "--help").stdout


@pytest.mark.parametrize(
    "sub, status",
    [("native_ok", Status.OK), ("exception", Status.ERROR), ("bad_shape", Status.BAD_PREDICTION)],
)
def test_ingest_exits_with_the_code_of_its_status(cli, wine, tmp_path, sub, status):
    out = tmp_path / "pred"
    proc = cli(
        "ingest", "--dataset_dir", wine, "--output_dir", out, "--code_dir", SUBS / sub,
        "--time_budget", BUDGET, timeout=300,
    )  # fmt: skip
    assert json.loads((out / "ingestion.json").read_text())["status"] == status.value
    assert proc.returncode == status.exit_code, proc.stderr
    if status is Status.ERROR:
        assert "[ingestion] the submission's traceback:" in proc.stderr
        assert 'File "model.py", line 14, in fit' in proc.stderr
        assert "worker.py" not in proc.stderr


def test_ingest_allow_failures_and_the_platform_program_exit_0(cli, wine, tmp_path):
    """As the 2019 program: 0 once a status is recorded (scoring reads end.txt)."""
    out = tmp_path / "pred"
    proc = cli(
        "ingest", "--dataset_dir", wine, "--output_dir", out, "--code_dir",
        SUBS / "exception", "--time_budget", BUDGET, "--allow-failures", timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads((out / "ingestion.json").read_text())["status"] == "error"
    platform = subprocess.run(
        [sys.executable, REPO / "ingestion" / "ingestion.py", "--dataset_dir", wine,
         "--output_dir", tmp_path / "p2", "--code_dir", SUBS / "exception",
         "--time_budget", BUDGET],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert platform.returncode == 0, platform.stderr
    assert "ingestion_success: 0" in (tmp_path / "p2" / "end.txt").read_text()
    assert 'File "model.py", line 14, in fit' in platform.stderr


def test_challenge_fails_when_a_run_failed_unless_allowed(cli, wine, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text(
        textwrap.dedent(
            f"""
            defaults: {{time_budget: {BUDGET}}}
            datasets: {{wine: {wine}}}
            submissions: {{good: {SUBS / "native_ok"}, broken: {SUBS / "exception"}}}
            """
        )
    )
    out = tmp_path / "out"
    proc = cli("challenge", config, "-o", out, timeout=400)
    assert proc.returncode == 1, proc.stderr
    assert "1 of 2 runs failed: broken on wine (error)" in proc.stderr
    assert (out / "leaderboard.csv").is_file()  # the tables are written all the same
    # Resumed (nothing runs again): the same verdict, unless failures are allowed.
    again = cli("challenge", config, "-o", out, "--allow-failures", timeout=200)
    assert again.returncode == 0, again.stderr
    assert again.stderr.count("skipped") == 2
    assert "--allow-failures" in cli("challenge", "--help").stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "--bogus"], "autodl run: error: unrecognized arguments: --bogus"),
        (["run", "--time-budget", "x"], "autodl run: error: argument --time-budget"),
        (["run", "--time-budget", "0"], "autodl run: --time-budget must be positive"),
        (["run", "--code", "no/such/folder"], "autodl run: --code no/such/folder: no such"),
        (["ingest", "--dataset_dir", "d"], "autodl ingest: error: the following arguments"),
        (["challenge", "missing.yaml"], "autodl challenge: missing.yaml: no such challenge file"),
        (["challenge", "missing.yaml", "-j", "0"], "autodl challenge: --jobs must be at least 1"),
        (["leaderboard", "nope"], "nope"),
        (["nosuchverb"], "autodl: error: argument COMMAND: invalid choice: 'nosuchverb'"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(cli, tmp_path, args, message):
    proc = cli(*args, cwd=tmp_path, timeout=120)
    assert proc.returncode == USAGE_EXIT_CODE, proc.stderr
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_failures_before_start_leave_the_earlier_run_untouched(cli, wine, tmp_path):
    out = tmp_path / "runs"
    first = run(cli, wine, "native_ok", out)
    assert first.returncode == 0, first.stderr
    run_dir = out / "native_ok" / "wine"
    before = {p: p.stat().st_mtime_ns for p in run_dir.rglob("*")}
    no_engine = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/nonexistent.sock"}
    no_sandbox = {**os.environ, "PATH": str(tmp_path / "empty-path")}  # no bwrap on it
    for args, env, message in (
        (["--docker"], no_engine, "no Docker engine reachable at unix://"),
        (["--docker", "autodl:cpu"], no_engine, "no Docker engine reachable at unix://"),
        ([], no_sandbox, "bubblewrap"),
        (["--dataset", tmp_path / "no-such-task"], None, "no-such-task"),
    ):
        proc = run(cli, wine, "native_ok", out, *args, env=env)
        assert proc.returncode == USAGE_EXIT_CODE, (args, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert message in proc.stderr and "Traceback" not in proc.stderr
        assert {p: p.stat().st_mtime_ns for p in run_dir.rglob("*")} == before, args
    assert sorted(p.name for p in run_dir.parent.iterdir()) == ["wine"]  # nothing aside


def test_a_new_run_replaces_the_earlier_one_when_it_starts(cli, wine, tmp_path):
    out = tmp_path / "runs"
    assert run(cli, wine, "native_ok", out).returncode == 0
    run_dir = out / "native_ok" / "wine"
    (run_dir / "stale.txt").write_text("from the earlier run")
    proc = run(cli, wine, "native_ok", out)
    assert proc.returncode == 0, proc.stderr
    assert not (run_dir / "stale.txt").exists() and RunFolder(run_dir).result.is_file()
    assert sorted(p.name for p in run_dir.parent.iterdir()) == ["wine"]  # no leftovers


def test_run_without_output_writes_outside_the_current_folder(cli, wine, tmp_path, home):
    cwd = tmp_path / "checkout"
    cwd.mkdir()
    proc = cli(
        "run", "--dataset", wine, "--code", SUBS / "native_ok", "--time-budget", BUDGET,
        "--quiet", cwd=cwd, env=home, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    runs = Path(home["AUTODL_HOME"]) / "runs"
    assert f"runs go to {runs}" in proc.stderr
    assert RunFolder(runs / "native_ok" / "wine").result.is_file()
    assert list(cwd.iterdir()) == []
    assert "$AUTODL_HOME/runs" in cli("run", "--help").stdout
