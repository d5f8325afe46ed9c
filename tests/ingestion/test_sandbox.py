"""The sandbox on its own: real commands in real namespaces, each showing one guarantee.

Every test runs a small Python program through :func:`autodl.ingestion.sandbox.confine`
exactly as the supervisor starts the worker (cgroup join, bwrap, interpreter), as root
or as an ordinary user, with or without a writable cgroup.
"""

from __future__ import annotations

import ast
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

from autodl.ingestion.sandbox import SandboxSpec, confine, probe
from autodl.ingestion.sandbox.box import CODE, DATA, mounts_for

pytestmark = pytest.mark.skipif(
    not probe().ok and not os.environ.get("CI"), reason=f"no sandbox here: {probe().reason}"
)


@pytest.fixture
def world(tmp_path):
    """A code folder and a data folder, as the supervisor stages them."""
    code, data = tmp_path / "code", tmp_path / "tiny.data"
    code.mkdir()
    data.mkdir()
    (data / "train.txt").write_text("data\n")
    return code, data


def _run(world, program: str, timeout: float = 60, **spec_kwargs):
    code, data = world
    spec = SandboxSpec(mounts=mounts_for(code, data), **spec_kwargs)
    box = confine([sys.executable, "-I", f"{CODE}/prog.py"], spec)
    # The rlimits the worker would set on itself where no cgroup holds a limit.
    prologue = (
        "import resource\n"
        f"for _k, _v in {box.rlimits!r}.items():\n"
        "    resource.setrlimit(getattr(resource, _k), (_v, _v))\n"
    )
    (code / "prog.py").write_text(prologue + textwrap.dedent(program))
    try:
        p = box.popen(
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            stdin=subprocess.DEVNULL,
            env={"PATH": "/usr/bin:/bin", "HOME": "/home/worker", "LC_ALL": "C.UTF-8"},
            start_new_session=True,
        )
        try:
            out, err = p.communicate(timeout=timeout)
        finally:
            p.kill()
        proc = subprocess.CompletedProcess(p.args, p.returncode, out, err)
        return proc, box, box.out_of_memory()
    finally:
        box.close()


def test_it_runs_confined_and_the_record_says_how(world):
    proc, box, _ = _run(
        world,
        """
        import os
        print("uid", os.getuid(), "pid", os.getpid())
        print(sorted(os.listdir("/sandbox/data/tiny.data")))
        """,
    )
    assert proc.returncode == 0, proc.stderr
    assert "uid 65534 pid 2" in proc.stdout  # pid 1 is bwrap's init in the namespace
    assert "['train.txt']" in proc.stdout
    assert box.record["kind"] == "bwrap"
    assert {"user", "mount", "pid", "network", "ipc", "uts"} <= set(box.record["namespaces"])


def test_no_network_to_the_hosts_loopback(world):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(20)
    port = server.getsockname()[1]
    got: list[bytes] = []

    def serve():
        try:
            conn, _ = server.accept()
            got.append(conn.recv(100))
        except OSError:
            pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        proc, _, _ = _run(
            world,
            f"""
            import socket
            try:
                socket.create_connection(("127.0.0.1", {port}), timeout=3).sendall(b"stolen")
                print("connected")
            except OSError as e:
                print("refused", e)
            """,
        )
    finally:
        server.close()
    assert "refused" in proc.stdout, proc.stdout + proc.stderr
    assert got == []


def test_host_tmp_and_files_elsewhere_do_not_exist(world, tmp_path):
    secret = f"autodl-planted-{uuid.uuid4().hex}.solution"
    planted = [Path("/tmp") / secret, Path("/var/tmp") / secret, tmp_path / secret]
    for p in planted:
        p.write_text("1 0 0\n")
    try:
        proc, _, _ = _run(
            world,
            f"""
            import os
            found = []
            for top in ("/", "/tmp", "/var", "/home", "/root", "/work", "/sandbox"):
                for root, dirs, files in os.walk(top):
                    if root.startswith(("/proc", "/sys")):
                        dirs[:] = []
                        continue
                    found += [os.path.join(root, f) for f in files if f == {secret!r}]
            print("found", sorted(set(found)))
            print("tmp", os.listdir("/tmp"))
            """,
        )
    finally:
        for p in planted:
            p.unlink()
    assert proc.returncode == 0, proc.stderr
    assert "found []" in proc.stdout, proc.stdout
    # The private /tmp holds nothing of the host's, except the way to an interpreter or a
    # checkout that itself lives under /tmp (a CI clone): mounted read-only over it.
    import autodl

    ours = {os.path.realpath(sys.prefix), os.path.dirname(os.path.realpath(autodl.__file__))}
    allowed = {Path(p).parts[2] for p in ours if Path(p).parts[1:2] == ("tmp",)}
    listed = proc.stdout.split("tmp ", 1)[1].strip()
    assert set(ast.literal_eval(listed)) <= allowed, proc.stdout


def test_only_its_own_processes_are_visible(world):
    proc, _, _ = _run(
        world,
        """
        import os
        print("pids", sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
        print("ppid", os.getppid())
        print("init:", open("/proc/1/cmdline").read().replace("\\0", " "))
        """,
    )
    assert "pids [1, 2]" in proc.stdout, proc.stdout + proc.stderr
    init = proc.stdout.split("init:")[1]
    assert "bwrap --args" in init and "--ro-bind" not in init  # no host path shown there
    assert "ppid 1" in proc.stdout  # the supervisor is not even nameable


def test_everything_dies_with_the_namespace(world, tmp_path):
    marker = f"autodl-sandbox-{uuid.uuid4().hex}"
    code, data = world
    (code / "prog.py").write_text(
        textwrap.dedent(
            f"""
            import os, time
            for _ in range(5):
                if os.fork() == 0:
                    os.setsid()
                    if os.fork() == 0:
                        os.execv("/bin/sleep", [{marker!r}, "300"])
                    os._exit(0)
            print("started", flush=True)
            time.sleep(300)
            """
        )
    )
    box = confine(
        [sys.executable, "-I", f"{CODE}/prog.py"], SandboxSpec(mounts=mounts_for(code, data))
    )
    p = box.popen(stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert p.stdout.readline() == b"started\n"
        for _ in range(200):
            if _count(marker) == 5:
                break
            time.sleep(0.05)
        assert _count(marker) == 5
        os.kill(p.pid, signal.SIGKILL)  # only the outermost process: the rest must follow
        p.wait(10)
        for _ in range(200):
            if _count(marker) == 0:
                break
            time.sleep(0.05)
        assert _count(marker) == 0
    finally:
        box.close()


def _count(marker: str) -> int:
    n = 0
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    with open(f"/proc/{pid}/stat", "rb") as f:
                        n += f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
        except OSError:
            continue
    return n


def test_filesystem_is_read_only_but_scratch(world):
    code, data = world
    proc, _, _ = _run(
        world,
        f"""
        import os
        for path in ("{CODE}/x", "{DATA}/tiny.data/train.txt", "/usr/x", "/x",
                     "{sys.prefix}/x"):
            try:
                open(path, "a").write("x")
                print("wrote", path)
            except OSError as e:
                print("refused", path, e.errno)
        for path in ("/home/worker/x", "/tmp/x", "/dev/shm/x"):
            open(path, "w").write("ok")
            print("scratch", path)
        """,
    )
    assert "wrote" not in proc.stdout, proc.stdout + proc.stderr
    assert proc.stdout.count("scratch") == 3
    assert (data / "train.txt").read_text() == "data\n"


def test_memory_limit_counts_shared_memory_and_tmpfs(world):
    # 600 MB written to /dev/shm and /tmp under a 256 MB limit: files, not process memory,
    # which RLIMIT_DATA never sees.
    proc, box, oom = _run(
        world,
        """
        block = b"x" * (1 << 20)
        for path in ("/dev/shm/a", "/tmp/b"):
            with open(path, "wb") as f:
                for _ in range(300):
                    f.write(block)
        print("survived")
        """,
        memory=256 << 20,
        scratch_bytes=4 << 30,
    )
    assert "survived" not in proc.stdout
    if box.record["limits"]["memory"].startswith("cgroup"):
        assert proc.returncode == 128 + signal.SIGKILL, (proc.returncode, proc.stderr)
        assert oom, "the cgroup recorded no OOM kill"
    else:  # no cgroup for this user: each tmpfs is bounded by its size instead
        assert proc.returncode != 0


def test_tmpfs_size_holds_without_any_memory_limit(world):
    proc, _, _ = _run(
        world,
        """
        try:
            with open("/dev/shm/a", "wb") as f:
                for _ in range(64):
                    f.write(b"x" * (1 << 20))
            print("wrote all")
        except OSError as e:
            print("full", e.errno)
        """,
        scratch_bytes=16 << 20,
    )
    assert "full 28" in proc.stdout, proc.stdout + proc.stderr  # ENOSPC


def test_process_limit_holds(world):
    proc, box, _ = _run(
        world,
        """
        import os, time
        n = 0
        try:
            for _ in range(200):
                if os.fork() == 0:
                    time.sleep(30)
                    os._exit(0)
                n += 1
            print("forked", n)
        except BlockingIOError:
            print("stopped at", n)
        # Exiting is enough: the children die with the namespace.
        """,
        max_processes=32,
    )
    assert "stopped at" in proc.stdout, proc.stdout + proc.stderr
    assert int(proc.stdout.split("stopped at")[1].split()[0]) < 32
    assert box.record["limits"]["processes"] in ("cgroup v1", "cgroup v2", "RLIMIT_NPROC")


def test_fail_closed_without_bwrap(tmp_path):
    # A real interpreter that cannot find bwrap: one clear refusal, the way to fix it.
    code = "from autodl.ingestion.sandbox import require; require()"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "SandboxUnavailable: cannot confine the submission: bubblewrap (bwrap) is not " in (
        proc.stderr
    )
    assert "apt-get install bubblewrap" in proc.stderr and "--sandbox none" in proc.stderr
