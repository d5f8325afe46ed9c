"""Ending a runaway ingestion from the scoring side, by the pid in ``start.txt``.

The scorer only knows a number written by another program, so it checks that the number
still names that ingestion before signalling it.
"""

from __future__ import annotations

import os
import signal
import time

# A process that started longer than this before start.txt's start_time is not the ingestion.
INGESTION_SETUP_LIMIT = 2 * 3600.0


def is_alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie counts as ended)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie has ended; only its parent's wait() is missing
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def process_start_time(pid: int) -> float | None:
    """Epoch seconds at which ``pid`` started (Linux /proc); None when unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        with open("/proc/stat", "rb") as f:
            boot = next(float(ln.split()[1]) for ln in f if ln.startswith(b"btime"))
        return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def ingestion_pid_problem(pid: int, start_time: float) -> str | None:
    """Why scoring must not signal ``pid`` as the ingestion that wrote start.txt, or None.

    Never pid <= 1, scoring itself or its parent. And the ingestion started shortly before
    its ``start_time`` (model construction has its own 20-minute budget): a process with
    that pid that started after it, or more than ``INGESTION_SETUP_LIMIT`` before it,
    belongs to another pid namespace (a container) or reused the number.
    """
    if pid <= 1 or pid in (os.getpid(), os.getppid()):
        return f"pid {pid} is not a process scoring may end; left alone"
    started = process_start_time(pid)
    if started is not None and not (
        start_time - INGESTION_SETUP_LIMIT <= started <= start_time + 1.0
    ):
        return (
            f"pid {pid} started {started - start_time:+.0f} s from start.txt's start_time, "
            "so it is not the ingestion; left alone"
        )
    return None


def end_process(pid: int, term_timeout: float = 5.0) -> str:
    """End ``pid``: its process group when it leads one (and it is not ours), else the pid.

    SIGTERM, then SIGKILL after ``term_timeout`` seconds. Returns a one-line account.
    """
    if pid <= 1 or pid in (os.getpid(), os.getppid()):
        return f"pid {pid} is not a process scoring may end; left alone"
    try:
        pgid = os.getpgid(pid)
    except ProcessLookupError:
        return f"pid {pid} had already ended"
    group = pgid == pid and pgid != os.getpgrp()

    def send(sig: signal.Signals) -> None:
        try:
            if group:
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)
        except ProcessLookupError:
            pass

    what = f"process group {pid}" if group else f"pid {pid}"
    send(signal.SIGTERM)
    deadline = time.monotonic() + term_timeout
    while is_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if not is_alive(pid):
        return f"ended {what} with SIGTERM"
    send(signal.SIGKILL)
    deadline = time.monotonic() + 2.0
    while is_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return f"ended {what} with SIGKILL (SIGTERM was ignored for {term_timeout:g} s)"
