"""What a run folder says while its job runs, fed to the terminal display.

It only reads the run folder's protocol and score files (as a platform's page would):
``start.txt`` (the clock, the rounds), ``end.txt`` (the clock stopped) and the live
scorer's ``scores.json`` (NAUC, ALC). :func:`job_events` turns a job source's
:class:`~autodl.challenge.runner.JobEvent` stream into :class:`autodl.display.Display`
calls, so local threads and any other backend show their jobs the same way.

>>> stage(LiveState(started=False))
'building the model'
>>> stage(LiveState(rounds=3, elapsed=12.0, time_budget=60.0, ended=True))
'final scoring'
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from autodl.challenge.results import read_score_record
from autodl.display import Display, JobUpdate
from autodl.protocol import ProtocolError, RunFolder, read_end, read_start

if TYPE_CHECKING:
    from autodl.challenge.runner import JobEvent

__all__ = ["LiveState", "job_events", "read_state", "run_folder_reader", "stage"]


@dataclass
class LiveState:
    started: bool = True  # start.txt exists: the model is built and the clock runs
    rounds: int = 0  # predictions made so far
    elapsed: float = 0.0
    time_budget: float = 0.0
    nauc: float | None = None
    alc: float | None = None
    ended: bool = False


def read_state(run_dir: str | os.PathLike[str], time_budget: float) -> LiveState:
    """What the run's files say now (never raises: a file may be half there)."""
    folder = RunFolder(run_dir)
    pred = folder.predictions
    try:
        start = read_start(pred)
    except (ProtocolError, OSError):
        return LiveState(started=False, time_budget=time_budget)
    state = LiveState(
        rounds=len(start.timestamps),
        elapsed=max(0.0, time.time() - start.start_time),
        time_budget=start.time_budget or time_budget,
    )
    try:
        end = read_end(pred)
    except (ProtocolError, OSError):
        end = None
    if end is not None:  # the clock stopped when ingestion ended
        state.ended = True
        if end.end_time > start.start_time:
            state.elapsed = end.end_time - start.start_time
    scores = read_score_record(folder.scores)
    if scores is not None:
        state.nauc, state.alc = scores.nauc, scores.alc
    return state


def stage(state: LiveState) -> str:
    """The state column: what the job is doing now."""
    if not state.started:
        return "building the model"  # the clock starts after construction
    return "final scoring" if state.ended else "learning"


def run_folder_reader(
    run_dir: str | os.PathLike[str], time_budget: float
) -> Callable[[], JobUpdate]:
    """A :meth:`Display.watch` reader for a run folder readable from here."""

    def read() -> JobUpdate:
        state = read_state(run_dir, time_budget)
        if not state.started:
            return JobUpdate(stage=stage(state))
        return JobUpdate(state.rounds, state.elapsed, state.nauc, state.alc, stage(state))

    return read


def job_events(display: Display) -> Callable[[JobEvent], None]:
    """The ``on_event`` callback of :func:`~autodl.challenge.runner.run_jobs` (or of any
    backend emitting the same events) that shows every job on ``display``."""

    def on_event(event: JobEvent) -> None:
        job, r = event.job, event.result
        key = str(job.run_dir)
        if event.kind == "start":
            display.started(key, label=job.label, time_budget=job.time_budget)
            display.watch(key, run_folder_reader(job.run_dir, job.time_budget))
            return
        if r is None:
            return
        note = r.error if r.error and not r.status.success else ""
        display.finished(
            key,
            status=r.status,
            label=job.label,
            nauc=r.final_nauc,
            alc=r.alc,
            round=r.num_predictions,
            elapsed=r.duration,
            note=note or "",
            skipped=event.kind == "skip",
        )

    return on_event
