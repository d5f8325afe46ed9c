"""Memory and process limits through a cgroup, and the kernel's own out-of-memory evidence.

A cgroup counts what rlimits cannot: shared memory, tmpfs pages and the page tables of
every process of the run together, and ``pids.max`` holds for a uid 0 as for any other.
Version 2 (one unified hierarchy) is used where the machine runs it and our cgroup lets
us make a child with the ``memory`` and ``pids`` controllers; otherwise the v1
``memory`` and ``pids`` hierarchies (``/sys/fs/cgroup/{memory,pids}``). Each controller
is tried on its own: :attr:`Cgroup.held` says which limits the kernel enforces, so the
caller can fall back to rlimits for the others and record it.

The worker joins the cgroup before it execs bwrap (:func:`join_command`), so nothing of
the submission ever runs outside it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")


def _own_paths() -> dict[str, str]:
    """Controller (``""`` for v2) -> our cgroup path, from ``/proc/self/cgroup``."""
    found: dict[str, str] = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        for name in parts[1].split(",") if parts[1] else [""]:
            found[name] = parts[2]
    return found


def _write(path: Path, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


def _read_key(path: Path, key: str) -> int:
    """``key N`` from a flat-keyed cgroup file (memory.events, memory.oom_control)."""
    try:
        for line in path.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    except (OSError, ValueError):
        pass
    return 0


@dataclass
class Cgroup:
    """One run's cgroup (v2) or pair of v1 cgroups; :meth:`remove` when the run is over."""

    version: int
    dirs: dict[str, Path]  # controller -> folder ("memory", "pids")
    held: dict[str, int] = field(default_factory=dict)  # controller -> the limit set
    notes: list[str] = field(default_factory=list)  # what could not be done, and why

    @property
    def procs_files(self) -> list[str]:
        """The ``cgroup.procs`` files a process writes its pid to, to join."""
        return sorted({str(d / "cgroup.procs") for d in self.dirs.values()})

    def oom_kills(self) -> int:
        """How many processes the kernel's OOM killer ended in this cgroup."""
        d = self.dirs.get("memory")
        if d is None:
            return 0
        if self.version == 2:
            return _read_key(d / "memory.events", "oom_kill")
        return _read_key(d / "memory.oom_control", "oom_kill")

    def memory_failures(self) -> int:
        """v1: how often the limit was hit (``memory.failcnt``); v2: ``max`` events."""
        d = self.dirs.get("memory")
        if d is None:
            return 0
        if self.version == 2:
            return _read_key(d / "memory.events", "max")
        try:
            return int((d / "memory.failcnt").read_text())
        except (OSError, ValueError):
            return 0

    def pids(self) -> set[int]:
        found: set[int] = set()
        for f in self.procs_files:
            with contextlib.suppress(OSError, ValueError):
                found.update(int(x) for x in Path(f).read_text().split())
        return found

    def kill(self, timeout: float = 5.0) -> bool:
        """SIGKILL every process in the cgroup until none is left; True when empty.

        A killed process cannot fork, so a fork chain empties within a few scans; v2's
        ``cgroup.kill`` does it in one step where the kernel has it (5.14+).
        """
        if self.version == 2:
            with contextlib.suppress(OSError):
                _write(self.dirs[next(iter(self.dirs))] / "cgroup.kill", "1")
        end = time.monotonic() + timeout
        while True:
            pids = self.pids()
            if not pids:
                return True
            if time.monotonic() > end:
                return False
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.002)

    def remove(self) -> None:
        self.kill()
        for d in {*self.dirs.values()}:
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)  # the last exits are still being accounted


def _limit_v2(d: Path, memory: int | None, processes: int | None, group: Cgroup) -> None:
    if memory:
        _write(d / "memory.max", str(int(memory)))
        with contextlib.suppress(OSError):
            _write(d / "memory.swap.max", "0")  # the limit is memory, not memory + swap
        group.held["memory"] = int(memory)
    if processes:
        _write(d / "pids.max", str(int(processes)))
        group.held["pids"] = int(processes)


def _create_v2(own: str, name: str, memory: int | None, processes: int | None) -> Cgroup | None:
    parent = ROOT / own.lstrip("/")
    try:
        available = (parent / "cgroup.controllers").read_text().split()
        enabled = (parent / "cgroup.subtree_control").read_text().split()
        wanted = [c for c in ("memory", "pids") if c in available and c not in enabled]
        if wanted:
            _write(parent / "cgroup.subtree_control", " ".join(f"+{c}" for c in wanted))
        d = parent / name
        d.mkdir()
    except OSError:
        return None
    group = Cgroup(2, {"memory": d, "pids": d})
    try:
        _limit_v2(d, memory, processes, group)
    except OSError as e:
        group.notes.append(f"cgroup v2 limit not set: {e}")
    return group


def _create_v1(paths: dict[str, str], name: str, memory: int | None, processes: int | None):
    dirs: dict[str, Path] = {}
    group = Cgroup(1, dirs)
    for controller, limit in (("memory", memory), ("pids", processes)):
        base = ROOT / controller
        if controller not in paths or not (base / "cgroup.procs").exists():
            group.notes.append(f"no cgroup v1 {controller} controller mounted at {base}")
            continue
        d = base / paths[controller].lstrip("/") / name
        try:
            d.mkdir()
        except OSError as e:
            group.notes.append(f"cannot create a {controller} cgroup: {e.strerror}")
            continue
        dirs[controller] = d
        if not limit:
            continue
        try:
            if controller == "memory":
                _write(d / "memory.limit_in_bytes", str(int(limit)))
                # memsw >= limit is required; equal means no swap beyond the limit.
                with contextlib.suppress(OSError):
                    _write(d / "memory.memsw.limit_in_bytes", str(int(limit)))
            else:
                _write(d / "pids.max", str(int(limit)))
            group.held[controller] = int(limit)
        except OSError as e:
            group.notes.append(f"cgroup v1 {controller} limit not set: {e.strerror}")
    return group if dirs else None


def create(memory: int | None, processes: int | None) -> tuple[Cgroup | None, list[str]]:
    """A fresh cgroup for one run with these limits, or None and the reasons why not."""
    paths = _own_paths()
    name = f"autodl-{os.getpid()}-{secrets.token_hex(4)}"
    if (ROOT / "cgroup.controllers").exists() and "" in paths and len(paths) == 1:
        group = _create_v2(paths[""], name, memory, processes)
        if group is not None:
            return group, group.notes
        return None, [f"cannot create a cgroup under {ROOT / paths[''].lstrip('/')}"]
    group = _create_v1(paths, name, memory, processes)
    if group is None:
        return None, ["no writable cgroup (v2 or v1 memory/pids) for this user"]
    return group, group.notes


def join_command(group: Cgroup | None, cmd: list[str]) -> list[str]:
    """``cmd`` preceded by a shell that moves itself into ``group``, then execs ``cmd``.

    The shell writes its own pid into every ``cgroup.procs`` before the exec, so the
    sandbox and all it starts are born inside; a failed write ends it (exit 125) and
    nothing runs outside the limits it was promised.
    """
    if group is None:
        return cmd
    files = group.procs_files
    script = 'for f in "$@"; do [ "$f" = -- ] && break; echo $$ > "$f" || exit 125; done; '
    script += 'while [ "$1" != -- ]; do shift; done; shift; exec "$@"'
    return ["/bin/sh", "-c", script, "sh", *files, "--", *cmd]
