"""A live status line for ingestion (stage, round, elapsed, remaining); silent off a TTY."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


def _fmt(seconds: float) -> str:
    seconds = max(0, int(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class Progress:
    """Redraws one line on ``stream`` twice a second while enabled.

    ``enabled=None`` means "when ``stream`` is a terminal", so logs and CI stay clean.
    """

    def __init__(
        self,
        task: str,
        time_budget: float,
        stream: TextIO | None = None,
        enabled: bool | None = None,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = enabled
        self.task = task
        self.time_budget = time_budget
        self.stage = "starting"
        self.round = 0
        self.start: float | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Progress:
        if self.enabled:
            self._thread = threading.Thread(target=self._run, name="progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self.clear()

    def update(self, stage: str, round: int | None = None, start: float | None = None) -> None:
        self.stage = stage
        if round is not None:
            self.round = round
        if start is not None:
            self.start = start

    def line(self) -> str:
        if self.start is None:
            return f"[ingestion] {self.task}: {self.stage}"
        elapsed = time.monotonic() - self.start
        return (
            f"[ingestion] {self.task}: round {self.round}, {self.stage} | elapsed "
            f"{_fmt(elapsed)} | remaining {_fmt(self.time_budget - elapsed)}"
        )

    def clear(self) -> None:
        """Erase the line (before someone else prints)."""
        if self.enabled:
            with self._lock:
                self.stream.write("\r\x1b[K")
                self.stream.flush()

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            with self._lock:
                self.stream.write("\r\x1b[K" + self.line())
                self.stream.flush()
