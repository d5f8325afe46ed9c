"""Ingestion's own job on the terminal display (stage, round, elapsed against the budget).

The supervisor reports its stages here; :class:`autodl.display.Display` draws them: a live
row on a terminal, one plain line per round otherwise (so ``ingestion.log`` shows the
rounds too), nothing with ``enabled=False``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TextIO

from autodl.display import Display


class Progress:
    """``enabled``: None = live on a terminal, plain lines elsewhere; True = live; False = off."""

    def __init__(
        self,
        task: str,
        time_budget: float,
        stream: TextIO | None = None,
        enabled: bool | None = None,
    ) -> None:
        mode = "auto" if enabled is None else "live" if enabled else "off"
        # Transient: the command prints its own closing line where the table was.
        self.display = Display(stream=stream, mode=mode, transient=True)
        self.enabled = self.display.mode != "off"
        self.task = task
        self.time_budget = time_budget
        self._key = task

    def __enter__(self) -> Progress:
        self.display.__enter__()
        self.display.started(
            self._key, label=f"[ingestion] {self.task}", time_budget=self.time_budget
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self.display.__exit__(*exc)

    def update(self, stage: str, round: int | None = None, start: float | None = None) -> None:
        """``round``: the predictions made so far; ``start``: ``time.monotonic()`` when
        the budget clock started."""
        self.display.progress(self._key, round=round, stage=stage, clock_start=start)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Raw writes (the worker's output) inside this block land above the live row."""
        with self.display.paused():
            yield
