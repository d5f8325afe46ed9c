"""Start the worker: confined (bwrap, cgroup) or, with ``--sandbox none``, as it is.

The supervisor hands over the worker's command, environment, descriptors and a
:class:`~.box.SandboxSpec`; :func:`start` returns the process (the outermost one: the
cgroup-joining shell that execs bwrap) and the :class:`~.box.Confinement` to read and
close when the run is over.

As root, when the interpreter is readable by uid 65534, bwrap itself runs as 65534
(the worker is then nobody outside its namespace too); otherwise it runs as root
without a single capability, which the record says.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from autodl.ingestion.sandbox.box import Confinement, SandboxSpec, confine


def start(
    cmd: list[str],
    env: dict[str, str],
    spec: SandboxSpec,
    *,
    cwd: Path | str,
    pass_fds: tuple[int, ...],
    stdout: int,
    uid: int | None = None,
    gid: int | None = None,
) -> tuple[subprocess.Popen, Confinement]:
    """The started worker and its confinement (SandboxUnavailable before anything runs)."""
    box = confine(cmd, spec)
    kwargs: dict[str, Any] = {}
    if uid is not None and uid != os.getuid():
        kwargs.update(user=uid, group=gid, extra_groups=[])
        if box.cgroup is not None:
            # The shell joins the cgroup after the uid change: it may write its pid
            # there, not the limits (those files stay ours).
            for f in box.cgroup.procs_files:
                os.chown(f, uid, gid if gid is not None else -1)
    box.record["outside_uid"] = uid if uid is not None else os.getuid()
    try:
        proc = box.popen(
            pass_fds,
            env=env,
            cwd="/" if spec.mode == "bwrap" else cwd,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stdout,
            start_new_session=True,
            **kwargs,
        )
    except BaseException:
        box.close()
        raise
    return proc, box
