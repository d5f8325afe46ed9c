"""What a newcomer reads: each message of issue 14's list, and help texts that match what
the commands do, through the real `autodl` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from autodl.data import samples
from autodl.protocol import USAGE_EXIT_CODE, Status

REPO = Path(__file__).resolve().parents[1]
SUBS = REPO / "tests" / "submissions"


@pytest.fixture(scope="module")
def wine() -> Path:
    return Path(samples.resolve("wine"))


def one_line_usage_error(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert proc.returncode == USAGE_EXIT_CODE, proc.stdout + proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in proc.stderr, proc.stderr
    return proc.stderr


def test_unwritable_output_is_one_line(cli, tmp_path, wine):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    config = tmp_path / "c.yaml"
    config.write_text(f"datasets: {{wine: {wine}}}\nsubmissions: {{s: {SUBS / 'native_ok'}}}\n")
    for args in (
        ["run", "--dataset", wine, "--code", SUBS / "native_ok", "-o", blocker / "runs"],
        ["challenge", config, "-o", blocker / "out"],
        ["datasets", "make", "wine", "-o", blocker / "tasks"],
        ["inspect", wine, "-o", blocker / "w.png"],
        ["leaderboard", tmp_path, "-o", blocker / "board"],
    ):
        proc = cli(*args, timeout=120)
        if args[0] == "leaderboard":  # no runs under tmp_path: said before any writing
            assert proc.returncode == 1 and "no runs found" in proc.stderr
            continue
        one_line_usage_error(proc, f"{blocker} is a file, not a folder")
    assert blocker.read_text() == "not a folder"


def test_code_must_be_a_folder_with_model_py_or_a_zip(cli, tmp_path, wine):
    empty = tmp_path / "empty"
    empty.mkdir()
    lone = SUBS / "native_ok" / "model.py"
    for code, needle in (
        (
            lone,
            f"a file, not a submission; give the folder holding model.py (--code {lone.parent})",
        ),
        (empty, "no model.py at the root of the folder"),
    ):
        proc = cli("run", "--dataset", wine, "--code", code, "-o", tmp_path / "runs", timeout=60)
        one_line_usage_error(proc, f"--code {code}: ", needle)
    assert not (tmp_path / "runs").exists()
    assert "a lone model.py file is refused" in cli("run", "--help").stdout


def test_inspect_missing_path_and_raw_folder(cli, tmp_path, wine):
    proc = cli("inspect", tmp_path / "missing", "--no-picture", timeout=60)
    one_line_usage_error(proc, "missing: no such file or folder")
    assert "not an AutoDL task" not in proc.stderr
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "labels.csv").write_text("file,label\na.png,cat\n")
    one_line_usage_error(cli("inspect", raw, "--no-picture", timeout=60), "`autodl format`")
    proc = cli("run", "--dataset", raw, "-o", tmp_path / "runs", timeout=60)
    one_line_usage_error(proc, "not an AutoDL task", "`autodl format`")


def test_inspect_picture_goes_outside_the_current_folder(cli, tmp_path, wine):
    home = {**os.environ, "AUTODL_HOME": str(tmp_path / "home")}
    cwd = tmp_path / "checkout"
    cwd.mkdir()
    proc = cli("inspect", wine, cwd=cwd, env=home, timeout=120)
    assert proc.returncode == 0, proc.stderr
    picture = tmp_path / "home" / "inspect" / "wine-inspect.png"
    assert f"picture     {picture}" in proc.stdout and picture.is_file()
    assert list(cwd.iterdir()) == []


def test_missing_tensorflow_names_the_extra(wine):
    # Python as it is without TensorFlow: None in sys.modules fails every import of it.
    code = textwrap.dedent(
        f"""
        import sys
        sys.modules["tensorflow"] = None
        from autodl.data import find_task, load
        load(find_task({str(wine)!r}).train_dir).to_tf()
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("ModuleNotFoundError: ") and "pip install 'autodl[tf]'" in last


def test_datasets_make_suggests_the_flag(cli, tmp_path):
    assert cli("datasets", "make", "wine", "-o", tmp_path, timeout=120).returncode == 0
    proc = cli("datasets", "make", "wine", "-o", tmp_path, timeout=120)
    one_line_usage_error(proc, f"{tmp_path / 'wine'} exists; add --overwrite to replace it")
    assert "overwrite=True" not in proc.stderr


@pytest.fixture(scope="module")
def predictions(tmp_path_factory, wine) -> Path:
    out = tmp_path_factory.mktemp("ingest") / "pred"
    proc = subprocess.run(
        [sys.executable, "-m", "autodl", "ingest", "--dataset_dir", wine, "--output_dir", out,
         "--code_dir", SUBS / "native_ok", "--time_budget", "3"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return out


def test_score_with_a_bad_solution_folder_names_the_folder(cli, tmp_path, predictions):
    bad = tmp_path / "no-solution"
    bad.mkdir()
    scores = tmp_path / "scores"
    proc = cli(
        "score", "--solution_dir", bad, "--prediction_dir", predictions, "--score_dir", scores
    )
    assert proc.returncode == Status.BAD_SOLUTION.exit_code, proc.stderr
    assert "None" not in proc.stdout + proc.stderr
    assert f"{predictions}: ALC 0.000000 (bad_solution)" in proc.stdout
    assert "expected exactly one *.solution file, found 0" in proc.stderr
    # What `score --help` promises: the three files always, the curve's only when scored.
    help_text = " ".join(cli("score", "--help").stdout.split())
    assert (
        "writes scores.txt, scores.json and detailed_results.html into the score folder, "
        "and learning_curve.json and learning-curve-<task>.png too once a prediction could "
        "be scored" in help_text
    )
    assert sorted(p.name for p in scores.iterdir()) == [
        "detailed_results.html",
        "scores.json",
        "scores.txt",
    ]
    assert json.loads((scores / "scores.json").read_text())["status"] == "bad_solution"
    good = tmp_path / "good"
    proc = cli(
        "score", "--solution_dir", Path(samples.resolve("wine")), "--prediction_dir",
        predictions, "--score_dir", good,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    names = {p.name for p in good.iterdir()}
    assert {"learning_curve.json", "learning-curve-wine.png", "detailed_results.html"} <= names


def test_challenge_and_leaderboard_defaults_match_their_help(cli, tmp_path, wine):
    home = {**os.environ, "AUTODL_HOME": str(tmp_path / "home")}
    cwd = tmp_path / "checkout"
    cwd.mkdir()
    config = cwd / "tiny.yaml"
    config.write_text(
        f"defaults: {{time_budget: 3}}\ndatasets: {{wine: {wine}}}\n"
        f"submissions: {{ok: {SUBS / 'native_ok'}}}\n"
    )
    assert "$AUTODL_HOME/challenges/<config name>" in cli("challenge", "--help").stdout
    proc = cli("challenge", config, cwd=cwd, env=home, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "home" / "challenges" / "tiny"
    assert f"into {out} (-o to choose)" in proc.stderr
    assert (out / "leaderboard.csv").is_file() and (out / "runs" / "ok" / "wine").is_dir()
    assert sorted(p.name for p in cwd.iterdir()) == ["tiny.yaml"]

    # leaderboard: without -o the table only (as --help says); with -o the files it lists.
    assert "default: none, the table is printed only" in " ".join(
        cli("leaderboard", "--help").stdout.split()
    )
    proc = cli("leaderboard", out, cwd=cwd, timeout=120)
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr
    assert "nothing written" in proc.stderr
    assert sorted(p.name for p in cwd.iterdir()) == ["tiny.yaml"]
    board = tmp_path / "board"
    proc = cli("leaderboard", out, "-o", board, cwd=cwd, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for name in ("results.csv", "results.json", "leaderboard.csv", "leaderboard.html"):
        assert (board / name).is_file() and f"wrote {board / name}" in proc.stdout
    assert (board / "codalab").is_dir()
