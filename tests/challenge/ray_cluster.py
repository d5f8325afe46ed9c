"""A real multi-node Ray cluster on this machine, inside a network namespace of its own.

The tests run this file as a script under ``unshare --net`` (root) or ``unshare --user
--map-root-user --net`` (anyone else): the namespace has only its loopback, so every
Ray node is 127.0.0.1 and nothing binds the machine's own addresses. The script brings
the loopback up, starts ``ray.cluster_utils.Cluster`` (a head and worker nodes, each
worker with one ``slot``), runs a scenario of real ``autodl challenge --backend ray``
commands against it, prints a JSON report on its last line and always shuts the cluster
down.

    python ray_cluster.py SCENARIO WORKDIR CONFIG OUT
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
# Small object stores: the tests move kilobytes, and the machine is shared.
OBJECT_STORE = 80 * 2**20
# Node failures detected in about a second rather than the default fifteen.
SYSTEM_CONFIG = {"health_check_period_ms": 300, "health_check_failure_threshold": 3}


def loopback_up() -> None:
    """``ip link set lo up`` without iproute2: the new namespace's loopback starts down."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s, SIOCGIFFLAGS, req))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))


def challenge_cmd(config: str, out: str, address: str, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "autodl",
        "challenge",
        config,
        "-o",
        out,
        "--backend",
        "ray",
        "--address",
        address,
        "--allow-failures",
        *extra,
    ]


def wait_for(predicate, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.2)


def job_starts(tmp: Path) -> list[Path]:
    """start.txt of the jobs that began on a node (their folders are under TMPDIR)."""
    return sorted(tmp.glob("autodl-job-*/run/predictions/start.txt"))


def scenario_ranks(cluster, args, report: dict) -> None:
    """One full run on two worker nodes."""
    proc = subprocess.run(
        challenge_cmd(args.config, args.out, cluster.address), capture_output=True, text=True
    )
    report.update(rc=proc.returncode, stderr=proc.stderr[-4000:])


def scenario_node_killed(cluster, args, report: dict) -> None:
    """The only node able to run the job dies during it; a new node takes the retry."""
    tmp = Path(os.environ["TMPDIR"])
    child = subprocess.Popen(
        challenge_cmd(args.config, args.out, cluster.address),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: job_starts(tmp) or child.poll() is not None, 120, "the job to start")
        report["started_before_kill"] = len(job_starts(tmp))
        first = args.workers[0]
        report["killed_node"] = first.node_id
        second = cluster.add_node(num_cpus=1, resources={"slot": 1}, **args.node_kwargs)
        report["spare_node"] = second.node_id
        cluster.remove_node(first, allow_graceful=False)
        _, stderr = child.communicate(timeout=240)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    report.update(rc=child.returncode, stderr=stderr[-4000:])


def scenario_driver_killed(cluster, args, report: dict) -> None:
    """SIGKILL the driver once a run has come back, then resume with a new driver."""
    out = Path(args.out)
    child = subprocess.Popen(
        challenge_cmd(args.config, args.out, cluster.address),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(
            lambda: list(out.glob("runs/*/*/result.json")) or child.poll() is not None,
            180,
            "a first finished run",
        )
        child.send_signal(signal.SIGKILL)
        child.wait()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    done = sorted(out.glob("runs/*/*/result.json"))
    report["done_before_kill"] = {str(p.relative_to(out)): p.read_text() for p in done}
    proc = subprocess.run(
        challenge_cmd(args.config, args.out, cluster.address), capture_output=True, text=True
    )
    report.update(rc=proc.returncode, stderr=proc.stderr[-4000:])


def job_processes(tmp: Path) -> list[int]:
    """Processes of the jobs (ingestion, scoring, the worker): they name a job folder."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and str(tmp).encode() in (proc / "cmdline").read_bytes():
                pids.append(int(proc.name))
        except OSError:
            pass
    return pids


def scenario_interrupted(cluster, args, report: dict) -> None:
    """Ctrl-C during a job: the task is cancelled and its processes end on the node."""
    tmp = Path(os.environ["TMPDIR"])
    child = subprocess.Popen(
        challenge_cmd(args.config, args.out, cluster.address),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: job_starts(tmp) or child.poll() is not None, 120, "the job to start")
        report["job_processes_before"] = len(job_processes(tmp))
        time.sleep(1)
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        _, stderr = child.communicate(timeout=120)
        report["exit_after"] = time.monotonic() - sent
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    time.sleep(1)  # the node's last kill of the process groups
    report["job_processes_after"] = job_processes(tmp)
    report.update(rc=child.returncode, stderr=stderr[-4000:])


SCENARIOS = {
    "interrupted": (1, scenario_interrupted),
    "ranks": (2, scenario_ranks),
    "node_killed": (1, scenario_node_killed),
    "driver_killed": (2, scenario_driver_killed),
}


class Args:
    def __init__(self, argv: list[str]) -> None:
        self.scenario, workdir, self.config, self.out = argv
        self.workdir = Path(workdir)
        self.node_kwargs: dict = {}
        self.workers: list = []  # the worker nodes, in the order they were added


def main(argv: list[str]) -> int:
    args = Args(argv)
    loopback_up()
    # Short: Ray's socket paths under it must stay within the 107 bytes of a unix address.
    ray_tmp = tempfile.mkdtemp(prefix="rt", dir="/tmp")
    # Outside pytest's folders (0700): the sandboxed worker, uid 65534, must traverse it.
    jobs_tmp = Path(tempfile.mkdtemp(prefix="rj", dir="/tmp"))
    jobs_tmp.chmod(0o755)
    (jobs_tmp / "ray").mkdir()  # Ray notes its latest cluster there
    os.environ["TMPDIR"] = str(jobs_tmp)  # the nodes' job folders: watched by the scenarios
    from ray.cluster_utils import Cluster

    args.node_kwargs = {
        "object_store_memory": OBJECT_STORE,
        "temp_dir": ray_tmp,
        "node_ip_address": "127.0.0.1",
    }
    report: dict = {"ray_tmp": ray_tmp}
    cluster = None
    try:
        cluster = Cluster(
            initialize_head=True,
            head_node_args={
                "num_cpus": 1,
                "include_dashboard": False,
                "_system_config": SYSTEM_CONFIG,
                **args.node_kwargs,
            },
        )
        nodes, scenario = SCENARIOS[args.scenario]
        for _ in range(nodes):
            args.workers.append(
                cluster.add_node(num_cpus=1, resources={"slot": 1}, **args.node_kwargs)
            )
        cluster.wait_for_nodes()
        report["address"] = cluster.address
        report["worker_nodes"] = [n.node_id for n in args.workers]
        scenario(cluster, args, report)
    except Exception as e:
        report["error"] = f"{type(e).__name__}: {e}"
    finally:
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.shutdown()
        shutil.rmtree(jobs_tmp, ignore_errors=True)
        shutil.rmtree(ray_tmp, ignore_errors=True)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
