"""Score a prediction folder against its solution: the :class:`Scorer`, offline or live.

One class holds a scoring's state, which every poll of a folder that may still be written
updates. What it reads is checked in :mod:`.solution`, :mod:`.start_file`,
:mod:`.prediction_file` and :mod:`.end_file`; error bars are :mod:`.bootstrap`'s; records,
live watching and outputs are in :mod:`.result`, :mod:`.live` and :mod:`.outputs`.

The folder is read only through :mod:`autodl.protocol` (``start.txt``, ``<task>.predict_<k>``,
``end.txt``), so any producer of that format is scored. Each prediction gets its NAUC
(and accuracy for multi-class tasks); the learning curve of the predictions made within
the time budget gives the ALC, and bootstrap resamples give its error bars. After every
new prediction, and when something fails, the score folder is rewritten
(:mod:`autodl.scoring.outputs`); watching beside ingestion is :mod:`autodl.scoring.live`.

Bad input never stops scoring: each problem becomes one message (log, ``scores.json``,
HTML) and a :class:`~autodl.protocol.Status`; the score is computed from what is valid.
When several problems apply, the status is the most severe, in the order of
:data:`SEVERITY` (the meanings and exit codes are :class:`~autodl.protocol.Status`'s).
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from autodl import protocol
from autodl.protocol import ProtocolError, Status
from autodl.protocol.predictions import scan_predictions
from autodl.scoring import end_file, start_file
from autodl.scoring.bootstrap import (
    ALC_BOOTSTRAP_CURVES,
    NAUC_BOOTSTRAP_RESAMPLES,
    alc_error_bar,
    nauc_error_bar,
    resample_indices,
    resampled_naucs,
)
from autodl.scoring.curve import COMPAT_RULES, DEFAULT_T0, alc_2019
from autodl.scoring.metrics import accuracy, is_multiclass, nauc
from autodl.scoring.prediction_file import FileStat, Quietness, file_stat, read_prediction
from autodl.scoring.result import Note, PredictionScore, ScoreResult
from autodl.scoring.solution import read_solution

__all__ = ["SEVERITY", "Scorer", "score_folder"]

log = logging.getLogger("autodl.scoring")

#: Problems by severity, most severe first: the first one found is the scoring's status.
SEVERITY = (
    Status.ERROR,
    Status.BAD_SOLUTION,
    Status.TIME_LIMIT_EXCEEDED,
    Status.INGESTION_FAILED,
    Status.BAD_INPUT,
)


# --------------------------------------------------------------------------- the scorer


class Scorer:
    """Scores one prediction folder against one solution; used offline and live.

    Offline: :meth:`finish` (see :func:`score_folder`). Live: :func:`autodl.scoring.live.watch`.
    """

    def __init__(
        self,
        solution_dir: str | os.PathLike[str],
        prediction_dir: str | os.PathLike[str],
        score_dir: str | os.PathLike[str],
        *,
        time_budget: float | None = None,
        t0: float = DEFAULT_T0,
        seed: int = 0,
        bootstrap: bool = True,
        draw: bool = True,
        stable_after: float = 2.0,
        compat: str = "autodl",
    ) -> None:
        self.solution_dir = Path(solution_dir)
        self.prediction_dir = Path(prediction_dir)
        self.score_dir = Path(score_dir)
        self.time_budget_override = time_budget
        self.t0 = float(t0)
        if compat not in COMPAT_RULES:
            raise ValueError(f"compat must be one of {', '.join(COMPAT_RULES)}, got {compat!r}")
        self.compat = compat
        self.seed = seed
        self.bootstrap = bootstrap
        self.draw = draw
        self.messages: list[str] = []
        self.problems: dict[Status, str] = {}  # status -> its first message
        self.start: protocol.StartInfo | None = None
        self.scores: dict[int, PredictionScore] = {}
        self.stable_after = stable_after
        self._quiet = Quietness()
        self._judged: dict[int, FileStat] = {}  # k -> its stat when judged
        self._said: set[str] = set()
        self._last_array: np.ndarray | None = None
        self._finished = False
        self.bad_option = False  # a flag (time budget, t0) that no curve can be drawn with
        self.task_name: str | None = None
        self.solution: np.ndarray | None = None
        self.multiclass = False
        self.score_dir.mkdir(parents=True, exist_ok=True)
        self._check_options()
        self._load_solution()
        self._boot_idx: list[np.ndarray] = []
        if self.solution is not None and bootstrap:
            self._boot_idx = resample_indices(self.solution.shape[0], seed)

    # ---------------------------------------------------------------- messages

    def note(
        self, text: str, status: Status | None = None, *, level: int = logging.WARNING
    ) -> None:
        """Record a message once (log + outputs); with ``status``, also a problem."""
        text = " ".join(text.split())  # one line, whatever a parser's message held
        if text in self._said:
            return
        self._said.add(text)
        self.messages.append(text)
        log.log(level, text)
        if status is not None:
            self.problems.setdefault(status, text)

    def _say(self, note: Note | None) -> None:
        if note is not None:
            self.note(note.text, note.status, level=note.level)

    # ---------------------------------------------------------------- inputs

    def _check_options(self) -> None:
        # log(1 + T/t0) is the rescaling's denominator: T and t0 must be finite and > 0.
        for flag, value in (("--time_budget", self.time_budget_override), ("--t0", self.t0)):
            if value is not None and not (math.isfinite(value) and value > 0):
                self.bad_option = True
                self.note(
                    f"{flag} {value!r}: must be a finite number of seconds > 0; "
                    "no learning curve (ALC 0)",
                    Status.BAD_INPUT,
                    level=logging.ERROR,
                )

    def _load_solution(self) -> None:
        try:
            self.task_name, path = protocol.find_solution(self.solution_dir)
            sol = read_solution(path)  # after: a bad solution still names the task
        except ProtocolError as e:
            self.note(str(e), Status.BAD_SOLUTION, level=logging.ERROR)
            return
        self.solution_path = path
        self.solution = sol
        self.multiclass = is_multiclass(sol)
        log.info(
            "solution %s: %d examples x %d labels (%s)",
            path,
            sol.shape[0],
            sol.shape[1],
            "multi-class" if self.multiclass else "multi-label",
        )

    @property
    def time_budget(self) -> float | None:
        if self.bad_option:
            return None
        if self.time_budget_override is not None:
            return float(self.time_budget_override)
        return self.start.time_budget if self.start is not None else None

    def refresh_start(self, final: bool) -> None:
        """Read ``start.txt`` again (live, only once its last line is whole)."""
        start, notes = start_file.read_start(self.prediction_dir, final)
        if start is not None:
            self.start = start
        for note in notes:
            self._say(note)

    # ---------------------------------------------------------------- predictions

    def _score(self, entry: PredictionScore, pred: np.ndarray) -> None:
        assert self.solution is not None
        entry.nauc = nauc(self.solution, pred)
        if self.multiclass:
            entry.accuracy = accuracy(self.solution, pred)
        entry.bootstrap_nauc.extend(resampled_naucs(self.solution, pred, self._boot_idx))
        latest = max((p.k for p in self.scores.values() if p.error is None), default=-1)
        if entry.k >= latest:
            self._last_array = pred

    def poll(self, final: bool = False) -> bool:
        """Score the predictions that are complete; returns True when something changed.

        Live (``final=False``) a listed file is read only once start.txt holds its timestamp
        or it has been quiet (same size and mtime) for ``stable_after`` seconds; it is
        accepted when it looked complete while read (see :func:`.prediction_file.read_prediction`)
        or is quiet, else retried on the next poll. A file judged bad is judged again if it
        changes. ``final=True`` (ingestion has ended) reads and judges everything.
        """
        if self.solution is None:
            return False
        self.refresh_start(final)
        try:
            listed, odd = scan_predictions(self.prediction_dir)
        except (FileNotFoundError, NotADirectoryError):
            if final:
                self.note(f"{self.prediction_dir}: prediction folder not found", Status.BAD_INPUT)
            return False
        for path, why in odd:
            # Never read: a second name for prediction k, or a file that could block or
            # point elsewhere (the solution).
            self.note(f"{path}: {why}; not scored", Status.BAD_INPUT)
        if final:
            self._note_gaps([k for task, k, _ in listed if task == self.task_name])
        changed = False
        stamps = self.start.timestamps if self.start is not None else {}
        for task, k, path in listed:
            if task != self.task_name:
                self.note(
                    f"{path}: ignored: its task name {task!r} is not the solution's "
                    f"{self.task_name!r}",
                    level=logging.INFO,
                )
                continue
            quiet = self._quiet.quiet_for(k, path)
            entry = self.scores.get(k)
            if entry is not None:
                if entry.error is not None and self._judged.get(k) != file_stat(path):
                    del self.scores[k]  # rewritten since it was judged bad: judge again
                    changed = True
                else:
                    if entry.timestamp is None and k in stamps:
                        entry.timestamp = stamps[k]
                        changed = True
                    continue
            stable = quiet >= self.stable_after
            if not (final or k in stamps or stable):
                continue
            entry, pred, looked_complete = read_prediction(
                k, path, self.solution.shape, self.solution_path.name
            )
            if not (final or stable or (pred is not None and looked_complete)):
                continue  # maybe still being written by a producer that does not rename
            entry.timestamp = stamps.get(k)
            self._judged[k] = file_stat(path)
            self.scores[k] = entry
            changed = True
            if pred is None:
                self.note(f"{entry.error}; prediction {k} is not scored", Status.BAD_INPUT)
                continue
            self._score(entry, pred)
            log.info(
                "prediction %d: NAUC %.4f%s",
                k,
                entry.nauc,
                f", accuracy {entry.accuracy:.4f}" if entry.accuracy is not None else "",
            )
        return changed

    def _note_gaps(self, ks: list[int]) -> None:
        """Predictions are numbered 0, 1, ...: a missing number means a file was lost."""
        present = set(ks)
        missing = [k for k in range(max(ks, default=-1)) if k not in present]
        if missing:
            names = ", ".join(protocol.prediction_name(self.task_name, k) for k in missing[:5])
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            self.note(
                f"{self.prediction_dir}: no prediction file {names}{more} below "
                f"{protocol.prediction_name(self.task_name, max(ks))}; the predictions "
                "present are scored",
                Status.BAD_INPUT,
            )

    # ---------------------------------------------------------------- results

    def result(self) -> ScoreResult:
        """The current state as a :class:`ScoreResult` (notes timestamp problems)."""
        preds = [self.scores[k] for k in sorted(self.scores)]
        budget = self.time_budget
        start_time = self.start.start_time if self.start is not None else None
        scored = [p for p in preds if p.error is None and p.timestamp is not None]
        notes = start_file.timestamp_notes(
            preds, self.prediction_dir, self.start, budget, self._finished
        )
        for note in notes:
            self._say(note)
        duration = (scored[-1].timestamp - start_time) if scored else 0.0  # type: ignore[operator]
        status = next((s for s in SEVERITY if s in self.problems), None)
        if status is None:
            status = Status.OK if self._finished else Status.RUNNING
        result = ScoreResult(
            task_name=self.task_name,
            status=status,
            error=self.problems.get(status),
            messages=list(self.messages),
            alc=0.0,
            duration=float(duration),
            time_budget=budget,
            t0=self.t0,
            start_time=start_time,
            predictions=preds,
            curve=None,
            multiclass=self.multiclass,
            finished=self._finished,
            compat=self.compat,
        )
        if start_time is not None and budget is not None and not self.bad_option:
            result.curve = result.curve_of([p.nauc for p in result.on_curve])  # type: ignore[misc]
            if self.compat == "2019":  # every prediction, by k, those past the budget too
                result.alc = alc_2019(result.timestamps, result.nauc_scores, budget, self.t0)
            else:
                result.alc = result.curve.alc()
        return result

    def _error_bars(self, result: ScoreResult) -> None:
        if not self.bootstrap or self.solution is None or result.curve is None:
            return
        if self._last_array is not None and result.scored:
            result.nauc_error_bar = nauc_error_bar(self.solution, self._last_array, self.seed)
        result.alc_error_bar = alc_error_bar(result, len(self._boot_idx))

    def write_outputs(self, result: ScoreResult, *, live: bool) -> None:
        """Rewrite every file of the score folder from ``result`` (each atomically)."""
        from autodl.scoring.outputs import write_score_folder

        write_score_folder(self.score_dir, result, live=live, draw=self.draw)

    # ---------------------------------------------------------------- endings

    def end_present(self) -> bool:
        """Whether ``end.txt`` exists as a regular file (live: ingestion has ended).

        Anything else by that name is noted and ignored, and live scoring goes on to the
        deadline (:func:`~autodl.scoring.end_file.end_present`).
        """
        present, problem = end_file.end_present(self.prediction_dir)
        self._say(problem)
        return present

    def finish(self, *, check_end: bool = True) -> ScoreResult:
        """Final pass: every remaining prediction, final checks, error bars, final outputs."""
        self.poll(final=True)
        if check_end and self.solution is not None:
            self._say(end_file.check_end(self.prediction_dir))
        self._finished = True
        if self.solution is not None and not self.scores:
            self.note(
                f"{self.prediction_dir}: no prediction file {self.task_name}.predict_<k>: "
                "nothing to score (ALC 0)",
                Status.BAD_INPUT,
            )
        result = self.result()
        self._error_bars(result)
        if result.nauc_error_bar:
            log.info(
                "last prediction's NAUC over %d bootstrap resamples: mean %.4f, std %.4f",
                NAUC_BOOTSTRAP_RESAMPLES,
                *result.nauc_error_bar,
            )
        if result.alc_error_bar:
            log.info(
                "ALC over %d bootstrap-resampled curves: mean %.4f, std %.4f",
                ALC_BOOTSTRAP_CURVES,
                *result.alc_error_bar,
            )
        self.write_outputs(result, live=False)
        level = logging.INFO if result.status == Status.OK else logging.ERROR
        log.log(
            level,
            "%s: ALC %.6f from %d prediction(s); status %s",
            f"task {self.task_name}" if self.task_name else self.prediction_dir,
            result.alc,
            len(result.scored),
            result.status,
        )
        return result


def score_folder(
    solution_dir: str | os.PathLike[str],
    prediction_dir: str | os.PathLike[str],
    score_dir: str | os.PathLike[str],
    time_budget: float | None = None,
    t0: float = DEFAULT_T0,
    **options: Any,
) -> ScoreResult:
    """Score a finished prediction folder and write the score folder; see the module doc.

    ``options`` are :class:`Scorer`'s (``seed``, ``bootstrap``, ``draw``, ``compat``);
    ``compat="2019"`` makes the ALC the 2019 program's number (:func:`~.curve.alc_2019`).
    """
    scorer = Scorer(
        solution_dir, prediction_dir, score_dir, time_budget=time_budget, t0=t0, **options
    )
    return scorer.finish()
