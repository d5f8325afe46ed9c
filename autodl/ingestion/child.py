"""The worker as the supervisor's child process: started in its sandbox with its pipes,
and ended with everything it started.

:meth:`Child.start` opens the three pipes (our messages, its answers, its output),
starts the worker through :mod:`.sandbox.spawn` and keeps what the exchange needs: the
process, its confinement, a :class:`~.messages.Reader` watching a pidfd, and the
:class:`~.output.OutputPump`. :meth:`Child.stop` asks, then signals, then kills the
whole tree and the cgroup; :meth:`Child.close` lets go of the descriptors.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from autodl.ingestion import limits as limits_mod
from autodl.ingestion.launch import Launch
from autodl.ingestion.messages import MessageTimeout, Reader, send
from autodl.ingestion.options import IngestionOptions
from autodl.ingestion.output import OutputPump
from autodl.ingestion.progress import Progress
from autodl.ingestion.sandbox import SandboxSpec
from autodl.ingestion.sandbox import spawn as spawn_mod
from autodl.ingestion.sandbox.box import Confinement
from autodl.resources import parse_gpus


class Child:
    """One worker process; every field stays None until :meth:`start` sets it, so
    :meth:`stop` and :meth:`close` are safe at any point of a run."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.box: Confinement | None = None
        self.reader: Reader | None = None
        self.to_worker: int | None = None
        self.pidfd: int | None = None
        self.pump: OutputPump | None = None
        self.start_ticks: int | None = None  # tells its pid from a later reuse

    def start(
        self,
        launch: Launch,
        options: IngestionOptions,
        progress: Progress,
        isolation: dict,
    ) -> None:
        """Start the worker; its limits go into ``launch.init`` and ``isolation``."""
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        out_r, out_w = os.pipe()
        spec = SandboxSpec(
            mode=options.sandbox,
            mounts=launch.mounts,
            memory=options.memory,
            max_processes=options.max_processes,
            scratch_bytes=options.scratch_bytes,
            network=options.network,
            gpu=parse_gpus(options.gpus) != [],
        )
        user = launch.user
        try:
            self.proc, self.box = spawn_mod.start(
                [*launch.cmd, str(to_worker_r), str(from_worker_w)],
                launch.env,
                spec,
                cwd=launch.home,
                pass_fds=(to_worker_r, from_worker_w),
                stdout=out_w,
                uid=user.uid if user.dropped else None,
                gid=user.gid if user.dropped else None,
            )
        except BaseException:
            for fd in (to_worker_w, from_worker_r, out_r):  # ours, never handed on
                os.close(fd)
            raise
        finally:
            for fd in (to_worker_r, from_worker_w, out_w):
                os.close(fd)
        launch.init["rlimits"] = self.box.rlimits
        self.start_ticks = limits_mod.start_ticks(self.proc.pid)
        isolation.update(
            memory_limit=options.memory,
            process_limit=options.max_processes,
            cpu_threads=options.cpu_threads,
            sandbox=self.box.record,
        )
        try:
            self.pidfd = os.pidfd_open(self.proc.pid)
        except (AttributeError, OSError):
            self.pidfd = None
        self.to_worker = to_worker_w
        self.reader = Reader(from_worker_r, watch=self.pidfd)
        self.pump = OutputPump(
            out_r, options.echo or sys.stdout.buffer, options.max_output_bytes, progress
        )
        self.pump.start()

    def stop(self, polite: bool, kill_grace: float) -> None:
        """End the worker and everything it started. ``polite``: ask first, then TERM."""
        if self.proc is None:
            return
        if polite and self.proc.poll() is None:
            try:
                send(self.to_worker, {"op": "exit"}, deadline=time.monotonic() + 1.0)
                self.proc.wait(timeout=1.0)
            except (OSError, subprocess.TimeoutExpired, MessageTimeout):
                pass
        if self.proc.poll() is None:
            limits_mod.signal_group(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=kill_grace)
            except subprocess.TimeoutExpired:
                pass
        limits_mod.kill_tree(self.proc.pid, self.start_ticks)
        if self.box is not None:
            self.box.close()  # whatever is left in the cgroup, then the cgroup itself
        try:
            self.proc.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            pass

    def close(self) -> None:
        """Close the confinement and our descriptors; let the output pump finish."""
        if self.box is not None:
            self.box.close()
        for fd in (self.to_worker, self.pidfd, self.reader.fd if self.reader else None):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        if self.pump is not None:
            self.pump.join(timeout=2.0)
