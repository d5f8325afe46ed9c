"""One hostile submission per class of attack, through the real ``autodl ingest`` with
the sandbox on (as root or as an ordinary user: CI runs both): the status each gets and
the proof that the attack found nothing."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from autodl import protocol
from autodl.ingestion.sandbox import probe

SUBMISSIONS = Path(__file__).resolve().parents[1] / "submissions"

pytestmark = pytest.mark.skipif(
    not probe().ok and not os.environ.get("CI"), reason=f"no sandbox here: {probe().reason}"
)


def test_a_solution_anywhere_on_disk_is_not_in_its_world(ingest_run, tiny_task, tmp_path):
    planted = Path("/var/tmp") / f"autodl-{uuid.uuid4().hex}.solution"
    shutil.copy(tiny_task / "tiny.solution", planted)
    os.chmod(planted, 0o644)  # world-readable, as the usual umask leaves it
    try:
        run = ingest_run(tiny_task, "disk_walker", tmp_path)
    finally:
        planted.unlink()
    assert run.result["status"] == "ok", run.result
    assert "disk: found []" in run.stdout, run.stdout
    sandbox = run.result["isolation"]["sandbox"]
    assert sandbox["kind"] == "bwrap" and "pid" in sandbox["namespaces"]


def test_proc_shows_no_other_process_and_none_can_be_signalled(ingest_run, tiny_task, tmp_path):
    run = ingest_run(tiny_task, "proc_snoop", tmp_path)
    assert run.result["status"] == "ok", run.result
    assert "snoop: 2 processes seen, leaks [], stopped []" in run.stdout, run.stdout


def test_two_runs_at_once_cannot_see_each_other(ingest_run, tiny_task, tmp_path):
    runs: dict[int, object] = {}

    def one(i: int) -> None:
        runs[i] = ingest_run(tiny_task, "proc_snoop", tmp_path / str(i), budget=30)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for run in runs.values():
        assert run.result["status"] == "ok", run.result
        assert "snoop: 2 processes seen, leaks [], stopped []" in run.stdout


def _comm_count(name: bytes) -> tuple[int, int]:
    """(live, zombie) processes whose /proc/<pid>/comm is ``name``."""
    live = zombie = 0
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                data = f.read()
        except OSError:
            continue
        comm = data[data.find(b"(") + 1 : data.rfind(b")")]
        if comm == name:
            state = data[data.rfind(b")") + 2 :].split()[0]
            zombie += state == b"Z"
            live += state != b"Z"
    return live, zombie


def test_a_pid_hopping_fork_chain_dies_with_the_run(ingest_run, tiny_task, tmp_path):
    run = ingest_run(tiny_task, "pid_hopper", tmp_path, "--max_processes", "64", budget=3)
    assert run.result["status"] == "timeout", run.result
    assert run.elapsed < 3 + 10 + 5
    time.sleep(0.2)
    assert _comm_count(b"autodl-hopper") == (0, 0)


def test_a_worker_that_never_reads_cannot_block_the_supervisor(ingest_run, tiny_task, tmp_path):
    run = ingest_run(tiny_task, "pipe_stuffer", tmp_path, budget=4, timeout=60)
    assert run.result["status"] in ("timeout", "prediction_limit"), run.result
    assert protocol.read_end(run.output_dir) is not None
    assert run.elapsed < 4 + (run.result["construction_duration"] or 0) + 15


def test_a_json_bomb_is_the_submissions_fault(ingest_run, tiny_task, tmp_path):
    run = ingest_run(tiny_task, "json_bomb", tmp_path)
    assert run.result["status"] == "error" and not run.result["harness_failure"], run.result
    assert "broke the message protocol during train (round 1)" in run.result["error"]
    assert "nested too deeply" in run.result["error"]
    run.check_files(1)


def test_shared_memory_and_tmpfs_count_against_the_memory_limit(ingest_run, tiny_task, tmp_path):
    # Scratch space larger than the limit: the memory limit has to be what stops it.
    run = ingest_run(
        tiny_task,
        "shm_bomb",
        tmp_path,
        "--memory_limit",
        "512M",
        "--scratch_size",
        "16G",
        budget=60,
    )
    limits = run.result["isolation"]["sandbox"]["limits"]
    assert "shm: 2 GiB parked" not in run.stdout
    if limits["memory"].startswith("cgroup"):
        assert run.result["status"] == "out_of_memory", run.result
        assert "out-of-memory killer" in run.result["error"]
    else:  # no cgroup for this user: the scratch space is capped at the memory limit
        assert limits["scratch_bytes"] <= 512 << 20
        assert run.result["status"] == "error", run.result
        assert "No space left on device" in run.result["error"]
    run.check_files(1)


def test_no_network_to_the_hosts_loopback(ingest_run, tiny_task, tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(30)
    got: list[bytes] = []

    def serve() -> None:
        try:
            conn, _ = server.accept()
            got.append(conn.recv(100))
        except OSError:
            pass

    threading.Thread(target=serve, daemon=True).start()
    code = tmp_path / "net_client"
    shutil.copytree(SUBMISSIONS / "net_client", code)
    (code / "port.txt").write_text(str(server.getsockname()[1]))
    try:
        run = ingest_run(tiny_task, code, tmp_path)
    finally:
        server.close()
    assert run.result["status"] == "ok", run.result
    assert "network: refused" in run.stdout and got == []
    assert run.result["isolation"]["sandbox"]["network"].startswith("none")


def test_nothing_outside_scratch_is_writable(ingest_run, tiny_task, tmp_path):
    run = ingest_run(tiny_task, "write_outside", tmp_path)
    assert run.result["status"] == "ok", run.result
    assert "outside: wrote []" in run.stdout, run.stdout


def test_sandbox_none_is_recorded_and_shown(ingest_run, tiny_task, tmp_path):
    run = ingest_run(tiny_task, "native_ok", tmp_path, "--sandbox", "none")
    assert run.result["status"] == "ok"
    assert run.result["isolation"]["sandbox"]["kind"] == "none"
    assert "[unconfined: --sandbox none]" in run.stderr


def test_no_sandbox_means_no_run(tiny_task, tmp_path):
    # No bwrap on PATH: one clear refusal, exit 2, nothing written, the submission not run.
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "autodl",
            "ingest",
            "--dataset_dir",
            str(tiny_task),
            "--output_dir",
            str(out),
            "--code_dir",
            str(SUBMISSIONS / "native_ok"),
        ],
        env={**os.environ, "PATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "cannot confine the submission: bubblewrap (bwrap) is not installed" in proc.stderr
    assert "apt-get install bubblewrap" in proc.stderr
    assert not out.exists()


def test_a_cap_on_predictions_ends_the_run_and_keeps_them(ingest_run, tiny_task, tmp_path):
    run = ingest_run(tiny_task, "native_ok", tmp_path, "--max_predictions", "2", budget=30)
    assert run.result["status"] == "prediction_limit", run.result
    assert "cap of 2 predictions" in run.result["error"]
    run.check_files(2)
    assert protocol.read_end(run.output_dir).ingestion_success == 1


def test_a_defective_dataset_is_bad_dataset(ingest_run, tiny_task, tmp_path):
    task = tmp_path / "task"
    shutil.copytree(tiny_task, task)
    record = next((task / "tiny.data" / "train").glob("*.tfrecord"))
    record.write_bytes(record.read_bytes()[:-7])  # truncated mid-record
    run = ingest_run(task, "native_ok", tmp_path)
    assert run.result["status"] == "bad_dataset", run.result
    assert "sample-tiny-train.tfrecord" in run.result["error"]
    assert "record 11: truncated record" in run.result["error"]


def test_the_submissions_output_cannot_forge_a_harness_line(ingest_run, tiny_task, tmp_path):
    run = ingest_run(tiny_task, "log_forger", tmp_path)
    assert run.result["status"] == "error"
    lines = (run.stdout + run.stderr).splitlines()
    harness = [x for x in lines if x.startswith("[ingestion]")]
    # Every line that looks like the harness's is the harness's: none of the forged ones.
    assert not [x for x in harness if "99 predictions" in x or "forged after" in x], harness
    assert set(harness) <= set(run.stderr.splitlines())
    assert any(x.startswith("[ingestion] tiny: error") for x in harness), harness
    assert "[worker] [ingestion] tiny: ok, 99 predictions in 1.00 s" in run.stdout
    assert "[worker] [ingestion] forged after a newline" in run.stdout
