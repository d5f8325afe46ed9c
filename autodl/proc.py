"""Processes by pid (Linux ``/proc``): one reader of ``/proc/<pid>/stat``, and signals.

Both sides use it: ingestion's supervisor to find and end the worker's processes,
scoring to check that the pid in ``start.txt`` still names that ingestion before ending
it. It imports neither of them (scoring never imports ingestion). Off Linux every reader
answers None (or an empty table).

>>> st = parse_stat(b"42 (a (b) c) S 1 42 42" + b" 0" * 15 + b" 98765")
>>> st.pid, st.comm, st.state, st.ppid, st.pgid, st.start_ticks, st.arg_start
(42, 'a (b) c', 'S', 1, 42, 98765, None)
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = [
    "ProcStat",
    "boot_time",
    "is_alive",
    "parse_stat",
    "processes",
    "read_stat",
    "signal_group",
    "start_ticks",
    "start_time",
]

# Indices of proc(5)'s fields counted after the command name: field N is index N - 3.
_STATE, _PPID, _PGRP, _STARTTIME, _ARG_START, _ARG_END = 0, 1, 2, 19, 45, 46


@dataclass(frozen=True)
class ProcStat:
    """The fields of one ``/proc/<pid>/stat`` line that we use."""

    pid: int
    comm: str
    state: str  # R, S, D, Z (zombie), T, ...
    ppid: int
    pgid: int
    start_ticks: int  # clock ticks after boot
    arg_start: int | None = None  # where the command line lies in the process's memory
    arg_end: int | None = None  # (None on kernels before 3.5)

    @property
    def zombie(self) -> bool:
        return self.state == "Z"


def parse_stat(line: bytes | str) -> ProcStat:
    """Parse one ``/proc/<pid>/stat`` line; ``ValueError`` when it is not one.

    The command name is in parentheses and may itself hold spaces and parentheses (a
    process names itself), so the line is split at its last ``)``.

    >>> parse_stat("7 (x) Z 1 7 7" + " 0" * 15 + " 5").zombie
    True
    >>> parse_stat(b"7 x S")
    Traceback (most recent call last):
    ...
    ValueError: not a /proc/<pid>/stat line: b'7 x S'
    """
    data = line.encode() if isinstance(line, str) else bytes(line)
    head, paren, tail = data.rpartition(b")")
    pid, sep, comm = head.partition(b" (")
    fields = tail.split()
    try:
        if not (paren and sep):
            raise ValueError
        return ProcStat(
            pid=int(pid),
            comm=comm.decode(errors="replace"),
            state=fields[_STATE].decode(),
            ppid=int(fields[_PPID]),
            pgid=int(fields[_PGRP]),
            start_ticks=int(fields[_STARTTIME]),
            arg_start=int(fields[_ARG_START]) if len(fields) > _ARG_END else None,
            arg_end=int(fields[_ARG_END]) if len(fields) > _ARG_END else None,
        )
    except (IndexError, ValueError, UnicodeDecodeError):
        raise ValueError(f"not a /proc/<pid>/stat line: {data[:200]!r}") from None


def read_stat(pid: int | str = "self") -> ProcStat | None:
    """The stat of a process (``"self"``: this one); None when it is gone or unreadable."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return parse_stat(f.read())
    except (OSError, ValueError):
        return None


def processes() -> dict[int, ProcStat]:
    """Every process in ``/proc``, by pid (empty off Linux)."""
    try:
        names = os.listdir("/proc")
    except OSError:
        return {}
    table = {}
    for name in names:
        if name.isdigit():
            st = read_stat(name)
            if st is not None:
                table[int(name)] = st
    return table


def start_ticks(pid: int) -> int | None:
    """A process's start time in clock ticks since boot (None off Linux).

    >>> start_ticks(os.getpid()) == read_stat().start_ticks
    True
    """
    st = read_stat(pid)
    return st.start_ticks if st is not None else None


def boot_time() -> float | None:
    """Epoch seconds at which the machine booted (``btime`` of ``/proc/stat``)."""
    try:
        with open("/proc/stat", "rb") as f:
            return next(float(ln.split()[1]) for ln in f if ln.startswith(b"btime"))
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def start_time(pid: int) -> float | None:
    """Epoch seconds at which ``pid`` started; None when unknown."""
    ticks, boot = start_ticks(pid), boot_time()
    if ticks is None or boot is None:
        return None
    return boot + ticks / os.sysconf("SC_CLK_TCK")


def is_alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie has ended (only its parent's wait() is missing).

    >>> is_alive(os.getpid())
    True
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    st = read_stat(pid)
    return st is None or not st.zombie


def signal_group(pgid: int, sig: int) -> bool:
    """Send ``sig`` to a process group; False when no process is left in it or it may
    not be signalled (both mean: nothing more to do here)."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True
