"""The bubblewrap command line that builds the worker's world.

Everything the worker may see is named here; anything not named does not exist for it:

- namespaces: user (the worker is uid/gid 65534 inside, with no capability and no way
  to make a nested user namespace), mount, PID (it sees its own processes only; when
  bwrap's init dies the kernel kills the rest), network (only its own loopback, unless
  ``network``), IPC, UTS, cgroup; a new session (no terminal to inject into);
- files: the system's ``/usr`` (and the ``/bin``, ``/lib*`` links into it), a few
  files of ``/etc`` the dynamic loader and Python read, the interpreter and its
  libraries, and the :class:`Mount` list (the submission's code, the split's data),
  all read-only; a fresh ``/proc`` of its PID namespace; a minimal ``/dev``;
  size-limited private tmpfs for ``/tmp``, ``/dev/shm`` and the home.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from autodl.ingestion.interpreter import WorkerPython

INSIDE_UID = 65534
HOME = "/home/worker"
_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_ETC = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/alternatives",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
)
# Read by numerical libraries to count CPUs and caches; describes hardware only.
_SYS = ("/sys/devices/system/cpu",)


@dataclass(frozen=True)
class Mount:
    """A host path shown read-only at ``target`` (the same path when None)."""

    source: str
    target: str | None = None


def _system_mounts() -> list[str]:
    args: list[str] = []
    for path in _SYSTEM:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for path in (*_ETC, *_SYS):
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    return args


def _gpu_devices() -> list[str]:
    """NVIDIA device nodes, when the model is to have a GPU."""
    args: list[str] = []
    try:
        names = sorted(n for n in os.listdir("/dev") if n.startswith("nvidia"))
    except OSError:
        return args
    for name in names:
        path = f"/dev/{name}"
        if os.path.isdir(path):
            continue
        args += ["--dev-bind", path, path]
    return args


def command(
    worker: list[str],
    mounts: list[Mount],
    *,
    bwrap: str = "bwrap",
    scratch_bytes: int = 1 << 30,
    network: bool = False,
    gpu: bool = False,
    cwd: str = HOME,
    status_fd: int | None = None,
) -> list[str]:
    """The argv running ``worker`` inside the sandbox.

    ``scratch_bytes`` caps the private tmpfs together (home, ``/tmp``, ``/dev/shm``); a
    cgroup, when there is one, also counts them in the run's memory.
    ``status_fd``: bwrap writes the namespaces and the inner pid, then the exit code, as
    JSON there.
    """
    args = [
        bwrap,
        "--unshare-user",
        "--uid",
        str(INSIDE_UID),
        "--gid",
        str(INSIDE_UID),
        "--disable-userns",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--hostname",
        "sandbox",
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
    ]
    if not network:
        args.append("--unshare-net")
    args += _system_mounts()
    args += ["--proc", "/proc", "--dev", "/dev"]
    if gpu:
        args += _gpu_devices()
    # One budget for the three: half for the home (TMPDIR lives there), a quarter each
    # for /tmp and /dev/shm, so what a submission can park in files is scratch_bytes.
    # They come before the read-only mounts: an interpreter or a checkout that lives under
    # the host's /tmp (a venv in a CI clone) is then mounted over the private /tmp, not
    # hidden by it.
    total = int(scratch_bytes)
    for path, share in ((HOME, total // 2), ("/tmp", total // 4), ("/dev/shm", total // 4)):
        args += ["--perms", "0700", "--size", str(max(share, 1 << 20)), "--tmpfs", path]
    seen: set[str] = set()
    for m in mounts:
        target = m.target or m.source
        if target in seen:
            continue
        seen.add(target)
        args += ["--ro-bind", m.source, target]
    args += ["--remount-ro", "/", "--chdir", cwd]
    if status_fd is not None:
        args += ["--json-status-fd", str(status_fd)]
    return [*args, "--", *worker]


def python_mounts(package_dir: Path, python: WorkerPython | None = None) -> list[Mount]:
    """The interpreter, its standard library and packages, and the ``autodl`` package.

    ``python``: the worker's interpreter (default: ours), its prefixes and sys.path as it
    reported them. Only those folders: a sys.path entry such as the repository root of an
    editable install would otherwise show everything beside the package (tests, data,
    notes).
    """
    import sys

    if python is None:
        from autodl.ingestion.interpreter import current

        python = current()
    found: list[Mount] = []
    raw = python.prefixes or (sys.base_prefix, sys.prefix, sys.exec_prefix)
    prefixes = {os.path.realpath(p) for p in raw}
    found += [Mount(p) for p in sorted(prefixes)]
    for p in raw:
        if os.path.realpath(p) != p and os.path.isdir(p):
            found.append(Mount(os.path.realpath(p), p))  # reached through a link
    exe = python.executable
    real = os.path.realpath(exe)
    if not any(real.startswith(q + os.sep) for q in prefixes):
        found.append(Mount(real))
    pkg = str(package_dir.resolve())
    for entry in python.path:
        if not entry or not os.path.isdir(entry):
            continue
        e = os.path.realpath(entry)
        if any(e == q or e.startswith(q + os.sep) for q in prefixes):
            continue
        if pkg.startswith(e + os.sep):
            continue  # the folder above autodl: only the package itself is shown
        if e.startswith(_SYSTEM):
            continue
        found.append(Mount(e))
    found.append(Mount(pkg))
    return found
