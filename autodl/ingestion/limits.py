"""What confines the worker process: user, rlimits, CPU threads, and how to end it for good.

Used by the supervisor only (trusted side). Linux-first; every function degrades to a
no-op where the kernel or the platform does not offer the mechanism.

- **User.** When the supervisor runs as root, the worker runs as an unprivileged uid
  (default 65534, ``nobody``) so it can write neither the output folder nor
  ``start.txt``. The drop needs the interpreter and the installed packages to be
  readable by that uid; when they are not (a Python under a ``0700`` ``/root``), the
  worker keeps the supervisor's uid and the reason is reported.
- **Limits.** Memory is ``RLIMIT_DATA`` (private writable memory: heap and anonymous
  maps; unlike ``RLIMIT_AS`` it leaves CUDA's address-space reservations alone), the
  number of processes and threads is ``RLIMIT_NPROC`` (counted per real uid, so it binds
  only under a dropped uid, and root ignores it), CPU threads go through the usual
  environment variables of OpenMP, MKL, OpenBLAS, TensorFlow and PyTorch.
- **Ending.** The worker leads its own process group; :func:`kill_tree` also finds the
  processes that left the group (``setsid``) through the parent links in ``/proc``, and
  the supervisor is a child subreaper so that orphans re-parent to it, not to init.
"""

from __future__ import annotations

import ctypes
import os
import signal
import stat
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from autodl.proc import processes, read_stat, signal_group
from autodl.proc import start_ticks as start_ticks  # the supervisor's, re-exported
from autodl.resources import parse_size  # noqa: F401  (re-exported: tests/ingestion/test_parts.py)

NOBODY = 65534
_PR_SET_CHILD_SUBREAPER = 36

THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
)


@dataclass(frozen=True)
class WorkerUser:
    """The uid/gid the worker runs as; ``dropped`` is False when it keeps ours."""

    uid: int
    gid: int
    dropped: bool
    reason: str | None = None


@dataclass(frozen=True)
class Limits:
    """Optional resource limits of the worker (``None``: no limit)."""

    memory_bytes: int | None = None
    max_processes: int | None = None
    cpu_threads: int | None = None


def thread_env(cpu_threads: int | None) -> dict[str, str]:
    """Environment variables that cap the CPU threads of the usual numerical libraries."""
    if not cpu_threads:
        return {}
    return {name: str(int(cpu_threads)) for name in THREAD_VARIABLES}


def _accessible(path: Path, uid: int, gids: Iterable[int], want: int) -> bool:
    """Whether ``uid`` may traverse every folder above ``path`` and has ``want`` on it.

    ``want`` is a mode mask for "other" (4 read, 2 write, 1 execute); owner and group
    classes are shifted from it.
    """
    gids = set(gids)
    try:
        chain = [path, *path.parents]
        for i, p in enumerate(chain):
            st = os.stat(p)
            need = want if i == 0 else 1  # folders above: execute (traverse)
            if st.st_uid == uid:
                mode = (st.st_mode >> 6) & 7
            elif st.st_gid in gids:
                mode = (st.st_mode >> 3) & 7
            else:
                mode = st.st_mode & 7
            if mode & need != need:
                return False
    except OSError:
        return False
    return True


def can_read(path: Path, user: WorkerUser) -> bool:
    """Whether the worker's user may list and read ``path`` (a folder) where it is."""
    return not user.dropped or _accessible(path, user.uid, [user.gid], 5)


def runtime_paths() -> list[Path]:
    """What the worker must read to start: the interpreter, stdlib, packages, autodl."""
    import autodl

    paths = {Path(os.path.realpath(sys.executable))}
    paths.add(Path(autodl.__file__).resolve().parent)
    # sys.path[0] is the supervisor's own start folder (its working folder under
    # `python -m`, its script's folder otherwise): the worker starts elsewhere and never
    # imports from there, and autodl's own folder is already listed above.
    first = 0 if getattr(sys.flags, "safe_path", False) else 1  # -P: no such entry (3.11+)
    for entry in sys.path[first:]:
        if entry and os.path.isdir(entry):
            paths.add(Path(entry).resolve())
    return sorted(paths)


def _id_mapped(xid: int, map_file: str) -> bool:
    """True when ``xid`` exists in our user namespace (always, outside of one)."""
    try:
        lines = Path(map_file).read_text().splitlines()
    except OSError:
        return True
    for line in lines:
        inside, _, count = (int(x) for x in line.split())
        if inside <= xid < inside + count:
            return True
    return False


def choose_user(
    requested_uid: int | None = NOBODY, runtime: list[Path] | None = None
) -> WorkerUser:
    """The user the worker runs as: ``requested_uid`` when we are root and it can run.

    ``requested_uid=None`` keeps the supervisor's uid. ``runtime``: what the worker must
    read to start (default: :func:`runtime_paths`, our interpreter's).
    """
    uid, gid = os.getuid(), os.getgid()
    if requested_uid is None:
        return WorkerUser(uid, gid, False, "privilege drop disabled")
    if os.geteuid() != 0:
        return WorkerUser(uid, gid, False, "not running as root: the worker keeps this uid")
    if requested_uid == uid:
        return WorkerUser(uid, gid, False, f"the requested worker uid is ours ({uid})")
    if not _id_mapped(requested_uid, "/proc/self/uid_map"):
        # Root of a user namespace (unshare --map-root-user) that maps no other uid.
        return WorkerUser(
            uid, gid, False, f"uid {requested_uid} has no mapping in this user namespace"
        )
    new_gid = requested_uid
    try:
        import pwd

        new_gid = pwd.getpwuid(requested_uid).pw_gid
    except (KeyError, ImportError):
        pass
    for p in runtime if runtime is not None else runtime_paths():
        want = 5 if p.is_dir() else 4
        if not _accessible(p, requested_uid, [new_gid], want):
            return WorkerUser(
                uid, gid, False, f"uid {requested_uid} cannot read {p}: the worker keeps uid {uid}"
            )
    return WorkerUser(requested_uid, new_gid, True)


def make_accessible(path: Path, user: WorkerUser, writable: bool = False) -> None:
    """Give the worker's user ``path`` (a folder we created): ownership or read bits."""
    if not user.dropped:
        return
    if writable:
        os.chown(path, user.uid, user.gid)
        os.chmod(path, 0o700)
    else:
        os.chmod(path, 0o755)


def protect_output(path: Path, user: WorkerUser) -> str | None:
    """Make sure a dropped worker cannot write the output folder; a note when we changed it."""
    if not user.dropped:
        return None
    st = os.stat(path)
    note = None
    if st.st_uid == user.uid:
        os.chown(path, os.getuid(), os.getgid())
        note = f"{path}: was owned by the worker's uid {user.uid}, now by uid {os.getuid()}"
    if st.st_mode & (stat.S_IWOTH | stat.S_IWGRP):
        os.chmod(path, stat.S_IMODE(st.st_mode) & ~(stat.S_IWOTH | stat.S_IWGRP))
        note = f"{path}: group/other write permission removed for the run"
    return note


def rlimits(limits: Limits) -> dict[str, int]:
    """The rlimits the worker sets on itself, by ``resource`` constant name."""
    found = {}
    if limits.memory_bytes:
        found["RLIMIT_DATA"] = int(limits.memory_bytes)
    if limits.max_processes:
        found["RLIMIT_NPROC"] = int(limits.max_processes)
    return found


def set_subreaper() -> bool:
    """Make this process adopt its orphaned descendants (Linux ``PR_SET_CHILD_SUBREAPER``)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _proc_table() -> dict[int, tuple[int, int, bytes]]:
    """pid -> (ppid, start time in clock ticks, state letter) for every process in /proc."""
    return {pid: (st.ppid, st.start_ticks, st.state.encode()) for pid, st in processes().items()}


def descendants(root_pid: int, adopted_after: int | None = None) -> set[int]:
    """Processes under ``root_pid``, plus orphans adopted by this process since a start time.

    ``adopted_after`` is the worker's start time (clock ticks since boot, from
    ``/proc/<pid>/stat``): children of ours that started later are the worker's escapees
    re-parented to us as subreaper.
    """
    if not os.path.isdir("/proc"):
        return set()
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found: set[int] = set()
    roots = [root_pid]
    if adopted_after is not None:
        me = os.getpid()
        roots += [p for p in children.get(me, []) if p != root_pid and table[p][1] >= adopted_after]
        found.update(roots[1:])
    stack = list(roots)
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def kill_tree(worker_pid: int, worker_start: int | None, rounds: int = 50) -> None:
    """SIGKILL the worker's group and every descendant, including those that left it.

    Repeats until a scan finds nothing (a fork bomb keeps forking between two scans, but
    a killed process cannot fork), then reaps the ones re-parented to us.
    """
    signal_group(worker_pid, signal.SIGKILL)
    me = os.getpid()
    reap: set[int] = set()
    for _ in range(rounds):
        found = descendants(worker_pid, worker_start)
        found.discard(worker_pid)
        table = _proc_table()
        alive = set()
        for pid in found:
            if pid not in table:
                continue
            ppid, _, state = table[pid]
            if ppid == me:
                reap.add(pid)
            if state != b"Z":
                alive.add(pid)
        for pid in alive:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        _reap(reap)
        if not alive:
            break
        time.sleep(0.005)
    _reap(reap)


def _reap(pids: set[int]) -> None:
    for pid in list(pids):
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            pids.discard(pid)


def hide_command_line(replacement: str = "autodl ingest") -> bool:
    """Overwrite this process's command line as others read it (``/proc/<pid>/cmdline``).

    The supervisor's arguments name the task folder (beside its solution) and the output
    folder; ``/proc/<pid>/cmdline`` is readable by every user, the worker included. The
    kernel reads that text from the process's own memory (``arg_start`` to ``arg_end`` in
    ``/proc/self/stat``), which CPython copied into ``sys.argv`` at startup and never
    reads again, so blanking it is safe. Linux only; False where it could not be done.
    """
    if not sys.platform.startswith("linux"):
        return False
    st = read_stat("self")
    if st is None or st.arg_start is None or st.arg_end is None:
        return False
    start, end = st.arg_start, st.arg_end
    size = end - start
    if size <= 1:
        return False
    text = replacement.encode()[: size - 1]
    ctypes.memset(start, 0, size)
    ctypes.memmove(start, text, len(text))
    return True
