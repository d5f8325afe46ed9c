"""`autodl score --watch` beside real producer processes: live scoring, end.txt, budget kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from autodl import proc
from autodl.scoring import nauc, score_folder
from autodl.scoring.process import ingestion_pid_problem

# A producer process: writes start.txt with its own pid, one prediction every DELAY s, then
# end.txt. "atomic" follows autodl.protocol (temporary name + rename, then the timestamp);
# "plain" imitates the 2019 ingestion (timestamp first, then a plain write) and pauses in
# the middle of each file, so a careless reader would see half a prediction.
PRODUCER = r"""
import os, sys, time
import numpy as np
from autodl import protocol
out, npz, delay, mode = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
preds = np.load(npz)
protocol.write_start(out, ingestion_pid=os.getpid(), task_name="toy", time_budget=600,
                     start_time=time.time())
for k in range(len(preds.files)):
    time.sleep(delay)
    p = preds[f"p{k}"]
    if mode == "atomic":
        protocol.write_prediction(out, "toy", k, p)
        protocol.append_prediction_time(out, k, time.time())
    else:
        protocol.append_prediction_time(out, k, time.time())
        data = protocol.format_prediction(p)
        with open(os.path.join(out, f"toy.predict_{k}"), "wb") as f:
            f.write(data[: len(data) // 2 + 3])
            f.flush()
            time.sleep(1.0)
            f.write(data[len(data) // 2 + 3 :])
protocol.write_end(out, ingestion_duration=1.0, ingestion_success=1, end_time=time.time())
"""


def _watch(folders, *extra: str) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "autodl",
        *folders.args("--watch", "--poll_interval", "0.2", *extra),
    ]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("mode", ["atomic", "plain"])
def test_watch_scores_predictions_as_they_land(folders, multiclass, tmp_path, mode):
    sol, preds = multiclass
    folders.solution(sol)
    npz = tmp_path / "preds.npz"
    np.savez(npz, **{f"p{k}": p for k, p in enumerate(preds)})
    scorer = _watch(folders)
    producer = subprocess.Popen(
        [sys.executable, "-c", PRODUCER, str(folders.res), str(npz), "0.6", mode]
    )
    try:
        live_pages = []
        deadline = time.monotonic() + 90
        while scorer.poll() is None and time.monotonic() < deadline:
            try:
                js = json.loads((folders.out / "scores.json").read_text())
            except FileNotFoundError:
                js = {}
            if js.get("status") == "running" and js.get("num_predictions", 0) >= 1:
                live_pages.append((folders.out / "detailed_results.html").read_text())
            time.sleep(0.1)
        out, err = scorer.communicate(timeout=30)
    finally:
        for p in (scorer, producer):
            if p.poll() is None:
                p.kill()
                p.wait()
    assert producer.wait(timeout=10) == 0
    assert scorer.returncode == 0, err
    js = json.loads((folders.out / "scores.json").read_text())
    assert js["status"] == "ok" and js["num_predictions"] == 3 and js["num_bad_predictions"] == 0
    assert js["messages"] == []
    # While live the page refreshes itself; the final page does not.
    assert live_pages and all('http-equiv="refresh"' in page for page in live_pages)
    assert 'http-equiv="refresh"' not in (folders.out / "detailed_results.html").read_text()
    assert "end.txt found" in err
    # Live scores equal the offline scores of the finished folder, and the true NAUCs.
    offline = score_folder(folders.ref, folders.res, tmp_path / "offline", bootstrap=False)
    assert offline.status == "ok"
    assert js["alc"] == offline.alc
    assert offline.nauc_scores == [nauc(sol, p) for p in preds]


def _sleeper(new_session: bool, ignore_term: bool) -> subprocess.Popen:
    code = "import signal, sys, time\n"
    if ignore_term:
        code += "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    code += "print('ready', flush=True)\ntime.sleep(120)\n"
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=new_session,
    )
    assert proc.stdout.readline().strip() == "ready"
    return proc


@pytest.mark.parametrize(
    "new_session,ignore_term,how,signum",
    [
        (True, False, "ended process group {pid} with SIGTERM", signal.SIGTERM),
        (False, True, "ended pid {pid} with SIGKILL", signal.SIGKILL),
    ],
)
def test_watch_ends_ingestion_when_the_budget_passes(
    folders, multiclass, cli, new_session, ignore_term, how, signum
):
    sol, preds = multiclass
    folders.solution(sol)
    sleeper = _sleeper(new_session, ignore_term)
    try:
        st = folders.start(budget=2.0, start_time=time.time(), pid=sleeper.pid)
        folders.predict(0, preds[2], 0.5, st)
        proc = cli(
            *folders.args("--watch", "--poll_interval", "0.2", "--term_timeout", "1"), timeout=60
        )
        assert sleeper.wait(timeout=10) == -signum
    finally:
        if sleeper.poll() is None:
            sleeper.kill()
            sleeper.wait()
    assert proc.returncode == 6, proc.stderr
    js = json.loads((folders.out / "scores.json").read_text())
    assert js["status"] == "time_limit_exceeded"
    assert "time budget of 2 s passed before end.txt appeared" in js["error"]
    assert how.format(pid=sleeper.pid) in js["error"] and how.format(pid=sleeper.pid) in proc.stderr
    assert js["num_predictions"] == 1
    x = np.log1p(0.5 / 60) / np.log1p(2.0 / 60)
    assert js["score"] == pytest.approx(nauc(sol, preds[2]) * (1 - x), abs=1e-9)


def test_watch_gives_up_when_start_txt_never_appears(folders, multiclass, cli):
    folders.solution(multiclass[0])
    proc = cli(
        *folders.args("--watch", "--poll_interval", "0.2", "--start_timeout", "1"), timeout=60
    )
    assert proc.returncode == 4
    js = json.loads((folders.out / "scores.json").read_text())
    assert js["status"] == "bad_input" and "did not appear within 1 s" in js["error"]


def test_watch_leaves_alone_a_pid_that_cannot_be_the_ingestion(folders, multiclass, cli):
    # start.txt names a process that started after start_time (a pid of another pid
    # namespace, or a reused one): ending it would hit an innocent process.
    sol, preds = multiclass
    folders.solution(sol)
    st = folders.start(budget=1.0, start_time=time.time() - 30)
    sleeper = _sleeper(new_session=True, ignore_term=False)
    try:
        folders.start(budget=1.0, start_time=st, pid=sleeper.pid)
        proc = cli(*folders.args("--watch", "--poll_interval", "0.2"), timeout=60)
        assert sleeper.poll() is None  # still running
    finally:
        sleeper.kill()
        sleeper.wait()
    assert proc.returncode == 6, proc.stderr
    js = json.loads((folders.out / "scores.json").read_text())
    assert f"pid {sleeper.pid} started +" in js["error"] and "not the ingestion" in js["error"]
    assert js["score"] == 0 and js["num_predictions"] == 0


def test_which_pids_scoring_may_end():
    now = time.time()
    for pid in (0, 1, os.getpid(), os.getppid()):
        assert "not a process scoring may end" in ingestion_pid_problem(pid, now)
    sleeper = _sleeper(new_session=True, ignore_term=False)
    try:
        assert ingestion_pid_problem(sleeper.pid, time.time()) is None
        # Started after start_time, or hours before it: not the ingestion.
        assert "started +" in ingestion_pid_problem(sleeper.pid, time.time() - 60)
        assert "started -" in ingestion_pid_problem(sleeper.pid, now + 3 * 3600)
    finally:
        sleeper.kill()
        sleeper.wait()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
def test_proc_reads_a_real_process_named_with_parentheses():
    # The process names itself "x) (y z)": a stat line whose comm holds ") (" and spaces.
    code = (
        "import ctypes, time\n"
        "ctypes.CDLL(None).prctl(15, b'x) (y z)', 0, 0, 0)\n"  # PR_SET_NAME
        "print('ready', flush=True)\ntime.sleep(120)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        assert child.stdout.readline().strip() == "ready"
        # Between its print and its sleep the child may still be running ("R") on a busy
        # machine; wait for the sleep, which a misparsed stat line would never show.
        deadline = time.monotonic() + 10
        while (st := proc.read_stat(child.pid)).state != "S" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert (st.comm, st.ppid, st.pgid, st.state) == ("x) (y z)", os.getpid(), child.pid, "S")
        assert abs(proc.start_time(child.pid) - time.time()) < 30
        assert proc.is_alive(child.pid)
        assert proc.signal_group(child.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while proc.read_stat(child.pid).state != "Z" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not proc.is_alive(child.pid)  # a zombie: ended, not yet reaped
    finally:
        child.kill()
        child.wait()
    assert proc.read_stat(child.pid) is None and not proc.signal_group(child.pid, 0)
