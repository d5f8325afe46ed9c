"""`autodl challenge --backend ray` on a real multi-node Ray cluster on this machine.

Each test starts ``ray.cluster_utils.Cluster`` (a head and worker nodes) inside a network
namespace of its own (see ray_cluster.py), so that every node is 127.0.0.1, and runs the
real CLI against it: the same ranks as the local backend, a node killed during a job,
a driver killed and resumed. Afterwards nothing may be left in the namespace: no Ray
process, no job process.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from challenge_helpers import CENTROID, FRAGILE, ZEROS, blobs, submission

pytestmark = pytest.mark.slow

HELPER = Path(__file__).with_name("ray_cluster.py")
SHUTDOWN_GRACE = 30.0  # seconds for the namespace to empty once the cluster is shut down

# Predicts zeros every half second until its budget runs out: a job that lasts.
STEADY = """
import time
import numpy as np

class Model:
    def __init__(self, metadata):
        self.output_dim = metadata.get_output_size()
        self.done_training = False

    def fit(self, dataset, remaining_time_budget=None):
        time.sleep(0.5)

    def predict(self, dataset, remaining_time_budget=None):
        return np.zeros((len(dataset), self.output_dim))
"""


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"the Ray tests must run in CI: {reason}")
    pytest.skip(reason)


def _netns() -> list[str]:
    """The command prefix that gives a process a network namespace of its own."""
    try:
        import ray  # noqa: F401
    except ImportError:
        _unavailable("Ray is not installed (pip install 'autodl[ray]')")
    cmd = ["unshare", "--net"] if os.geteuid() == 0 else ["unshare", "-Urn"]
    try:
        probe = subprocess.run([*cmd, "true"], capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        _unavailable("unshare (util-linux) is not installed")
    if probe.returncode != 0:
        _unavailable(f"cannot make a network namespace: {probe.stderr.strip()}")
    return cmd


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:200]
    except OSError:
        return "?"


def _in_netns(inode: str) -> list[int]:
    """Processes still in the namespace the cluster ran in."""
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if os.readlink(proc / "ns" / "net") == inode:
                    pids.append(int(proc.name))
            except OSError:
                pass
    return pids


def _cluster(tmp_path: Path, scenario: str, config: Path, out: Path, wait: float = 0) -> dict:
    """Run a scenario in its own namespace; its JSON report, once the namespace is empty
    (``wait``: seconds the processes of a killed node may take to reach their budget)."""
    work = tmp_path / f"work-{scenario}"
    work.mkdir()
    cmd = [*_netns(), sys.executable, str(HELPER), scenario, str(work), str(config), str(out)]
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    inode = None
    try:
        # The namespace as the child sees it: the one every cluster process inherits.
        for _ in range(100):
            try:
                inode = os.readlink(f"/proc/{child.pid}/ns/net")
            except OSError:
                break
            if inode != os.readlink("/proc/self/ns/net"):
                break
            time.sleep(0.05)
        stdout, stderr = child.communicate(timeout=600)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert stdout.strip(), f"no report from the cluster script:\n{stderr[-3000:]}"
    report = json.loads(stdout.strip().splitlines()[-1])
    assert "error" not in report, f"{report['error']}\n{report.get('stderr', '')}\n{stderr[-3000:]}"
    if inode and inode != os.readlink("/proc/self/ns/net"):
        # Ray's own daemons end on their own after its shutdown; on a loaded machine that
        # takes seconds. What the scenarios assert of the jobs' processes, they check
        # themselves at the moment it matters.
        end = time.monotonic() + max(wait, SHUTDOWN_GRACE)
        while _in_netns(inode) and time.monotonic() < end:
            time.sleep(0.5)
        left = {pid: _cmdline(pid) for pid in _in_netns(inode)}
        for pid in left:  # clean up before failing, so that no test leaves them behind
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        assert not left, f"processes left in the cluster's namespace: {left}"
    return report


def _rows(path: Path) -> dict[str, dict[str, str]]:
    return {r["submission"]: r for r in csv.DictReader(open(path))}


def _files(run_dir: Path) -> set[str]:
    return {str(p.relative_to(run_dir)) for p in run_dir.rglob("*")}


def _challenge(
    tmp_path: Path, subs: dict[str, str], budget: float, cluster: str, zipped: tuple = ()
) -> Path:
    """Two tiny real tasks and the submissions (those in ``zipped`` as zip files)."""
    blobs(tmp_path / "data", "blobs_a", classes=3, features=4, seed=1)
    blobs(tmp_path / "data", "blobs_b", classes=4, features=5, seed=2)
    for name, code in subs.items():
        folder = submission(tmp_path / "subs", name, code)
        if name in zipped:
            shutil.make_archive(str(folder), "zip", folder)
    config = tmp_path / "c.yaml"
    names = ", ".join(f"{n}: subs/{n}{'.zip' if n in zipped else ''}" for n in subs)
    config.write_text(
        textwrap.dedent(
            f"""
            defaults: {{time_budget: {budget}}}
            datasets: {{blobs_a: data/blobs_a, blobs_b: data/blobs_b}}
            submissions: {{{names}}}
            cluster: {cluster}
            """
        )
    )
    return config


def test_ray_backend_ranks_like_the_local_backend(tmp_path, cli):
    subs = {"centroid": CENTROID, "zeros": ZEROS, "fragile": FRAGILE}
    config = _challenge(tmp_path, subs, 5, "{resources: {slot: 1}}", zipped=("zeros",))
    local = cli("challenge", config, "-o", tmp_path / "local", "--allow-failures", timeout=300)
    assert local.returncode == 0, local.stderr

    out = tmp_path / "ray"
    report = _cluster(tmp_path, "ranks", config, out)
    assert report["rc"] == 0, report["stderr"]

    local_board, ray_board = (
        _rows(tmp_path / "local" / "leaderboard.csv"),
        _rows(out / "leaderboard.csv"),
    )
    keys = ["position", "average_rank", "blobs_a_rank", "blobs_b_rank"]
    assert {s: [r[k] for k in keys] for s, r in ray_board.items()} == {
        s: [r[k] for k in keys] for s, r in local_board.items()
    }
    assert ray_board["centroid"]["position"] == "1"  # a board that ranks something
    results = json.loads((out / "results.json").read_text())
    local_results = json.loads((tmp_path / "local" / "results.json").read_text())
    assert len(results) == 6
    assert [(r["submission"], r["dataset"], r["status"]) for r in results] == [
        (r["submission"], r["dataset"], r["status"]) for r in local_results
    ]
    for r in results:
        # Every job ran on a worker node (the head has no slot), and came back whole.
        run = out / "runs" / r["submission"] / r["dataset"]
        record = json.loads((run / "result.json").read_text())
        assert record["extra"]["ray_node"] in report["worker_nodes"]
        assert record["run_dir"] == str(run)
        assert r["run_dir"] == str(run)
        assert _files(run) == _files(tmp_path / "local" / "runs" / r["submission"] / r["dataset"])
    assert (out / "runs/centroid/blobs_a/input_data/blobs_a.data/train").is_dir()
    assert (out / "runs/zeros/blobs_b/code/zeros/model.py").is_file()  # the zip, extracted
    assert not (out / "runs/centroid/blobs_a/input_data/blobs_a.solution").exists()
    assert not list(out.glob("runs/*/.*"))  # nothing half-received left aside
    assert "centroid on blobs_a: ok" in report["stderr"]  # the same progress lines


@pytest.mark.parametrize("retries", [1, 0])
def test_node_killed_during_a_job(tmp_path, retries):
    """With a try left, the job goes to another node and finishes; without, it is
    recorded as lost (an error naming the cause) and the challenge still ends."""
    config = tmp_path / "c.yaml"
    blobs(tmp_path / "data", "blobs_a", classes=3, features=4, seed=1)
    submission(tmp_path / "subs", "steady", STEADY)
    config.write_text(
        textwrap.dedent(
            f"""
            defaults: {{time_budget: 6}}
            datasets: {{blobs_a: data/blobs_a}}
            submissions: {{steady: subs/steady}}
            cluster: {{resources: {{slot: 1}}, max_retries: {retries}}}
            """
        )
    )
    out = tmp_path / "out"
    # The killed node's ingestion and scorer, orphaned, end by their own budget.
    report = _cluster(tmp_path, "node_killed", config, out, wait=60)
    assert report["rc"] == 0, report["stderr"]
    assert report["started_before_kill"] == 1, report
    result = json.loads((out / "runs/steady/blobs_a/result.json").read_text())
    if retries:
        assert result["status"] == "timeout", result  # ran its whole budget, elsewhere
        assert result["num_predictions"] > 0
        assert result["extra"]["ray_node"] == report["spare_node"]
        assert (out / "runs/steady/blobs_a/scores/scores.json").is_file()
    else:
        assert result["status"] == "error" and result["extra"]["lost"] is True
        assert "lost on the cluster after 1 tries" in result["error"]
        board = _rows(out / "leaderboard.csv")
        assert board["steady"]["blobs_a_rank"] == "1" and board["steady"]["blobs_a_alc"] == ""


def test_driver_killed_and_resumed(tmp_path):
    config = _challenge(
        tmp_path, {"centroid": CENTROID, "zeros": ZEROS}, 4, "{resources: {slot: 1}}"
    )
    out = tmp_path / "out"
    report = _cluster(tmp_path, "driver_killed", config, out, wait=30)
    assert report["rc"] == 0, report["stderr"]
    before = report["done_before_kill"]
    assert 1 <= len(before) < 4, before  # killed between the first and the last result
    for rel, text in before.items():  # finished jobs were skipped, their records kept
        assert (out / rel).read_text() == text
        sub, ds = Path(rel).parts[1:3]
        assert f"{sub} on {ds}: done before (ok), skipped" in report["stderr"]
    results = json.loads((out / "results.json").read_text())
    assert sorted((r["submission"], r["dataset"], r["status"]) for r in results) == [
        ("centroid", "blobs_a", "ok"),
        ("centroid", "blobs_b", "ok"),
        ("zeros", "blobs_a", "ok"),
        ("zeros", "blobs_b", "ok"),
    ]
    board = _rows(out / "leaderboard.csv")
    assert (board["centroid"]["position"], board["zeros"]["position"]) == ("1", "2")
    assert board["centroid"]["average_rank"] == "1" and board["zeros"]["average_rank"] == "2"
    assert not list(out.glob("runs/*/.*"))  # nothing half-received left aside


def test_ctrl_c_cancels_the_jobs_on_the_nodes(tmp_path):
    config = tmp_path / "c.yaml"
    blobs(tmp_path / "data", "blobs_a", classes=3, features=4, seed=1)
    submission(tmp_path / "subs", "steady", STEADY)
    config.write_text(
        textwrap.dedent(
            """
            defaults: {time_budget: 60}
            datasets: {blobs_a: data/blobs_a}
            submissions: {steady: subs/steady}
            cluster: {resources: {slot: 1}}
            """
        )
    )
    out = tmp_path / "out"
    report = _cluster(tmp_path, "interrupted", config, out)
    assert report["rc"] == 130, report["stderr"]
    assert "interrupted" in report["stderr"] and "resume" in report["stderr"]
    assert report["job_processes_before"] >= 1  # the job was running on its node
    assert report["job_processes_after"] == []  # stopped by the cancelled task itself
    assert report["exit_after"] < 30  # well before the 60 s budget
    assert not (out / "runs/steady/blobs_a/result.json").exists()  # not recorded
    assert not list(out.glob("runs/*/.*"))
