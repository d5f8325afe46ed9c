"""Can a sandbox be made on this machine? Asked once per process, answered with a reason.

The probe runs the real thing (``bwrap`` with every namespace the worker gets, around
``true``) rather than reading sysctls: user namespaces can be off in several ways
(``kernel.unprivileged_userns_clone``, ``user.max_user_namespaces``, AppArmor's
``restrict_unprivileged_userns``, a seccomp filter in a container) and only trying
tells them all apart from a working setup.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from dataclasses import dataclass

INSTALL_HINT = (
    "install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install "
    "bubblewrap), or pass --sandbox none to run trusted code unconfined"
)


class SandboxUnavailable(RuntimeError):
    """No sandbox can be made: the run must not start (the message says why and what to do)."""


@dataclass(frozen=True)
class ProbeResult:
    bwrap: str | None  # the bwrap executable, when found
    ok: bool
    reason: str | None = None  # why not, when not ok
    version: str | None = None


# Every namespace and option the worker's sandbox uses, so a refusal shows here, early.
_PROBE_ARGS = [
    "--unshare-user",
    "--unshare-pid",
    "--unshare-net",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
    "--die-with-parent",
    "--new-session",
    "--cap-drop",
    "ALL",
    "--ro-bind",
    "/",
    "/",
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--size",
    "1048576",
    "--tmpfs",
    "/tmp",
]


@functools.lru_cache(maxsize=1)
def probe() -> ProbeResult:
    """Whether bwrap exists and can make the worker's namespaces here (cached)."""
    exe = shutil.which("bwrap")
    if exe is None:
        return ProbeResult(None, False, "bubblewrap (bwrap) is not installed")
    try:
        version = subprocess.run(
            [exe, "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout.strip()
        proc = subprocess.run(
            [exe, *_PROBE_ARGS, "true"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError) as e:
        return ProbeResult(exe, False, f"{exe} could not be run: {e}")
    if proc.returncode != 0:
        said = proc.stderr.strip().splitlines()
        detail = said[-1] if said else f"exit code {proc.returncode}"
        return ProbeResult(
            exe,
            False,
            f"{exe} cannot create the namespaces ({detail}); user namespaces may be "
            "disabled (sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces, "
            "or AppArmor's kernel.apparmor_restrict_unprivileged_userns=0), or a container "
            "forbids them",
            version,
        )
    return ProbeResult(exe, True, None, version)


def require() -> ProbeResult:
    """The probe's result, or :class:`SandboxUnavailable` with one message saying what to do."""
    found = probe()
    if not found.ok:
        raise SandboxUnavailable(
            f"cannot confine the submission: {found.reason}. To fix: {INSTALL_HINT}."
        )
    return found
