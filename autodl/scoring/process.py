"""Ending a runaway ingestion from the scoring side, by the pid in ``start.txt``.

The scorer only knows a number written by another program, so it checks that the number
still names that ingestion before signalling it. Reading ``/proc`` and sending signals
go through :mod:`autodl.proc`, which ingestion uses too.
"""

from __future__ import annotations

import os
import signal
import time

from autodl import proc
from autodl.proc import is_alive
from autodl.protocol import START_FILE

__all__ = ["INGESTION_SETUP_LIMIT", "end_process", "ingestion_pid_problem", "is_alive"]

# A process that started longer than this before start.txt's start_time is not the ingestion.
INGESTION_SETUP_LIMIT = 2 * 3600.0


def ingestion_pid_problem(pid: int, start_time: float) -> str | None:
    """Why scoring must not signal ``pid`` as the ingestion that wrote start.txt, or None.

    Never pid <= 1, scoring itself or its parent. And the ingestion started shortly before
    its ``start_time`` (model construction has its own 20-minute budget): a process with
    that pid that started after it, or more than ``INGESTION_SETUP_LIMIT`` before it,
    belongs to another pid namespace (a container) or reused the number.

    >>> ingestion_pid_problem(1, 0.0)
    'pid 1 is not a process scoring may end; left alone'
    """
    if pid <= 1 or pid in (os.getpid(), os.getppid()):
        return f"pid {pid} is not a process scoring may end; left alone"
    started = proc.start_time(pid)
    if started is not None and not (
        start_time - INGESTION_SETUP_LIMIT <= started <= start_time + 1.0
    ):
        return (
            f"pid {pid} started {started - start_time:+.0f} s from {START_FILE}'s start_time, "
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

    def send(sig: signal.Signals) -> bool:
        if group:
            return proc.signal_group(pid, sig)
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            return False
        return True

    what = f"process group {pid}" if group else f"pid {pid}"
    if not send(signal.SIGTERM) and is_alive(pid):
        return f"{what} may not be signalled by scoring (another user's); left alone"
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
