"""A small real challenge: 3 submissions x 2 datasets through `autodl challenge`.

Everything is real: task folders written as TFRecords, `autodl ingest` and `autodl score
--watch` as subprocesses, the submissions' model.py files below (native API).
"""

from __future__ import annotations

import csv
import json
import textwrap
from pathlib import Path

import pytest
from challenge_helpers import CENTROID, FRAGILE, ZEROS, blobs, submission

pytestmark = pytest.mark.slow


@pytest.fixture
def small_challenge(tmp_path: Path) -> Path:
    blobs(tmp_path / "data", "blobs_a", classes=3, features=4, seed=1)
    blobs(tmp_path / "data", "blobs_b", classes=4, features=6, seed=2)
    for name, code in (("centroid", CENTROID), ("zeros", ZEROS), ("fragile", FRAGILE)):
        submission(tmp_path / "subs", name, code)
    config = tmp_path / "challenge.yaml"
    config.write_text(
        textwrap.dedent(
            """
            title: Small test challenge
            defaults:
              time_budget: 20
            datasets:
              blobs_a: data/blobs_a
              blobs_b: {path: data/blobs_b, time_budget: 15}
            submissions:
              centroid: subs/centroid
              zeros: subs/zeros
              fragile: {path: subs/fragile}
            """
        )
    )
    return config


def test_small_challenge_ranks_resumes_and_reruns_failed(small_challenge, tmp_path, cli):
    out = tmp_path / "out"
    proc = cli("challenge", small_challenge, "-o", out, "--jobs", "2", timeout=400)
    # fragile fails on blobs_b: a failed run makes the exit status 1 (see --allow-failures).
    assert proc.returncode == 1, proc.stderr
    assert "runs failed: fragile on blobs_b (error)" in proc.stderr, proc.stderr

    rows = {(r["submission"], r["dataset"]): r for r in csv.DictReader(open(out / "results.csv"))}
    assert len(rows) == 6
    broken = rows[("fragile", "blobs_b")]
    assert broken["status"] == "error" and "fragile gives up on purpose" in broken["error"]
    assert broken["num_predictions"] == "0"
    for key in (("centroid", "blobs_a"), ("centroid", "blobs_b")):
        assert rows[key]["status"] == "ok" and float(rows[key]["alc"]) > 0.1, rows[key]
        assert float(rows[key]["final_nauc"]) > 0.9  # separable blobs
    for key in (("zeros", "blobs_a"), ("zeros", "blobs_b"), ("fragile", "blobs_a")):
        assert float(rows[key]["alc"]) == 0.0 and rows[key]["num_predictions"] == "1"
    assert all(r["device"].startswith("cpu") for r in rows.values())

    # By hand. blobs_a: centroid 1, zeros and fragile tie at ALC 0 -> 2.5 each.
    # blobs_b: centroid 1, zeros 2, fragile failed -> 3.
    board = {r["submission"]: r for r in csv.DictReader(open(out / "leaderboard.csv"))}
    assert {s: float(r["average_rank"]) for s, r in board.items()} == {
        "centroid": 1.0,
        "zeros": 2.25,
        "fragile": 2.75,
    }
    assert (board["zeros"]["blobs_a_rank"], board["fragile"]["blobs_a_rank"]) == ("2.5", "2.5")
    assert board["fragile"]["blobs_b_rank"] == "3"
    assert [r["submission"] for r in csv.DictReader(open(out / "leaderboard.csv"))] == [
        "centroid",
        "zeros",
        "fragile",
    ]
    assert "centroid" in proc.stdout.splitlines()[2]  # the printed table, best first
    assert (out / "leaderboard.html").is_file()
    assert (out / "codalab" / "centroid" / "scores.txt").read_text().startswith("set1_score: ")
    results_json = json.loads((out / "results.json").read_text())
    assert {r["status"] for r in results_json} == {"ok", "error"}

    # Each run folder: the staged data alone (no solution), the protocol files, a page.
    run = out / "runs" / "centroid" / "blobs_a"
    assert [p.name for p in (run / "input_data").iterdir()] == ["blobs_a.data"]
    assert not list((run / "input_data").rglob("*.solution"))
    assert (run / "predictions" / "blobs_a.predict_0").is_file()
    assert (run / "report.html").is_file() and (run / "scores" / "scores.json").is_file()

    before = (out / "runs" / "zeros" / "blobs_a" / "result.json").read_text()

    # Resume with --rerun-failed: the five good runs are kept, the failed one goes again.
    rerun = cli(
        "challenge", small_challenge, "-o", out, "--rerun-failed", "--allow-failures", timeout=200
    )
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stderr.count("skipped") == 5
    assert "fragile on blobs_b: error" in rerun.stderr
    assert (out / "runs" / "zeros" / "blobs_a" / "result.json").read_text() == before


@pytest.mark.parametrize(
    "body, message",
    [
        ("datasets: {a: data/blobs_a}\nsubmissions: {z: subs/nope}\n", "submissions.z"),
        ("datasets: {a: data/nope}\nsubmissions: {z: subs/zeros}\n", "datasets.a"),
        (
            "datasets: {a: data/blobs_a}\nsubmissions: {z: subs/zeros, z: subs/zeros}\n",
            "duplicate name 'z'",
        ),
        (
            "datasets: {a: {path: data/blobs_a, budget: 3}}\nsubmissions: {z: subs/zeros}\n",
            "datasets.a.budget: unknown key",
        ),
        (
            "datasets: {a: data/blobs_a}\nsubmissions: {z: subs/zeros}\njobs: 3\n",
            "jobs: unknown key",
        ),
    ],
)
def test_bad_config_is_one_clear_error_before_anything_runs(tmp_path, cli, body, message):
    blobs(tmp_path / "data", "blobs_a", classes=3, features=4, seed=1)
    submission(tmp_path / "subs", "zeros", ZEROS)
    config = tmp_path / "bad.yaml"
    config.write_text(body)
    out = tmp_path / "out"
    proc = cli("challenge", config, "-o", out, timeout=60)
    assert proc.returncode == 2
    assert message in proc.stderr and str(config) in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not out.exists()
