"""The terminal display of running jobs: one live table (rich) or plain lines.

``autodl run``, ``autodl ingest`` and ``autodl challenge`` show their jobs through one
:class:`Display`. Any job source feeds it (local threads, a Ray driver): ``started``,
``progress`` (round, elapsed, NAUC, ALC), ``finished`` (status), or a ``watch`` reader
the display polls. On a terminal it redraws one table fitted to the terminal's width; off
a terminal it writes one plain line per event (no redraw, no escape codes), so logs and CI
output read top to bottom.

>>> import io
>>> out = io.StringIO()
>>> with Display(stream=out, mode="plain") as display:
...     display.started("a", label="baseline on digits", time_budget=60)
...     display.progress("a", round=3, elapsed=12.0, nauc=0.81, alc=0.42)
...     display.finished("a", status="ok", nauc=0.9, alc=0.5)
>>> print(out.getvalue(), end="")
baseline on digits: started (budget 60 s)
baseline on digits: round 3, 12.0 s of 60 s, NAUC 0.8100, ALC 0.4200
baseline on digits: ok, NAUC 0.9000, ALC 0.5000, 3 rounds in 12.0 s
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

__all__ = ["Display", "JobUpdate", "resolve_mode"]

MODES = ("auto", "live", "plain", "off")


@dataclass
class JobUpdate:
    """What a job's source knows now; None: unknown (the shown value stays)."""

    round: int | None = None
    elapsed: float | None = None
    nauc: float | None = None
    alc: float | None = None
    stage: str | None = None


@dataclass
class _Job:
    key: str
    label: str
    order: int
    time_budget: float | None = None
    round: int = 0
    elapsed: float | None = None
    clock_start: float | None = None  # time.monotonic() when the budget clock started
    nauc: float | None = None
    alc: float | None = None
    stage: str = ""
    status: str | None = None  # None while running
    note: str = ""
    skipped: bool = False
    printed: tuple = ()  # plain mode: (round, NAUC, ALC) of the last line written

    def shown_elapsed(self) -> float | None:
        if self.status is None and self.clock_start is not None:
            return max(0.0, time.monotonic() - self.clock_start)
        return self.elapsed


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.4f}"


def _secs(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f} s"


def resolve_mode(mode: str, stream: TextIO) -> str:
    """``auto`` becomes ``live`` on a terminal (not a dumb one), else ``plain``."""
    if mode not in MODES:
        raise ValueError(f"display mode {mode!r}: expected one of {', '.join(MODES)}")
    if mode != "auto":
        return mode
    tty = bool(getattr(stream, "isatty", lambda: False)())
    return "live" if tty and os.environ.get("TERM") != "dumb" else "plain"


class Display:
    """Shows jobs as they start, progress and finish; every method is thread-safe.

    ``mode``: ``auto`` (live on a terminal, else plain), ``live``, ``plain`` or ``off``.
    ``transient``: the live table is erased at the end (the caller prints a summary).
    """

    def __init__(
        self,
        *,
        title: str = "",
        stream: TextIO | None = None,
        mode: str = "auto",
        total: int | None = None,
        interval: float = 0.5,
        transient: bool = False,
    ) -> None:
        import sys

        self.stream = stream if stream is not None else sys.stderr
        self.mode = resolve_mode(mode, self.stream)
        self.title = title
        self.total = total
        self.interval = interval
        self.transient = transient
        self._jobs: dict[str, _Job] = {}
        self._readers: dict[str, Callable[[], JobUpdate | None]] = {}
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._live: Any = None  # rich.live.Live while a live view is up

    # ------------------------------------------------------------------ feeding it

    def started(
        self,
        key: str,
        *,
        label: str | None = None,
        time_budget: float | None = None,
        stage: str = "",
    ) -> None:
        """A job began (shown among the running ones)."""
        with self._lock:
            job = self._job(key, label)
            job.status, job.skipped = None, False
            if time_budget is not None:
                job.time_budget = float(time_budget)
            job.stage = stage
            budget = f" (budget {job.time_budget:g} s)" if job.time_budget else ""
            self._plain(f"{job.label}: started{budget}")

    def progress(
        self,
        key: str,
        *,
        round: int | None = None,
        elapsed: float | None = None,
        nauc: float | None = None,
        alc: float | None = None,
        stage: str | None = None,
        clock_start: float | None = None,
    ) -> None:
        """New facts about a running job; None leaves a field as it was."""
        with self._lock:
            job = self._jobs.get(key)
            if job is None:
                job = self._job(key, None)
            if job.status is not None:
                return  # a late poll after the end changes nothing
            self._apply(job, JobUpdate(round, elapsed, nauc, alc, stage))
            if clock_start is not None:
                job.clock_start = clock_start
            shown = (job.round, job.nauc, job.alc)
            if self.mode == "plain" and shown != job.printed and job.round > 0:
                job.printed = shown  # a new round or a new score: one line each
                line = f"{job.label}: round {job.round}, {self._elapsed_text(job)}"
                if job.nauc is not None or job.alc is not None:  # a scorer is watching
                    line += f", NAUC {_num(job.nauc)}, ALC {_num(job.alc)}"
                self._plain(line)

    def finished(
        self,
        key: str,
        *,
        status: object,
        label: str | None = None,
        nauc: float | None = None,
        alc: float | None = None,
        round: int | None = None,
        elapsed: float | None = None,
        note: str = "",
        skipped: bool = False,
    ) -> None:
        """A job ended with ``status`` (a ``Status`` or its string); polling it stops."""
        with self._lock:
            self._readers.pop(key, None)
            job = self._job(key, label)
            if job.clock_start is not None and job.elapsed is None and elapsed is None:
                job.elapsed = job.shown_elapsed()
            self._apply(job, JobUpdate(round, elapsed, nauc, alc, None))
            job.status = str(getattr(status, "value", status))
            job.note, job.skipped = note, skipped
            if skipped:
                self._plain(f"{job.label}: done before ({job.status}), skipped")
            else:
                end = f"{job.status}, NAUC {_num(job.nauc)}, ALC {_num(job.alc)}"
                if job.elapsed is not None:
                    end += f", {job.round} rounds in {_secs(job.elapsed)}"
                self._plain(f"{job.label}: {end}" + (f" - {note}" if note else ""))

    def watch(self, key: str, reader: Callable[[], JobUpdate | None]) -> None:
        """Poll ``reader()`` about every ``interval`` s until ``finished(key)``."""
        with self._lock:
            self._readers[key] = reader

    def message(self, text: str) -> None:
        """One line above the live table, or a plain line."""
        with self._lock:
            if self.mode == "live" and self._live is not None:
                from rich.text import Text

                self._live.console.print(Text(text))
            elif self.mode != "off":
                self._write(text)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Raw writes to the terminal inside this block land above the table."""
        with self._lock:
            live = self._live
            if live is None:
                yield
                return
            from rich.text import Text

            live.update(Text(""), refresh=True)  # erase the table; the cursor is at col 0
            try:
                yield
            finally:
                live.update(self._table(), refresh=True)

    # ------------------------------------------------------------------ lifetime

    def __enter__(self) -> Display:
        if self.mode == "live":
            from rich.console import Console
            from rich.live import Live

            console = Console(file=self.stream, force_terminal=True, highlight=False)
            self._live = Live(
                self._table(),
                console=console,
                auto_refresh=False,  # our thread redraws, under our lock (see paused)
                transient=self.transient,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start()
        if self.mode != "off":
            self._thread = threading.Thread(target=self._loop, name="autodl-display", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._lock:
            if self._live is not None:
                self._poll()
                self._live.update(self._table(), refresh=True)
                self._live.stop()
                self._live = None

    def jobs(self) -> list[JobUpdate]:
        """What is shown now, in order (for callers and tests)."""
        with self._lock:
            return [
                JobUpdate(j.round, j.shown_elapsed(), j.nauc, j.alc, j.status or j.stage)
                for j in self._ordered()
            ]

    # ------------------------------------------------------------------ inside

    def _job(self, key: str, label: str | None) -> _Job:
        job = self._jobs.get(key)
        if job is None:
            job = self._jobs[key] = _Job(key, label or key, len(self._jobs))
        elif label:
            job.label = label
        return job

    @staticmethod
    def _apply(job: _Job, update: JobUpdate) -> None:
        if update.round is not None:
            job.round = update.round
        if update.elapsed is not None:
            job.elapsed = update.elapsed
            job.clock_start = None  # the source's clock wins over ours
        if update.nauc is not None:
            job.nauc = update.nauc
        if update.alc is not None:
            job.alc = update.alc
        if update.stage is not None:
            job.stage = update.stage

    def _elapsed_text(self, job: _Job) -> str:
        text = _secs(job.shown_elapsed())
        if job.time_budget:
            text = text.replace(" s", f" s of {job.time_budget:g} s")
        return text

    def _ordered(self) -> list[_Job]:
        running = [j for j in self._jobs.values() if j.status is None]
        done = [j for j in self._jobs.values() if j.status is not None]
        return sorted(running, key=lambda j: j.order) + done

    def _plain(self, line: str) -> None:
        if self.mode == "plain":
            self._write(line)

    def _write(self, line: str) -> None:
        try:
            self.stream.write(line + "\n")
            self.stream.flush()
        except (OSError, ValueError):
            pass  # a closed terminal does not end the run

    def _poll(self) -> None:
        for key, reader in list(self._readers.items()):
            try:
                update = reader()
            except Exception:  # a reader's bug must not stop the display
                update = None
            if update is not None and key in self._readers:
                self.progress(
                    key,
                    round=update.round,
                    elapsed=update.elapsed,
                    nauc=update.nauc,
                    alc=update.alc,
                    stage=update.stage,
                )

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._poll()
            with self._lock:
                if self._live is not None:
                    self._live.update(self._table(), refresh=True)

    def _size(self) -> tuple[int, int]:
        """The terminal's size now (it may have been resized): COLUMNS/LINES when set,
        else what the kernel says of our own stream (rich asks the standard streams)."""
        try:
            cols, rows = os.get_terminal_size(self.stream.fileno())
        except (AttributeError, OSError, ValueError):
            cols, rows = 80, 24
        env = os.environ
        cols = int(env["COLUMNS"]) if env.get("COLUMNS", "").isdigit() else cols
        rows = int(env["LINES"]) if env.get("LINES", "").isdigit() else rows
        return max(cols, 10), max(rows, 5)

    def _table(self) -> Any:
        with self._lock:
            size = self._size()
            if self._live is not None:
                self._live.console.size = size  # rich draws to this width
            return _job_table(self.title, self._ordered(), self.total, size)


def _job_table(title: str, jobs: list[_Job], total: int | None, size: tuple[int, int]) -> Any:
    """Running jobs first (every one), then as many finished ones as the screen holds;
    the label and state columns share what the number columns leave of the width."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    width, height = size
    running = [j for j in jobs if j.status is None]
    done = [j for j in jobs if j.status is not None]
    room = max(1, height - len(running) - 4)  # header line, column heads, a spare line
    hidden = max(0, len(done) - room)
    head = f"{len(running)} running, {len(done)} finished"
    if total is not None:
        head += f" of {total}"
    if title:
        head = f"{title}: {head}"
    rows: list[tuple[str, str, str, str, str, str, str]] = []
    for j in running:
        elapsed = j.shown_elapsed()
        shown = "-" if elapsed is None else f"{elapsed:.0f}"
        shown += f"/{j.time_budget:g} s" if j.time_budget else " s"
        rows.append(
            (j.label, str(j.round), shown, _num(j.nauc), _num(j.alc), j.stage or "running", "cyan")
        )
    for j in done[hidden:]:
        state = j.status or ""
        state += " (before)" if j.skipped else ""
        state += f": {j.note}" if j.note else ""
        rows.append(
            (
                j.label,
                str(j.round),
                _secs(j.elapsed),
                _num(j.nauc),
                _num(j.alc),
                state,
                "green" if j.status == "ok" else "red",
            )
        )
    heads = ("job", "round", "elapsed", "NAUC", "ALC", "state")
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(heads)]
    keep = list(range(len(heads)))

    def room() -> int:  # what the number columns and one space between columns leave
        return width - sum(widths[i] for i in keep if i not in (0, 5)) - (len(keep) - 1)

    for drop in (5, 2, 1):  # a narrow terminal loses the state, then elapsed, then round
        if room() >= 8 + (8 if 5 in keep else 0):
            break
        keep.remove(drop)
    free = room()
    job_w = max(3, free)
    if 5 in keep:  # the label first: the state (an error's note) takes what is left
        job_w = max(3, min(widths[0], max(free - widths[5], free * 2 // 3)))
    table = Table(
        box=None,
        padding=(0, 1, 0, 0),
        pad_edge=False,
        show_edge=False,
        header_style="bold underline",
        expand=False,
    )
    for i in keep:
        if i == 0:
            table.add_column("job", no_wrap=True, overflow="ellipsis", max_width=job_w)
        elif i == 5:
            table.add_column("state", no_wrap=True, overflow="ellipsis", max_width=free - job_w)
        else:
            table.add_column(heads[i], justify="right", no_wrap=True, width=widths[i])
    for *cells, state, style in rows:
        # Text, not str: rich would read "[ingestion]" or a submission's "[/x]" as markup.
        shown: list[Any] = [Text(cells[i]) for i in keep if i != 5]
        if 5 in keep:
            shown.append(Text(state, style=style))
        table.add_row(*shown)
    parts: list[Any] = [Text(head, style="bold", no_wrap=True, overflow="ellipsis")]
    if rows:
        parts.append(table)
    if hidden:
        parts.append(Text(f"({hidden} more finished, not shown)", style="dim"))
    return Group(*parts)
