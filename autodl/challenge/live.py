"""The live line of ``autodl run``: rounds, elapsed and remaining time, NAUC, ALC so far.

It only reads the run folder's protocol and score files (as a platform's page would), a
few times a second, and redraws one terminal line. When the output is not a terminal it
stays quiet: logs and CI output get the closing summary only.

>>> render(LiveState(rounds=3, elapsed=12.0, time_budget=60.0, nauc=0.81, alc=0.42))
'round 3 | 12.0 s elapsed, 48.0 s left | NAUC 0.8100 | ALC 0.4200'
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from autodl.challenge.results import read_score_record
from autodl.protocol import ProtocolError, RunFolder, read_end, read_start


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


def render(state: LiveState) -> str:
    if not state.started:
        return "building the model (the clock starts after construction)"
    left = max(0.0, state.time_budget - state.elapsed)
    parts = [
        f"round {state.rounds}",
        f"{state.elapsed:.1f} s elapsed, {left:.1f} s left",
        f"NAUC {state.nauc:.4f}" if state.nauc is not None else "NAUC -",
        f"ALC {state.alc:.4f}" if state.alc is not None else "ALC -",
    ]
    if state.ended:
        parts.append("ingestion ended; final scoring")
    return " | ".join(parts)


class LiveView:
    """Context manager that redraws the live line on ``stream`` while a run goes on."""

    def __init__(
        self,
        run_dir: str | os.PathLike[str],
        *,
        time_budget: float,
        label: str = "",
        stream: TextIO | None = None,
        interval: float = 0.5,
        enabled: bool | None = None,
    ) -> None:
        self.run_dir = Path(run_dir)
        self.time_budget = time_budget
        self.label = label
        self.stream = stream or sys.stderr
        self.interval = interval
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._width = 0

    def _draw(self) -> None:
        line = render(read_state(self.run_dir, self.time_budget))
        if self.label:
            line = f"{self.label} | {line}"
        pad = max(0, self._width - len(line))
        self.stream.write("\r" + line + " " * pad)
        self.stream.flush()
        self._width = len(line)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._draw()

    def __enter__(self) -> LiveView:
        if self.enabled:
            self._thread = threading.Thread(target=self._loop, name="autodl-live", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._draw()  # the last state stays on screen
        self.stream.write("\n")
        self.stream.flush()
