"""Score a prediction folder: offline (a finished folder) or live beside ingestion.

The folder is read only through :mod:`autodl.protocol` (``start.txt``, ``<task>.predict_<k>``,
``end.txt``), so any producer of that format is scored. Each prediction gets its NAUC
(and accuracy for multi-class tasks); the learning curve of the predictions made within
the time budget gives the ALC. After every new prediction, and when something fails, the
score folder is rewritten: ``scores.txt`` (2019 layout), ``scores.json``,
``learning_curve.json``, ``learning-curve-<task>.png`` and ``detailed_results.html``.

Bad input never stops scoring: each problem becomes one message (log, ``scores.json``,
HTML) and a status; the score is computed from what is valid. Statuses and the exit codes
of ``autodl score`` (most severe first when several apply):

=====================  ====  ==============================================================
status                 exit  meaning
=====================  ====  ==============================================================
``ok``                 0     every input was valid (predictions after the budget only warn)
``error``              1     the scorer itself failed (a bug): traceback in the log
``bad_solution``       3     zero / several ``*.solution`` files, unreadable solution, or no
                             column with both classes: nothing can be scored (score 0)
``time_limit_exceeded`` 6    live: the budget passed before ``end.txt``; ingestion was ended
``ingestion_failed``   5     ``end.txt`` says ``ingestion_success: 0``
``bad_input``          4     a bad prediction file, missing/malformed ``start.txt``, missing
                             or out-of-order timestamps, or no prediction at all
=====================  ====  ==============================================================

(Exit 2 is argparse's usage error.)
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autodl import protocol
from autodl.protocol import ProtocolError
from autodl.scoring.curve import DEFAULT_T0, LearningCurve, rescale_time
from autodl.scoring.metrics import accuracy, is_multiclass, nauc, valid_columns
from autodl.scoring.process import end_process, ingestion_pid_problem, is_alive

log = logging.getLogger("autodl.scoring")

OK = "ok"
RUNNING = "running"
ERROR = "error"
BAD_SOLUTION = "bad_solution"
TIME_LIMIT_EXCEEDED = "time_limit_exceeded"
INGESTION_FAILED = "ingestion_failed"
BAD_INPUT = "bad_input"

EXIT_CODES = {
    OK: 0,
    RUNNING: 0,
    ERROR: 1,
    BAD_SOLUTION: 3,
    BAD_INPUT: 4,
    INGESTION_FAILED: 5,
    TIME_LIMIT_EXCEEDED: 6,
}
_SEVERITY = (ERROR, BAD_SOLUTION, TIME_LIMIT_EXCEEDED, INGESTION_FAILED, BAD_INPUT)

NAUC_BOOTSTRAP_RESAMPLES = 10  # resamples of the last prediction (as the 2019 program)
ALC_BOOTSTRAP_CURVES = 5  # resampled learning curves


@dataclass
class PredictionScore:
    """What scoring made of one ``<task>.predict_<k>`` file."""

    k: int
    path: Path
    nauc: float | None = None
    accuracy: float | None = None
    error: str | None = None
    timestamp: float | None = None  # absolute epoch seconds from start.txt
    bootstrap_nauc: list[float] = field(default_factory=list)


@dataclass
class ScoreResult:
    """The outcome of scoring a folder; ``exit_code`` is what ``autodl score`` returns."""

    task_name: str | None
    status: str
    error: str | None
    messages: list[str]
    alc: float
    duration: float
    time_budget: float | None
    t0: float
    start_time: float | None
    predictions: list[PredictionScore]
    curve: LearningCurve | None
    multiclass: bool
    nauc_error_bar: tuple[float, float] | None = None
    alc_error_bar: tuple[float, float] | None = None
    finished: bool = True

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    @property
    def score(self) -> float:
        return self.alc

    @property
    def scored(self) -> list[PredictionScore]:
        """Valid predictions with a timestamp, by k: the lists of ``scores.txt``."""
        return [p for p in self.predictions if p.error is None and p.timestamp is not None]

    @property
    def timestamps(self) -> list[float]:
        assert self.start_time is not None or not self.scored
        return [p.timestamp - self.start_time for p in self.scored]  # type: ignore[operator]

    @property
    def nauc_scores(self) -> list[float]:
        return [p.nauc for p in self.scored]  # type: ignore[misc]

    @property
    def accuracy_scores(self) -> list[float] | None:
        return [p.accuracy for p in self.scored] if self.multiclass else None  # type: ignore[misc]

    def to_json(self) -> dict[str, Any]:
        """The flat ``scores.json`` object."""
        last = self.scored[-1] if self.scored else None
        nb, ab = self.nauc_error_bar, self.alc_error_bar
        return {
            "score": self.alc,
            "alc": self.alc,
            "duration": self.duration,
            "nauc": last.nauc if last else None,
            "accuracy": last.accuracy if last else None,
            "num_predictions": len(self.scored),
            "num_bad_predictions": sum(p.error is not None for p in self.predictions),
            "status": self.status,
            "error": self.error,
            "finished": self.finished,
            "task_name": self.task_name,
            "time_budget": self.time_budget,
            "t0": self.t0,
            "start_time": self.start_time,
            "nauc_bootstrap_mean": nb[0] if nb else None,
            "nauc_bootstrap_std": nb[1] if nb else None,
            "alc_bootstrap_mean": ab[0] if ab else None,
            "alc_bootstrap_std": ab[1] if ab else None,
            "messages": list(self.messages),
        }


# --------------------------------------------------------------------------- the scorer


class Scorer:
    """Scores one prediction folder against one solution; used offline and live.

    Offline: :meth:`poll` once with ``final=True``, then :meth:`finish`. Live: :meth:`watch`.
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
    ) -> None:
        self.solution_dir = Path(solution_dir)
        self.prediction_dir = Path(prediction_dir)
        self.score_dir = Path(score_dir)
        self.time_budget_override = time_budget
        self.t0 = float(t0)
        self.seed = seed
        self.bootstrap = bootstrap
        self.draw = draw
        self.messages: list[str] = []
        self.problems: dict[str, str] = {}  # status -> its first message
        self.start: protocol.StartInfo | None = None
        self.scores: dict[int, PredictionScore] = {}
        self.stable_after = stable_after
        self._stats: dict[int, tuple[tuple[int, int] | None, float]] = {}
        self._judged: dict[int, tuple[int, int] | None] = {}
        self._said: set[str] = set()
        self._last_array: np.ndarray | None = None
        self._finished = False
        self.task_name: str | None = None
        self.solution: np.ndarray | None = None
        self.multiclass = False
        self.score_dir.mkdir(parents=True, exist_ok=True)
        self._load_solution()
        self._boot_idx: list[np.ndarray] = []
        if self.solution is not None and bootstrap:
            rng = np.random.default_rng(seed)
            n = self.solution.shape[0]
            self._boot_idx = [rng.integers(0, n, n) for _ in range(ALC_BOOTSTRAP_CURVES)]

    # ---------------------------------------------------------------- messages

    def note(self, text: str, status: str | None = None, *, level: int = logging.WARNING) -> None:
        """Record a message once (log + outputs); with ``status``, also a problem."""
        text = " ".join(text.split())  # one line, whatever a parser's message held
        if text in self._said:
            return
        self._said.add(text)
        self.messages.append(text)
        log.log(level, text)
        if status is not None:
            self.problems.setdefault(status, text)

    # ---------------------------------------------------------------- inputs

    def _load_solution(self) -> None:
        try:
            self.task_name, path = protocol.find_solution(self.solution_dir)
        except ProtocolError as e:
            self.note(str(e), BAD_SOLUTION, level=logging.ERROR)
            return
        try:
            sol = protocol.read_matrix(path, name="solution")
        except ProtocolError as e:
            self.note(str(e), BAD_SOLUTION, level=logging.ERROR)
            return
        if sol.size == 0:
            self.note(f"{path}: the solution is empty", BAD_SOLUTION, level=logging.ERROR)
            return
        if not np.isfinite(sol).all():
            i, j = np.argwhere(~np.isfinite(sol))[0]
            self.note(
                f"{path}: line {i + 1}, column {j + 1}: {float(sol[i, j])!r} "
                "is not a finite number",
                BAD_SOLUTION,
                level=logging.ERROR,
            )
            return
        if not valid_columns(sol).any():
            self.note(
                f"{path}: no label column holds both classes (0 and 1), so NAUC is undefined",
                BAD_SOLUTION,
                level=logging.ERROR,
            )
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
        if self.time_budget_override is not None:
            return float(self.time_budget_override)
        return self.start.time_budget if self.start is not None else None

    def _refresh_start(self, final: bool) -> None:
        path = self.prediction_dir / protocol.START_FILE
        try:
            text = path.read_bytes()
        except FileNotFoundError:
            if final:
                self.note(
                    f"{path}: file not found: no timestamps, so no learning curve (ALC 0)",
                    BAD_INPUT,
                )
            return
        except NotADirectoryError:
            return
        if not final and not text.endswith(b"\n"):
            return  # a timestamp line is being appended; read it on the next poll
        try:
            self.start = protocol.read_start(self.prediction_dir)
        except ValueError as e:  # ProtocolError, or bytes that are not UTF-8
            if final:  # live, a later poll may find it whole
                what = str(e) if isinstance(e, ProtocolError) else f"{path}: {e}"
                self.note(f"{what} (no learning curve can be drawn from it)", BAD_INPUT)

    # ---------------------------------------------------------------- predictions

    def _read_prediction(
        self, k: int, path: Path
    ) -> tuple[PredictionScore, np.ndarray | None, bool]:
        """Read and score one file: (entry, array if valid, whether it looked complete).

        "Looked complete": size and mtime did not change while it was read and its last byte
        is a newline (every writer of the format ends each line with one).
        """
        assert self.solution is not None
        entry = PredictionScore(k=k, path=path)
        before = self._stat(path)
        try:
            pred = protocol.read_matrix(path, name="prediction")
        except ProtocolError as e:
            entry.error = str(e)
            return entry, None, False
        try:
            with open(path, "rb") as f:
                f.seek(-1, os.SEEK_END)
                ends_with_newline = f.read(1) == b"\n"
        except OSError:
            ends_with_newline = False
        looked_complete = ends_with_newline and before is not None and before == self._stat(path)
        n, m = self.solution.shape
        if pred.shape[0] != n:
            entry.error = (
                f"{path}: {pred.shape[0]} rows, but the solution {self.solution_path.name} "
                f"has {n} (one line per test example)"
            )
        elif pred.shape[1] != m:
            entry.error = (
                f"{path}: {pred.shape[1]} values per line, but the solution "
                f"{self.solution_path.name} has {m} labels"
            )
        elif not np.isfinite(pred).all():
            bad = ~np.isfinite(pred)
            i, j = np.argwhere(bad)[0]
            entry.error = (
                f"{path}: line {i + 1}, column {j + 1}: {float(pred[i, j])!r} is not a finite "
                f"number ({int(bad.sum())} such value(s))"
            )
        if entry.error is not None:
            return entry, None, looked_complete
        return entry, pred, looked_complete

    def _score(self, entry: PredictionScore, pred: np.ndarray) -> None:
        assert self.solution is not None
        entry.nauc = nauc(self.solution, pred)
        if self.multiclass:
            entry.accuracy = accuracy(self.solution, pred)
        for idx in self._boot_idx:
            entry.bootstrap_nauc.append(self._nauc_or_nan(self.solution[idx], pred[idx]))
        latest = max((p.k for p in self.scores.values() if p.error is None), default=-1)
        if entry.k >= latest:
            self._last_array = pred

    @staticmethod
    def _nauc_or_nan(solution: np.ndarray, prediction: np.ndarray) -> float:
        try:
            return nauc(solution, prediction)
        except ValueError:  # a resample may hold a single class in every column
            return float("nan")

    @staticmethod
    def _stat(path: Path) -> tuple[int, int] | None:
        try:
            st = path.stat()
        except OSError:
            return None
        return st.st_size, st.st_mtime_ns

    def _quiet_for(self, k: int, path: Path) -> float:
        """Seconds for which the file's size and mtime have not changed (0 when just seen)."""
        now_stat, now = self._stat(path), time.monotonic()
        seen = self._stats.get(k)
        if seen is None or seen[0] != now_stat:
            self._stats[k] = (now_stat, now)
            return 0.0
        return now - seen[1]

    def poll(self, final: bool = False) -> bool:
        """Score the predictions that are complete; returns True when something changed.

        Live (``final=False``) a listed file is read only once start.txt holds its timestamp
        or it has been quiet (same size and mtime) for ``stable_after`` seconds; it is
        accepted when it looked complete while read (see :meth:`_read_prediction`) or is
        quiet, else retried on the next poll. A file judged bad is judged again if it
        changes. ``final=True`` (ingestion has ended) reads and judges everything.
        """
        if self.solution is None:
            return False
        self._refresh_start(final)
        try:
            listed = protocol.list_predictions(self.prediction_dir)
        except (FileNotFoundError, NotADirectoryError):
            if final:
                self.note(f"{self.prediction_dir}: prediction folder not found", BAD_INPUT)
            return False
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
            quiet = self._quiet_for(k, path)
            entry = self.scores.get(k)
            if entry is not None:
                if entry.error is not None and self._judged.get(k) != self._stat(path):
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
            entry, pred, looked_complete = self._read_prediction(k, path)
            if not (final or stable or (pred is not None and looked_complete)):
                continue  # maybe still being written by a producer that does not rename
            entry.timestamp = stamps.get(k)
            self._judged[k] = self._stat(path)
            self.scores[k] = entry
            changed = True
            if pred is None:
                self.note(f"{entry.error}; prediction {k} is not scored", BAD_INPUT)
                continue
            self._score(entry, pred)
            log.info(
                "prediction %d: NAUC %.4f%s",
                k,
                entry.nauc,
                f", accuracy {entry.accuracy:.4f}" if entry.accuracy is not None else "",
            )
        return changed

    # ---------------------------------------------------------------- results

    def result(self) -> ScoreResult:
        """The current state as a :class:`ScoreResult` (notes timestamp problems)."""
        preds = [self.scores[k] for k in sorted(self.scores)]
        budget = self.time_budget
        start_time = self.start.start_time if self.start is not None else None
        curve = None
        scored = [p for p in preds if p.error is None and p.timestamp is not None]
        if self._finished:
            for p in preds:
                if p.error is None and p.timestamp is None and self.start is not None:
                    self.note(
                        f"{self.prediction_dir / protocol.START_FILE}: no timestamp for "
                        f"prediction {p.k}; it is left off the learning curve",
                        BAD_INPUT,
                    )
        if start_time is not None and budget is not None:
            prev = None
            for p in scored:
                t = p.timestamp - start_time  # type: ignore[operator]
                if t < 0:
                    self.note(
                        f"start.txt: prediction {p.k} is timestamped {-t:.3f} s before "
                        "start_time; it is left off the learning curve",
                        BAD_INPUT,
                    )
                elif t > budget:
                    self.note(
                        f"prediction {p.k} was made at t = {t:.2f} s, after the time budget "
                        f"of {budget:g} s: it does not count in the ALC",
                    )
                if prev is not None and p.timestamp < prev.timestamp:  # type: ignore[operator]
                    self.note(
                        f"start.txt: timestamps out of order: prediction {p.k} "
                        f"({p.timestamp!r}) is earlier than prediction {prev.k} "
                        f"({prev.timestamp!r}); the learning curve takes predictions in "
                        "time order",
                        BAD_INPUT,
                    )
                prev = p
            on_curve = [
                p
                for p in scored
                if 0 <= p.timestamp - start_time <= budget  # type: ignore[operator]
            ]
            curve = LearningCurve(
                timestamps=tuple(p.timestamp - start_time for p in on_curve),  # type: ignore[operator]
                scores=tuple(p.nauc for p in on_curve),  # type: ignore[misc]
                time_budget=budget,
                t0=self.t0,
                task_name=self.task_name,
            )
        alc_value = curve.alc() if curve is not None else 0.0
        duration = (scored[-1].timestamp - start_time) if scored else 0.0  # type: ignore[operator]
        status = next((s for s in _SEVERITY if s in self.problems), None)
        if status is None:
            status = OK if self._finished else RUNNING
        return ScoreResult(
            task_name=self.task_name,
            status=status,
            error=self.problems.get(status),
            messages=list(self.messages),
            alc=alc_value,
            duration=float(duration),
            time_budget=budget,
            t0=self.t0,
            start_time=start_time,
            predictions=preds,
            curve=curve,
            multiclass=self.multiclass,
            finished=self._finished,
        )

    def _error_bars(self, result: ScoreResult) -> None:
        if not self.bootstrap or self.solution is None or result.curve is None:
            return
        if self._last_array is not None and result.scored:
            rng = np.random.default_rng(self.seed + 1)
            n = self.solution.shape[0]
            values = []
            for _ in range(NAUC_BOOTSTRAP_RESAMPLES):
                idx = rng.integers(0, n, n)
                values.append(self._nauc_or_nan(self.solution[idx], self._last_array[idx]))
            arr = np.array(values)
            if np.isfinite(arr).any():
                result.nauc_error_bar = (float(np.nanmean(arr)), float(np.nanstd(arr)))
        start_time = result.start_time
        budget = result.time_budget
        on_curve = [
            p
            for p in result.scored
            if 0 <= p.timestamp - start_time <= budget  # type: ignore[operator]
        ]
        alcs = []
        for j in range(len(self._boot_idx)):
            scores = [p.bootstrap_nauc[j] for p in on_curve]
            if not np.isfinite(scores).all():
                continue
            alcs.append(
                LearningCurve(
                    tuple(p.timestamp - start_time for p in on_curve),  # type: ignore[operator]
                    tuple(scores),
                    time_budget=budget,  # type: ignore[arg-type]
                    t0=self.t0,
                ).alc()
            )
        if alcs:
            result.alc_error_bar = (float(np.mean(alcs)), float(np.std(alcs)))

    def write_outputs(self, result: ScoreResult, *, live: bool) -> None:
        """Rewrite every file of the score folder from ``result`` (each atomically)."""
        from autodl.scoring.report import (
            PredictionRow,
            render_detailed_results,
            render_learning_curve,
        )

        scored = result.scored
        # An empty curve is written as the 2019 program wrote it: integer zeros.
        protocol.write_scores_txt(
            self.score_dir,
            score=result.alc if scored else 0,
            duration=result.duration if scored else 0,
            timestamps=result.timestamps if scored else [],
            nauc_scores=result.nauc_scores,
            accuracy=result.accuracy_scores,
        )
        protocol.write_scores_json(self.score_dir, result.to_json())
        curve = result.curve
        if curve is not None:
            t, s = curve.timestamps, curve.scores
            by_time = sorted(
                (p for p in scored if 0 <= p.timestamp - result.start_time <= curve.time_budget),  # type: ignore[operator]
                key=lambda p: p.timestamp,  # type: ignore[arg-type,return-value]
            )
            record = curve.to_record()
            record["accuracy"] = [p.accuracy for p in by_time] if self.multiclass else None
            record["k"] = [p.k for p in by_time]
            record["timestamps"], record["nauc"] = list(t), list(s)
            protocol.write_learning_curve(self.score_dir, record)
        images = []
        if curve is not None and self.draw:
            png = render_learning_curve(curve)
            name = f"learning-curve-{self.task_name}.png"
            protocol.atomic_write(self.score_dir / name, png)
            images.append((name, png))
        rows = []
        for p in result.predictions:
            t = (
                None
                if p.timestamp is None or result.start_time is None
                else (p.timestamp - result.start_time)
            )
            tr = None
            note = p.error or ""
            if t is not None and result.time_budget is not None:
                if 0 <= t <= result.time_budget:
                    tr = float(rescale_time(t, result.time_budget, self.t0))
                elif t > result.time_budget:
                    note = note or "after the time budget: not on the curve"
            rows.append(PredictionRow(p.k, t, tr, p.nauc, p.accuracy, note))
        summary = [
            ("status", result.status),
            ("ALC (score)", f"{result.alc:.4f}"),
            ("predictions", str(len(scored))),
            ("last NAUC", f"{scored[-1].nauc:.4f}" if scored else "-"),
        ]
        if self.multiclass and scored:
            summary.append(("last accuracy", f"{scored[-1].accuracy:.4f}"))
        if result.time_budget is not None:
            summary.append(("time budget", f"{result.time_budget:g} s"))
        if result.nauc_error_bar:
            summary.append(
                ("last NAUC, bootstrap", "{:.4f} ± {:.4f}".format(*result.nauc_error_bar))
            )
        if result.alc_error_bar:
            summary.append(("ALC, bootstrap", "{:.4f} ± {:.4f}".format(*result.alc_error_bar)))
        page = render_detailed_results(
            task_name=self.task_name or "(unknown)",
            images=images,
            summary=summary,
            rows=rows,
            messages=result.messages,
            live=live,
        )
        protocol.atomic_write(self.score_dir / "detailed_results.html", page)

    # ---------------------------------------------------------------- endings

    def _check_end(self) -> None:
        try:
            end = protocol.read_end(self.prediction_dir)
        except ValueError as e:  # ProtocolError, or bytes that are not UTF-8
            path = self.prediction_dir / protocol.END_FILE
            self.note(str(e) if isinstance(e, ProtocolError) else f"{path}: {e}", BAD_INPUT)
            return
        except (FileNotFoundError, NotADirectoryError):
            return
        if end is None:
            self.note(
                f"{self.prediction_dir / protocol.END_FILE}: not found: ingestion had not "
                "finished; scoring the predictions that exist",
                level=logging.INFO,
            )
        elif not end.ingestion_success:
            detail = ""
            try:
                import json

                info = json.loads((self.prediction_dir / "ingestion.json").read_text())
                detail = f" (status {info.get('status')!r}: {info.get('error')})"
            except (OSError, ValueError, AttributeError):
                pass
            self.note(
                f"{self.prediction_dir / protocol.END_FILE}: ingestion_success is 0: "
                f"ingestion reported a failure{detail}; scoring the predictions it made",
                INGESTION_FAILED,
                level=logging.ERROR,
            )

    def finish(self, *, check_end: bool = True) -> ScoreResult:
        """Final pass: every remaining prediction, final checks, error bars, final outputs."""
        self.poll(final=True)
        if check_end and self.solution is not None:
            self._check_end()
        self._finished = True
        if self.solution is not None and not self.scores:
            self.note(
                f"{self.prediction_dir}: no prediction file {self.task_name}.predict_<k>: "
                "nothing to score (ALC 0)",
                BAD_INPUT,
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
        level = logging.INFO if result.status == OK else logging.ERROR
        log.log(
            level,
            "task %s: ALC %.6f from %d prediction(s); status %s",
            self.task_name,
            result.alc,
            len(result.scored),
            result.status,
        )
        return result

    def watch(
        self,
        *,
        poll_interval: float = 1.0,
        start_timeout: float = 1800.0,
        kill_grace: float = 0.0,
        term_timeout: float = 5.0,
    ) -> ScoreResult:
        """Score live beside ingestion until ``end.txt`` appears or the budget passes.

        When ``start_time + time_budget (+ kill_grace)`` passes first, ingestion is ended by
        the pid in ``start.txt`` (its process group when it leads one) and what exists is
        scored with status ``time_limit_exceeded``.
        """
        self.write_outputs(self.result(), live=True)
        if self.solution is None:
            return self.finish(check_end=False)
        end_path = self.prediction_dir / protocol.END_FILE
        waited_until = time.monotonic() + start_timeout
        while self.start is None:
            self._refresh_start(final=False)
            if self.start is not None or end_path.exists():
                break
            if time.monotonic() > waited_until:
                start_path = self.prediction_dir / protocol.START_FILE
                if start_path.exists():
                    self._refresh_start(final=True)  # says what is wrong with it
                else:
                    self.note(
                        f"{start_path}: did not appear within {start_timeout:g} s: "
                        "ingestion did not start",
                        BAD_INPUT,
                        level=logging.ERROR,
                    )
                return self.finish(check_end=False)
            time.sleep(poll_interval)
        if self.start is not None:
            log.info(
                "ingestion started (pid %d, budget %g s); scoring live",
                self.start.ingestion_pid,
                self.time_budget,
            )
        while True:
            if end_path.exists():
                log.info("end.txt found: ingestion has ended")
                return self.finish()
            start = self.start
            budget = self.time_budget
            if start is not None and budget is not None:
                if time.time() >= start.start_time + budget + kill_grace:
                    return self._time_out(start, budget, term_timeout)
            if self.poll():
                r = self.result()
                self.write_outputs(r, live=True)
                log.info("%d prediction(s) scored; current ALC %.4f", len(r.scored), r.alc)
            time.sleep(poll_interval)

    def _time_out(
        self, start: protocol.StartInfo, budget: float, term_timeout: float
    ) -> ScoreResult:
        pid = start.ingestion_pid
        refused = ingestion_pid_problem(pid, start.start_time)
        if refused is not None:
            how = refused
        elif pid > 0 and is_alive(pid):
            how = end_process(pid, term_timeout)
        else:
            how = f"ingestion (pid {pid}) had already ended without writing end.txt"
        self.note(
            f"the time budget of {budget:g} s passed before end.txt appeared: {how}; "
            "scoring the predictions made so far",
            TIME_LIMIT_EXCEEDED,
            level=logging.ERROR,
        )
        return self.finish(check_end=False)


def score_folder(
    solution_dir: str | os.PathLike[str],
    prediction_dir: str | os.PathLike[str],
    score_dir: str | os.PathLike[str],
    time_budget: float | None = None,
    t0: float = DEFAULT_T0,
    *,
    seed: int = 0,
    bootstrap: bool = True,
    draw: bool = True,
) -> ScoreResult:
    """Score a finished prediction folder and write the score folder; see the module doc."""
    scorer = Scorer(
        solution_dir,
        prediction_dir,
        score_dir,
        time_budget=time_budget,
        t0=t0,
        seed=seed,
        bootstrap=bootstrap,
        draw=draw,
    )
    return scorer.finish()


def watch_folder(
    solution_dir: str | os.PathLike[str],
    prediction_dir: str | os.PathLike[str],
    score_dir: str | os.PathLike[str],
    time_budget: float | None = None,
    t0: float = DEFAULT_T0,
    *,
    seed: int = 0,
    bootstrap: bool = True,
    draw: bool = True,
    poll_interval: float = 1.0,
    start_timeout: float = 1800.0,
    kill_grace: float = 0.0,
    term_timeout: float = 5.0,
    stable_after: float = 2.0,
) -> ScoreResult:
    """Score live beside ingestion (see :meth:`Scorer.watch`) and return the final result."""
    scorer = Scorer(
        solution_dir,
        prediction_dir,
        score_dir,
        time_budget=time_budget,
        t0=t0,
        seed=seed,
        bootstrap=bootstrap,
        draw=draw,
        stable_after=stable_after,
    )
    return scorer.watch(
        poll_interval=poll_interval,
        start_timeout=start_timeout,
        kill_grace=kill_grace,
        term_timeout=term_timeout,
    )
