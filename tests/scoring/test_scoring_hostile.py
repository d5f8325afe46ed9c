"""`autodl score` on hostile prediction folders, through the real CLI in a subprocess.

Bad budgets and timestamps, missing and duplicate prediction numbers, FIFOs, links and
other non-regular files, and huge files: each gets a message naming the file and status
``bad_input`` (``time_limit_exceeded`` live, when the deadline passes first), never a
crash or a hang. A hang shows as the subprocess timeout, reported as a failure.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time

import pytest
import yaml

from autodl import protocol
from autodl.scoring import alc, nauc

TIMEOUT = 60  # generous: every case here finishes in a few seconds


def run(cli, folders, *extra):
    try:
        proc = cli(*folders.args(*extra), timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"autodl score {' '.join(extra)} hung (no exit within {TIMEOUT} s)")
    js = json.loads((folders.out / "scores.json").read_text())
    return proc, js


def check(proc, js, code, status, *needles):
    assert proc.returncode == code, proc.stderr
    assert js["status"] == status, js
    text = " ".join(js["messages"])
    for needle in needles:
        assert needle in text, text
        assert needle in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr


def folder(folders, multiclass, times=(5.0, 40.0, 300.0), end=True):
    sol, preds = multiclass
    folders.solution(sol)
    st = folders.start(budget=600)
    for k, t in enumerate(times):
        folders.predict(k, preds[k], t, st)
    if end:
        folders.end()
    return sol, preds, st


def start_txt(folders, budget="600", start_time="1000.0", stamps=()):
    lines = [f"ingestion_pid: 0\ntask_name: toy\ntime_budget: {budget}\n"]
    lines.append(f"start_time: {start_time}\n")
    lines += [f"{k}: {t}\n" for k, t in stamps]
    (folders.res / "start.txt").write_text("".join(lines))


# --------------------------------------------------------------------------- 1. budget


@pytest.mark.parametrize("budget", ["0", "-5", ".nan", ".inf", "nan", "-inf"])
def test_bad_time_budget_in_start_txt(folders, multiclass, cli, budget):
    folder(folders, multiclass)
    start_txt(folders, budget=budget, stamps=[(0, 1005.0)])
    proc, js = run(cli, folders)
    check(proc, js, 4, "bad_input", "start.txt: time_budget is", "finite number of seconds > 0")
    assert js["score"] == 0


def test_watch_with_a_bad_time_budget_gives_up_at_the_start_timeout(folders, multiclass, cli):
    folder(folders, multiclass, end=False)
    start_txt(folders, budget="0", start_time=str(time.time()))
    proc, js = run(cli, folders, "--watch", "--poll_interval", "0.2", "--start_timeout", "1")
    check(proc, js, 4, "bad_input", "start.txt: time_budget is 0")


@pytest.mark.parametrize(
    "flag,value", [("--time_budget", "0"), ("--time_budget", "nan"), ("--t0", "-1")]
)
@pytest.mark.parametrize("watch", [False, True])
def test_bad_time_budget_or_t0_flag(folders, multiclass, cli, flag, value, watch):
    folder(folders, multiclass, end=not watch)
    extra = ("--watch", "--poll_interval", "0.2") if watch else ()
    proc, js = run(cli, folders, flag, value, *extra)
    check(proc, js, 4, "bad_input", f"{flag} {float(value)!r}: must be a finite number")
    assert js["score"] == 0


# --------------------------------------------------------------------------- 2. timestamps


def test_nan_infinite_negative_and_early_timestamps(folders, multiclass, cli):
    sol, preds = multiclass
    folders.solution(sol)
    for k, p in enumerate(preds + [preds[2]]):
        protocol.write_prediction(folders.res, "toy", k, p)
    stamps = [(0, ".nan"), (1, "-5.0"), (2, "inf"), (3, "1040.0")]
    start_txt(folders, start_time="1000.0", stamps=stamps)
    folders.end()
    proc, js = run(cli, folders)
    check(
        proc,
        js,
        4,
        "bad_input",
        "timestamp of prediction 0 is nan, not a finite number",
        "timestamp of prediction 2 is 'inf', not a finite number",
        "prediction 1 is timestamped 1005.000 s before start_time",
    )
    # Only prediction 3 (t = 40 s) is on the curve.
    assert js["score"] == pytest.approx(alc([40.0], [nauc(sol, preds[2])], 600), abs=1e-12)


@pytest.mark.parametrize("start_time", ["-1.0", ".nan", ".inf"])
def test_bad_start_time(folders, multiclass, cli, start_time):
    folder(folders, multiclass)
    start_txt(folders, start_time=start_time, stamps=[(0, 1005.0)])
    proc, js = run(cli, folders)
    check(proc, js, 4, "bad_input", "start.txt: start_time is", "epoch seconds >= 0")


# --------------------------------------------------------------------------- 3. numbering


def test_missing_prediction_number(folders, multiclass, cli):
    sol, preds, st = folder(folders, multiclass)
    (folders.res / "toy.predict_1").unlink()
    proc, js = run(cli, folders)
    check(proc, js, 4, "bad_input", "no prediction file toy.predict_1 below toy.predict_2")
    assert js["num_predictions"] == 2
    want = alc([5.0, 300.0], [nauc(sol, preds[0]), nauc(sol, preds[2])], 600)
    assert js["score"] == pytest.approx(want, abs=1e-12)


def test_leading_zero_name_is_never_scored(folders, multiclass, cli):
    # The hostile case: predict_01 holds the solution beside the real predict_1.
    sol, preds, st = folder(folders, multiclass)
    protocol.atomic_write(folders.res / "toy.predict_01", protocol.format_prediction(sol))
    protocol.atomic_write(folders.res / "toy.predict_007", protocol.format_prediction(sol))
    proc, js = run(cli, folders)
    check(
        proc,
        js,
        4,
        "bad_input",
        "toy.predict_01: not the name of a prediction file (that is toy.predict_1)",
        "toy.predict_007: not the name of a prediction file (that is toy.predict_7)",
    )
    txt = yaml.safe_load((folders.out / "scores.txt").read_text())
    assert txt["nauc_scores"] == [nauc(sol, p) for p in preds]
    assert js["num_predictions"] == 3 and js["num_bad_predictions"] == 0


def test_list_predictions_lists_canonical_regular_files_only(tmp_path):
    for name in ("t.predict_0", "t.predict_01", "t.predict_2", ".t.predict_3.x.tmp"):
        (tmp_path / name).write_text("1\n")
    os.mkfifo(tmp_path / "t.predict_4")
    os.symlink(tmp_path / "t.predict_0", tmp_path / "t.predict_5")
    (tmp_path / "t.predict_6").mkdir()
    found, odd = protocol.predictions.scan_predictions(tmp_path)
    assert [(t, k) for t, k, _ in found] == [("t", 0), ("t", 2)]
    assert protocol.list_predictions(tmp_path) == found
    assert [(p.name, why.split(",")[0]) for p, why in odd] == [
        ("t.predict_01", "not the name of a prediction file (that is t.predict_1)"),
        ("t.predict_4", "a FIFO"),
        ("t.predict_5", "a symbolic link"),
        ("t.predict_6", "a directory"),
    ]


# --------------------------------------------------------------------------- 4. non-regular


def _make(path, kind, target=None):
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "symlink":
        os.symlink(target, path)
    elif kind == "directory":
        path.mkdir()
    else:  # a bound Unix socket (bound by the test, so the path is short enough)
        s = socket.socket(socket.AF_UNIX)
        cwd = os.getcwd()
        os.chdir(path.parent)
        try:
            s.bind(path.name)
        finally:
            os.chdir(cwd)
        return s
    return None


WORDS = {
    "fifo": "a FIFO",
    "symlink": "a symbolic link",
    "directory": "a directory",
    "socket": "a socket",
}


@pytest.mark.parametrize("kind", list(WORDS))
def test_non_regular_prediction_file(folders, multiclass, cli, kind):
    sol, preds, st = folder(folders, multiclass)
    path = folders.res / "toy.predict_1"
    path.unlink()
    sock = _make(path, kind, target=folders.ref / "toy.solution")
    try:
        proc, js = run(cli, folders)
    finally:
        if sock is not None:
            sock.close()
    check(proc, js, 4, "bad_input", f"toy.predict_1: {WORDS[kind]}, not a regular file")
    assert js["num_predictions"] == 2
    want = alc([5.0, 300.0], [nauc(sol, preds[0]), nauc(sol, preds[2])], 600)
    assert js["score"] == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize("name", ["start.txt", "end.txt"])
@pytest.mark.parametrize("kind", ["fifo", "symlink"])
def test_non_regular_start_or_end_offline(folders, multiclass, cli, name, kind):
    folder(folders, multiclass)
    path = folders.res / name
    elsewhere = folders.res.parent / f"elsewhere-{name}"
    path.rename(elsewhere)
    _make(path, kind, target=elsewhere)
    proc, js = run(cli, folders)
    check(proc, js, 4, "bad_input", f"{name}: is {WORDS[kind]}, not a regular file")


def test_watch_goes_on_to_the_deadline_past_fifos(folders, multiclass, cli):
    # A FIFO as a prediction and as end.txt: neither is opened, neither ends the watch.
    sol, preds = multiclass
    folders.solution(sol)
    st = folders.start(budget=2.0, start_time=time.time())
    folders.predict(0, preds[2], 0.5, st)
    os.mkfifo(folders.res / "toy.predict_1")
    protocol.append_prediction_time(folders.res, 1, st + 0.7)
    os.mkfifo(folders.res / "end.txt")
    proc, js = run(cli, folders, "--watch", "--poll_interval", "0.2")
    check(
        proc,
        js,
        6,
        "time_limit_exceeded",
        "toy.predict_1: a FIFO, not a regular file",
        "end.txt: is a FIFO, not a regular file",
        "time budget of 2 s passed before end.txt appeared",
    )
    assert js["num_predictions"] == 1
    assert js["score"] == pytest.approx(alc([0.5], [nauc(sol, preds[2])], 2.0), abs=1e-9)


def test_watch_gives_up_on_a_fifo_start_txt(folders, multiclass, cli):
    folders.solution(multiclass[0])
    os.mkfifo(folders.res / "start.txt")
    proc, js = run(cli, folders, "--watch", "--poll_interval", "0.2", "--start_timeout", "1")
    check(proc, js, 4, "bad_input", "start.txt: is a FIFO, not a regular file")


# --------------------------------------------------------------------------- 5. huge files


def test_huge_prediction_is_not_read(folders, multiclass, cli):
    sol, preds, st = folder(folders, multiclass)
    with open(folders.res / "toy.predict_1", "r+b") as f:
        f.truncate(3 * 1024**3)  # sparse: 3 GB that take no disk
    proc, js = run(cli, folders)
    check(proc, js, 4, "bad_input", "toy.predict_1: 3221225472 bytes, more than the")
    assert "a prediction of 120 x 4 values takes far less" in " ".join(js["messages"])
    assert js["num_predictions"] == 2


@pytest.mark.parametrize("watch", [False, True])
def test_huge_start_txt_is_not_read(folders, multiclass, cli, watch):
    folder(folders, multiclass, end=not watch)
    with open(folders.res / "start.txt", "r+b") as f:
        f.truncate(1024**3)
    extra = ("--watch", "--poll_interval", "0.2", "--start_timeout", "1") if watch else ()
    proc, js = run(cli, folders, *extra)
    check(proc, js, 4, "bad_input", "start.txt: 1073741824 bytes, more than the 4194304")
    assert js["score"] == 0


def test_read_regular_refuses_without_blocking(tmp_path):
    read = protocol.predictions.read_regular
    os.mkfifo(tmp_path / "fifo")  # nobody writes: an ordinary open would block forever
    with pytest.raises(protocol.ProtocolError, match="fifo: is a FIFO, not a regular file"):
        read(tmp_path / "fifo")
    (tmp_path / "big").write_bytes(b"x" * 11)
    with pytest.raises(protocol.ProtocolError, match="11 bytes, more than the 10"):
        read(tmp_path / "big", limit=10)
    assert read(tmp_path / "big", limit=11) == b"x" * 11
    os.symlink(tmp_path / "big", tmp_path / "link")
    with pytest.raises(protocol.ProtocolError, match="is a symbolic link"):
        read(tmp_path / "link")
    assert read(tmp_path / "link", follow_symlinks=True) == b"x" * 11


def test_fifo_ingestion_json_after_a_failed_ingestion(folders, multiclass, cli):
    # end.txt says ingestion failed; the scorer quotes ingestion.json, unless it is a FIFO.
    folder(folders, multiclass, end=False)
    folders.end(success=False)
    os.mkfifo(folders.res / "ingestion.json")
    proc, js = run(cli, folders)
    check(proc, js, 5, "ingestion_failed", "ingestion_success is 0")
