"""One confined worker: the sandbox's command line, its cgroup, and what the record says.

:func:`confine` is the only entry point the supervisor needs: given the worker command,
the host paths to show read-only and the limits, it returns the argv to start (joining
the cgroup, then bwrap, then the worker), the cgroup to read and remove afterwards, the
rlimits the worker still sets on itself where no cgroup holds a limit, and the
``isolation`` fields of ``ingestion.json``.

``mode="none"`` is the trusted-code escape hatch: nothing is confined, and the record
says so. ``mode="bwrap"`` fails closed: :class:`~.check.SandboxUnavailable` when bwrap
cannot make the namespaces here.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autodl.ingestion.sandbox import bwrap as bwrap_mod
from autodl.ingestion.sandbox import cgroups
from autodl.ingestion.sandbox.check import require

if TYPE_CHECKING:
    from autodl.ingestion.interpreter import WorkerPython

MODES = ("bwrap", "container", "none")
# What "container" means: ingestion runs inside a container made by the Docker runner,
# which is the sandbox (read-only mounts of code and data alone, no network, its memory,
# CPU and process limits); bubblewrap cannot nest inside it without loosening it.
_CONTAINER_NOTE = (
    "confined by its container: read-only code and data, no network, the container's "
    "memory, CPU and process limits (docs/docker.md)"
)
# The cgroup namespace is asked with --unshare-cgroup-try (not every kernel has it): not
# listed as a guarantee.
NAMESPACES = ("user", "mount", "pid", "network", "ipc", "uts")


@dataclass
class SandboxSpec:
    """What the worker gets. Sizes in bytes; None means no limit."""

    mode: str = "bwrap"
    mounts: list[bwrap_mod.Mount] = field(default_factory=list)
    memory: int | None = None
    max_processes: int | None = None
    scratch_bytes: int = 1 << 30
    network: bool = False
    gpu: bool = False
    cwd: str = bwrap_mod.HOME


@dataclass
class Confinement:
    """How to start the confined worker and what held."""

    argv: list[str]
    cgroup: cgroups.Cgroup | None
    rlimits: dict[str, int]  # what the worker sets on itself (where no cgroup limit holds)
    record: dict[str, Any]  # the ``sandbox`` part of ingestion.json's isolation
    # bwrap's options, read from a pipe (``--args FD``) rather than its command line: its
    # init is pid 1 of the worker's namespace, and /proc/1/cmdline would show every
    # host path the sandbox is made of.
    bwrap_options: list[str] | None = None

    def popen(self, pass_fds: tuple[int, ...] = (), **kwargs: Any) -> subprocess.Popen:
        """Start the confined command (``subprocess.Popen`` keywords)."""
        if self.bwrap_options is None:
            return subprocess.Popen(self.argv, pass_fds=pass_fds, **kwargs)
        data = b"".join(o.encode() + b"\0" for o in self.bwrap_options)
        r, w = os.pipe()
        try:
            if len(data) > 65536:  # a pipe's default capacity: written before bwrap reads
                raise ValueError("bwrap options over 64 KiB")
            os.write(w, data)
            os.close(w)
            w = -1
            argv = [a if a != "{ARGS_FD}" else str(r) for a in self.argv]
            return subprocess.Popen(argv, pass_fds=(*pass_fds, r), **kwargs)
        finally:
            os.close(r)
            if w >= 0:
                os.close(w)

    def out_of_memory(self) -> bool:
        """Whether the kernel's OOM killer acted inside the run's cgroup."""
        return self.cgroup is not None and self.cgroup.oom_kills() > 0

    def close(self) -> None:
        """Kill whatever is left in the cgroup and remove it (idempotent)."""
        if self.cgroup is not None:
            self.cgroup.remove()
            self.cgroup = None


def _rlimits(spec: SandboxSpec, held: dict[str, int]) -> dict[str, int]:
    """The worker's own rlimits: RLIMIT_DATA gives a model a MemoryError it can report
    before any kill; where no cgroup holds a limit, RLIMIT_AS and RLIMIT_NPROC do."""
    found: dict[str, int] = {}
    if spec.memory:
        found["RLIMIT_DATA"] = int(spec.memory)
        if "memory" not in held and spec.mode == "bwrap":
            found["RLIMIT_AS"] = int(spec.memory)
    if spec.max_processes and "pids" not in held:
        found["RLIMIT_NPROC"] = int(spec.max_processes)
    return found


def confine(worker: list[str], spec: SandboxSpec, status_fd: int | None = None) -> Confinement:
    """The confined command for ``worker`` (raises SandboxUnavailable in mode bwrap)."""
    if spec.mode not in MODES:
        raise ValueError(f"unknown sandbox {spec.mode!r} (expected one of {', '.join(MODES)})")
    if spec.mode in ("none", "container"):
        record = {
            "kind": "docker" if spec.mode == "container" else "none",
            "namespaces": [],
            "note": _CONTAINER_NOTE
            if spec.mode == "container"
            else "--sandbox none: the submission ran unconfined (trusted code only)",
            "limits": {
                "memory": "rlimit" if spec.memory else None,
                "processes": "rlimit" if spec.max_processes else None,
            },
            "cgroup": None,
        }
        return Confinement(list(worker), None, _rlimits(spec, {}), record)
    found = require()
    group, notes = (None, [])
    if spec.memory or spec.max_processes:
        group, notes = cgroups.create(spec.memory, spec.max_processes)
    held = group.held if group else {}
    scratch = spec.scratch_bytes
    if spec.memory and "memory" not in held:
        # No cgroup counts tmpfs pages: the files a run can hold stay under its memory.
        scratch = min(scratch, int(spec.memory))
    argv = bwrap_mod.command(
        worker,
        spec.mounts,
        bwrap=found.bwrap or "bwrap",
        scratch_bytes=scratch,
        network=spec.network,
        gpu=spec.gpu,
        cwd=spec.cwd,
        status_fd=status_fd,
    )
    split = argv.index("--")
    options, argv = argv[1:split], [argv[0], "--args", "{ARGS_FD}", *argv[split:]]
    argv = cgroups.join_command(group, argv)
    rl = _rlimits(spec, held)
    limits = {
        "memory": None
        if not spec.memory
        else (f"cgroup v{group.version}" if "memory" in held else "RLIMIT_AS"),
        "processes": None
        if not spec.max_processes
        else (f"cgroup v{group.version}" if "pids" in held else "RLIMIT_NPROC"),
        "scratch_bytes": scratch,
    }
    namespaces = [n for n in NAMESPACES if spec.network is False or n != "network"]
    record = {
        "kind": "bwrap",
        "bwrap": found.version,
        "namespaces": namespaces,
        "network": "host" if spec.network else "none (own loopback only)",
        "limits": limits,
        "cgroup": None if group is None else f"v{group.version}",
        "note": "; ".join(notes) or None,
    }
    return Confinement(argv, group, rl, record, options)


CODE = "/sandbox/code"
DATA = "/sandbox/data"


def mounts_for(code: Path, data: Path, python: WorkerPython | None = None) -> list[bwrap_mod.Mount]:
    """The interpreter (``python``, default ours) and autodl at their own paths; the code
    at :data:`CODE` and the ``<name>.data`` folder at ``DATA/<name>.data``, all read-only."""
    import autodl

    found = bwrap_mod.python_mounts(Path(autodl.__file__).resolve().parent, python)
    found.append(bwrap_mod.Mount(str(code), CODE))
    found.append(bwrap_mod.Mount(str(data), f"{DATA}/{data.name}"))
    return found
