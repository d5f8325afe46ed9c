"""Where a challenge's jobs run: the interface every backend offers, and the local one.

:func:`autodl.challenge.evaluate.run_challenge` plans the jobs, skips the finished ones,
hands the rest to a backend and ranks what comes back. A backend only runs jobs: each
finished job has its run folder at ``job.run_dir`` with ``result.json`` written last
(the same layout whichever backend ran it), and its result is reported as a ``"done"``
:class:`~autodl.challenge.runner.JobEvent`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from autodl.challenge.runner import Job, JobEvent, RunOptions, run_jobs
from autodl.protocol import RunResult

OnEvent = Callable[[JobEvent], None]


class Backend(Protocol):
    """Runs jobs and reports them; returns (the results of the jobs that finished,
    whether Ctrl-C interrupted the run). Unfinished jobs are left unrecorded."""

    def run(
        self, jobs: Sequence[Job], *, on_event: OnEvent, display: Any = None
    ) -> tuple[list[RunResult], bool]: ...


@dataclass
class LocalBackend:
    """Jobs in threads on this machine, ``n_jobs`` at a time and at most one per GPU."""

    n_jobs: int = 1
    gpus: Sequence[str] = ()
    options: RunOptions = field(default_factory=RunOptions)
    rerun_failed: bool = False

    @classmethod
    def create(
        cls,
        *,
        n_jobs: int = 1,
        gpus: Sequence[str] = (),
        docker_image: str | None = None,
        sandbox: str = "bwrap",
        rerun_failed: bool = False,
    ) -> LocalBackend:
        workers = min(n_jobs, len(gpus)) if gpus else n_jobs
        # Parallel CPU jobs share the cores instead of each claiming all of them.
        threads = None if gpus or workers <= 1 else max(1, (os.cpu_count() or 1) // workers)
        options = RunOptions(docker_image=docker_image, threads_per_job=threads, sandbox=sandbox)
        return cls(n_jobs, tuple(gpus), options, rerun_failed)

    def run(
        self, jobs: Sequence[Job], *, on_event: OnEvent, display: Any = None
    ) -> tuple[list[RunResult], bool]:
        # The display follows local jobs through their run folders (on_event's "start").
        return run_jobs(
            jobs,
            n_jobs=self.n_jobs,
            gpus=self.gpus,
            options=self.options,
            rerun_failed=self.rerun_failed,
            on_event=on_event,
        )
