"""`autodl score` offline, as a real subprocess, on folders written with autodl.protocol."""

from __future__ import annotations

import base64
import json
import logging
import math
import time

import numpy as np
import pytest
import yaml
from sklearn.metrics import roc_auc_score

from autodl import protocol


def sk_nauc(sol: np.ndarray, pred: np.ndarray) -> float:
    cols = [k for k in range(sol.shape[1]) if len(np.unique(sol[:, k])) == 2]
    return 2 * float(np.mean([roc_auc_score(sol[:, k], pred[:, k]) for k in cols])) - 1


def hand_alc(ts: list[float], scores: list[float], T: float, t0: float = 60.0) -> float:
    xs = [math.log(1 + t / t0) / math.log(1 + T / t0) for t in ts] + [1.0]
    return sum(s * (xs[i + 1] - xs[i]) for i, s in enumerate(scores))


@pytest.fixture
def score_inproc(caplog):
    """Run `autodl score ARGS` through the CLI in this process (no interpreter start-up).

    The bad-input cases use it to stay fast; the main cases run a real subprocess (`cli`).
    """
    import subprocess

    from autodl.cli import main

    def run(*args):
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="autodl.scoring"):
            code = main([str(a) for a in args])
        return subprocess.CompletedProcess(args, code, stdout="", stderr=caplog.text)

    return run


def scores_json(folders) -> dict:
    return json.loads((folders.out / "scores.json").read_text())


def test_offline_multiclass_folder(folders, multiclass, cli):
    sol, preds = multiclass
    folders.solution(sol)
    st = folders.start(budget=600)
    times = [5.0, 40.0, 300.0]
    for k, (p, t) in enumerate(zip(preds, times, strict=True)):
        folders.predict(k, p, t, st)
    folders.end()
    proc = cli(*folders.args())
    assert proc.returncode == 0, proc.stderr
    naucs = [sk_nauc(sol, p) for p in preds]
    accs = [float(np.mean(np.sum(sol * p / np.abs(p).sum(1, keepdims=True), 1))) for p in preds]
    txt = yaml.safe_load((folders.out / "scores.txt").read_text())
    assert list(txt) == ["score", "Duration", "timestamps", "nauc_scores", "accuracy"]
    assert txt["score"] == pytest.approx(hand_alc(times, naucs, 600), abs=1e-9)
    assert txt["Duration"] == pytest.approx(300.0, abs=1e-6)
    np.testing.assert_allclose(txt["timestamps"], times, atol=1e-6)
    np.testing.assert_allclose(txt["nauc_scores"], naucs, atol=1e-9)
    np.testing.assert_allclose(txt["accuracy"], accs, atol=1e-9)
    js = scores_json(folders)
    assert js["status"] == "ok" and js["error"] is None and js["finished"] is True
    assert js["score"] == js["alc"] == txt["score"]
    assert js["nauc"] == txt["nauc_scores"][-1] and js["accuracy"] == txt["accuracy"][-1]
    assert js["num_predictions"] == 3 and js["duration"] == txt["Duration"]
    # Seeded bootstrap error bars: present, plausible, and the same on a second run.
    assert abs(js["nauc_bootstrap_mean"] - js["nauc"]) < 0.2 and js["nauc_bootstrap_std"] > 0
    assert abs(js["alc_bootstrap_mean"] - js["alc"]) < 0.2 and js["alc_bootstrap_std"] > 0
    curve = protocol.read_learning_curve(folders.out)
    assert curve["nauc"] == txt["nauc_scores"] and curve["k"] == [0, 1, 2]
    png = (folders.out / "learning-curve-toy.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    html = (folders.out / "detailed_results.html").read_text()
    assert 'http-equiv="refresh"' not in html  # final page: no auto refresh
    assert base64.b64encode(png).decode() in html
    assert "ALC" in proc.stderr and "NAUC" in proc.stderr
    again = cli(*folders.args())
    assert again.returncode == 0
    assert scores_json(folders)["alc_bootstrap_std"] == js["alc_bootstrap_std"]


def test_offline_multilabel_has_no_accuracy_and_dashed_flags(folders, cli):
    rng = np.random.default_rng(1)
    sol = folders.solution((rng.random((80, 5)) < 0.3).astype(float))
    pred = rng.random((80, 5)) + sol * 0.3
    st = folders.start(budget=100)
    folders.predict(0, pred, 20.0, st)
    folders.end()
    proc = cli(
        "score",
        "--solution-dir",
        folders.ref,
        "--prediction-dir",
        folders.res,
        "--score-dir",
        folders.out,
    )
    assert proc.returncode == 0, proc.stderr
    txt = yaml.safe_load((folders.out / "scores.txt").read_text())
    assert "accuracy" not in txt and scores_json(folders)["accuracy"] is None
    assert txt["score"] == pytest.approx(hand_alc([20.0], [sk_nauc(sol, pred)], 100), abs=1e-9)


def test_time_budget_and_t0_overrides(folders, multiclass, cli):
    sol, preds = multiclass
    folders.solution(sol)
    st = folders.start(budget=600)
    folders.predict(0, preds[2], 50.0, st)
    folders.predict(1, preds[0], 150.0, st)  # after the overriding budget of 100 s
    folders.end()
    proc = cli(*folders.args("--time_budget", "100", "--t0", "10"))
    assert proc.returncode == 0, proc.stderr
    js = scores_json(folders)
    assert js["time_budget"] == 100 and js["t0"] == 10
    assert js["score"] == pytest.approx(
        hand_alc([50.0], [sk_nauc(sol, preds[2])], 100, 10), abs=1e-9
    )
    assert any("after the time budget" in m for m in js["messages"])


# --------------------------------------------------------------------------- bad input


def _good_folder(folders, multiclass, times=(5.0, 40.0, 300.0), end=True):
    sol, preds = multiclass
    folders.solution(sol)
    st = folders.start(budget=600)
    for k, (p, t) in enumerate(zip(preds, times, strict=True)):
        folders.predict(k, p, t, st)
    if end:
        folders.end()
    return sol, preds, st


def _check_bad(folders, proc, code, status, *needles):
    assert proc.returncode == code, proc.stderr
    js = scores_json(folders)
    assert js["status"] == status
    text = " ".join(js["messages"])
    for needle in needles:
        assert needle in text, text
        assert needle in proc.stderr, proc.stderr
    assert js["error"]
    # Every output is written even on failure.
    assert (folders.out / "scores.txt").exists() and (
        folders.out / "detailed_results.html"
    ).exists()
    return js


def _score_without(folders, sol, preds, st, bad_k, times=(5.0, 40.0, 300.0)):
    keep = [k for k in range(len(preds)) if k != bad_k]
    return hand_alc([times[k] for k in keep], [sk_nauc(sol, preds[k]) for k in keep], 600)


def _corrupt(folders, k: int, text: bytes) -> None:
    (folders.res / f"toy.predict_{k}").write_bytes(text)


@pytest.mark.parametrize(
    "case,needle",
    [
        ("half_written", "line 120 has 2 values, line 1 has 4"),
        ("wrong_rows", "119 rows, but the solution toy.solution has 120"),
        ("wrong_cols", "3 values per line, but the solution toy.solution has 4 labels"),
        ("non_numeric", "'abc' is not a number"),
        ("nan", "line 7, column 2: nan is not a finite number"),
    ],
)
def test_bad_prediction_file(folders, multiclass, score_inproc, case, needle):
    sol, preds, st = _good_folder(folders, multiclass)
    good = protocol.format_prediction(preds[1])
    lines = good.split(b"\n")
    if case == "half_written":
        # cut inside the last line, after its second value
        bad = b"\n".join(lines[:119]) + b"\n" + b" ".join(lines[119].split()[:2])
    elif case == "wrong_rows":
        bad = b"\n".join(lines[:119]) + b"\n"
    elif case == "wrong_cols":
        bad = protocol.format_prediction(preds[1][:, :3])
    elif case == "non_numeric":
        bad = b"abc " + good
    else:
        p = preds[1].copy()
        p[6, 1] = np.nan
        bad = protocol.format_prediction(p)
    _corrupt(folders, 1, bad)
    proc = score_inproc(*folders.args())
    js = _check_bad(folders, proc, 4, "bad_input", needle, "toy.predict_1")
    assert js["num_predictions"] == 2 and js["num_bad_predictions"] == 1
    assert js["score"] == pytest.approx(_score_without(folders, sol, preds, st, 1), abs=1e-9)


def test_missing_start_txt(folders, multiclass, score_inproc):
    _good_folder(folders, multiclass)
    (folders.res / "start.txt").unlink()
    js = _check_bad(
        folders, score_inproc(*folders.args()), 4, "bad_input", "start.txt: file not found"
    )
    assert js["score"] == 0


def test_out_of_order_timestamps(folders, multiclass, score_inproc):
    sol, preds, st = _good_folder(folders, multiclass, times=(5.0, 300.0, 40.0))
    js = _check_bad(
        folders, score_inproc(*folders.args()), 4, "bad_input", "timestamps out of order"
    )
    # The curve takes the predictions in time order: (5, p0), (40, p2), (300, p1).
    naucs = [sk_nauc(sol, p) for p in preds]
    assert js["score"] == pytest.approx(hand_alc([5, 40, 300], [naucs[0], naucs[2], naucs[1]], 600))


def test_predictions_after_the_budget_only_warn(folders, multiclass, score_inproc):
    sol, preds, st = _good_folder(folders, multiclass, times=(5.0, 40.0, 900.0))
    proc = score_inproc(*folders.args())
    assert proc.returncode == 0
    js = scores_json(folders)
    assert js["status"] == "ok"
    assert "prediction 2 was made at t = 900.00 s, after the time budget" in js["messages"][0]
    naucs = [sk_nauc(sol, p) for p in preds]
    assert js["score"] == pytest.approx(hand_alc([5, 40], naucs[:2], 600), abs=1e-9)
    # scores.txt lists every prediction, as the 2019 program did.
    assert len(yaml.safe_load((folders.out / "scores.txt").read_text())["nauc_scores"]) == 3


def test_missing_timestamp_line(folders, multiclass, score_inproc):
    sol, preds = multiclass
    folders.solution(sol)
    st = folders.start(budget=600)
    folders.predict(0, preds[0], 5.0, st)
    folders.predict(1, preds[1], None, st)
    folders.end()
    js = _check_bad(
        folders, score_inproc(*folders.args()), 4, "bad_input", "no timestamp for prediction 1"
    )
    assert js["score"] == pytest.approx(hand_alc([5.0], [sk_nauc(sol, preds[0])], 600), abs=1e-9)


@pytest.mark.parametrize("count", [0, 2])
def test_zero_or_two_solution_files(folders, multiclass, cli, count):
    _good_folder(folders, multiclass)
    if count == 0:
        (folders.ref / "toy.solution").unlink()
        needle = "expected exactly one *.solution file, found 0 (none)"
    else:
        (folders.ref / "other.solution").write_text("1 0\n0 1\n")
        needle = "found 2 (other.solution, toy.solution)"
    js = _check_bad(folders, cli(*folders.args()), 3, "bad_solution", needle)
    assert js["score"] == 0
    assert (folders.out / "scores.txt").read_text().startswith("score: 0\n")


def test_single_class_solution_is_a_bad_solution(folders, score_inproc):
    sol = np.zeros((10, 3))
    sol[:, 0] = 1
    folders.solution(sol)
    st = folders.start()
    folders.predict(0, np.ones((10, 3)), 1.0, st)
    folders.end()
    _check_bad(
        folders, score_inproc(*folders.args()), 3, "bad_solution", "no label column holds both"
    )


def test_empty_prediction_folder(folders, multiclass, score_inproc):
    folders.solution(multiclass[0])
    js = _check_bad(
        folders, score_inproc(*folders.args()), 4, "bad_input", "no prediction file toy.predict_<k>"
    )
    assert js["score"] == 0 and js["num_predictions"] == 0


def test_ingestion_failure_is_reported(folders, multiclass, score_inproc):
    sol, preds, st = _good_folder(folders, multiclass, end=False)
    folders.end(success=False)
    js = _check_bad(
        folders, score_inproc(*folders.args()), 5, "ingestion_failed", "ingestion_success is 0"
    )
    assert js["num_predictions"] == 3 and js["score"] > 0


def test_malformed_start_and_end_files(folders, multiclass, score_inproc):
    _good_folder(folders, multiclass, end=False)
    (folders.res / "start.txt").write_bytes(b"ingestion_pid: 1\ntask_name: toy\n\xff\xfe: [\n")
    (folders.res / "end.txt").write_bytes(b"ingestion_success: [\n")
    js = _check_bad(folders, score_inproc(*folders.args()), 4, "bad_input", "start.txt", "end.txt")
    assert js["score"] == 0 and js["num_predictions"] == 0 and js["num_bad_predictions"] == 0


def test_real_solution_file_of_miniciao(miniciao, tmp_path, score_inproc):
    """The starting kit's miniciao.solution (18 examples, 10 classes, some absent)."""
    sol = protocol.read_matrix(miniciao / "miniciao.solution")
    assert (sol.sum(axis=0) == 0).any()  # single-class columns to ignore
    rng = np.random.default_rng(7)
    res, out = tmp_path / "res", tmp_path / "out"
    res.mkdir()
    st = time.time() - 100
    protocol.write_start(res, ingestion_pid=0, task_name="miniciao", time_budget=1200,
                         start_time=st)  # fmt: skip
    preds = [np.round(rng.random(sol.shape) + w * sol, 2) for w in (0.2, 0.8)]
    for k, (p, t) in enumerate(zip(preds, (12.5, 70.0), strict=True)):
        protocol.write_prediction(res, "miniciao", k, p)
        protocol.append_prediction_time(res, k, st + t)
    protocol.write_end(res, ingestion_duration=80, ingestion_success=True, end_time=st + 80)
    proc = score_inproc("score", "--solution_dir", miniciao, "--prediction_dir", res,
                        "--score_dir", out)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    txt = yaml.safe_load((out / "scores.txt").read_text())
    naucs = [sk_nauc(sol, p) for p in preds]
    np.testing.assert_allclose(txt["nauc_scores"], naucs, atol=1e-12)
    assert txt["score"] == pytest.approx(hand_alc([12.5, 70.0], naucs, 1200), abs=1e-12)
    assert (out / "learning-curve-miniciao.png").exists()
