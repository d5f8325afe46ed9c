"""How a worker that ended without an answer is explained: the status and the message.

The evidence, in order: the out-of-memory kills its cgroup counted (the kernel's word,
the only ground for ``out_of_memory`` besides a MemoryError the worker reports), then
the signal or exit code. Under bwrap the process we started is bwrap, which exits with
the worker's code, or 128 + the signal that killed it.
"""

from __future__ import annotations

import signal

from autodl.protocol import Status

_SIGNAL_WHY = {
    "SIGSEGV": "segmentation fault",
    "SIGBUS": "bus error",
    "SIGABRT": "abort",
    "SIGFPE": "floating-point exception",
    "SIGILL": "illegal instruction",
    "SIGKILL": "killed",
    "SIGTERM": "terminated",
}
# Signals that end a process from outside rather than from its own fault.
_KILLS = {signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT}


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def explain(rc: int, stage: str, *, bwrap: bool, oom_kills: int, memory_limit: int | None):
    """``(status, message)`` for a worker that exited with ``rc`` during ``stage``."""
    signum = -rc if rc < 0 else (rc - 128 if bwrap and 128 < rc < 128 + 65 else None)
    if oom_kills:
        limit = f" of {memory_limit} bytes" if memory_limit else ""
        return Status.OUT_OF_MEMORY, (
            f"the kernel's out-of-memory killer ended the worker during {stage}: its "
            f"cgroup's memory limit{limit} (shared memory and tmpfs files included) was reached"
        )
    if signum is None:
        return Status.CRASHED, (
            f"the worker exited with code {rc} during {stage} without an answer "
            "(os._exit or a crash in native code)"
        )
    name = signal_name(signum)
    if signum in _KILLS:
        return Status.KILLED, (
            f"the worker was killed by {name} during {stage}, not by a limit of ours "
            "(no out-of-memory kill was recorded)"
        )
    why = _SIGNAL_WHY.get(name, name)
    return Status.CRASHED, f"the worker died from {name} ({why}) during {stage}"
