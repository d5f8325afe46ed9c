"""Score a prediction folder against its solution: the :class:`Scorer`, offline or live.

(About 600 lines, on purpose: one class holds a scoring's state, which every poll of a
folder that may still be written updates; records, live watching and outputs are in
:mod:`.result`, :mod:`.live` and :mod:`.outputs`.)

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
import stat
import time
from pathlib import Path

import numpy as np

from autodl import protocol
from autodl.protocol import ProtocolError, Status
from autodl.protocol.predictions import (
    MAX_START_BYTES,
    FileTooLarge,
    file_kind,
    parse_mapping,
    parse_matrix,
    read_regular,
    scan_predictions,
)
from autodl.scoring.curve import COMPAT_RULES, DEFAULT_T0, LearningCurve, alc_2019
from autodl.scoring.metrics import accuracy, is_multiclass, nauc, valid_columns
from autodl.scoring.result import PredictionScore, ScoreResult

__all__ = [
    "ALC_BOOTSTRAP_CURVES",
    "NAUC_BOOTSTRAP_RESAMPLES",
    "SEVERITY",
    "Scorer",
    "score_folder",
]

log = logging.getLogger("autodl.scoring")

#: Problems by severity, most severe first: the first one found is the scoring's status.
SEVERITY = (
    Status.ERROR,
    Status.BAD_SOLUTION,
    Status.TIME_LIMIT_EXCEEDED,
    Status.INGESTION_FAILED,
    Status.BAD_INPUT,
)

NAUC_BOOTSTRAP_RESAMPLES = 10  # resamples of the last prediction (as the 2019 program)
ALC_BOOTSTRAP_CURVES = 5  # resampled learning curves

# A prediction file may hold at most this many bytes per value (the longest repr of a
# float64, a sign and a separator), plus slack: more is not a prediction, and reading
# gigabytes would exhaust the scorer's memory.
PREDICTION_BYTES_PER_VALUE = 25
PREDICTION_SLACK_BYTES = 1024 * 1024


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
        self._stats: dict[int, tuple[tuple[int, int] | None, float]] = {}
        self._judged: dict[int, tuple[int, int] | None] = {}
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
            rng = np.random.default_rng(seed)
            n = self.solution.shape[0]
            self._boot_idx = [rng.integers(0, n, n) for _ in range(ALC_BOOTSTRAP_CURVES)]

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
        except ProtocolError as e:
            self.note(str(e), Status.BAD_SOLUTION, level=logging.ERROR)
            return
        try:
            sol = protocol.read_matrix(path, name="solution")
        except ProtocolError as e:
            self.note(str(e), Status.BAD_SOLUTION, level=logging.ERROR)
            return
        if sol.size == 0:
            self.note(f"{path}: the solution is empty", Status.BAD_SOLUTION, level=logging.ERROR)
            return
        if not np.isfinite(sol).all():
            i, j = np.argwhere(~np.isfinite(sol))[0]
            self.note(
                f"{path}: line {i + 1}, column {j + 1}: {float(sol[i, j])!r} "
                "is not a finite number",
                Status.BAD_SOLUTION,
                level=logging.ERROR,
            )
            return
        if not valid_columns(sol).any():
            self.note(
                f"{path}: no label column holds both classes (0 and 1), so NAUC is undefined",
                Status.BAD_SOLUTION,
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
        if self.bad_option:
            return None
        if self.time_budget_override is not None:
            return float(self.time_budget_override)
        return self.start.time_budget if self.start is not None else None

    def refresh_start(self, final: bool) -> None:
        """Read ``start.txt`` again (live, only once its last line is whole)."""
        path = self.prediction_dir / protocol.START_FILE
        try:
            text = read_regular(path, limit=MAX_START_BYTES)
        except FileNotFoundError:
            if final:
                self.note(
                    f"{path}: file not found: no timestamps, so no learning curve (ALC 0)",
                    Status.BAD_INPUT,
                )
            return
        except NotADirectoryError:
            return
        except ProtocolError as e:  # a FIFO, a link, a huge file: never read
            if final:
                self.note(f"{e} (no learning curve can be drawn from it)", Status.BAD_INPUT)
            return
        if not final and not text.endswith(b"\n"):
            return  # a timestamp line is being appended; read it on the next poll
        try:
            self.start = protocol.read_start(self.prediction_dir)
        except ValueError as e:  # ProtocolError, or bytes that are not UTF-8
            if final:  # live, a later poll may find it whole
                what = str(e) if isinstance(e, ProtocolError) else f"{path}: {e}"
                self.note(f"{what} (no learning curve can be drawn from it)", Status.BAD_INPUT)
            return
        if final:
            for k in sorted(self.start.bad_timestamps):
                self.note(
                    f"{self.start.bad_timestamps[k]}; prediction {k} is left off the learning "
                    "curve",
                    Status.BAD_INPUT,
                )

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
        n, m = self.solution.shape
        limit = n * m * PREDICTION_BYTES_PER_VALUE + PREDICTION_SLACK_BYTES
        try:
            text = read_regular(path, limit=limit, follow_symlinks=False)
            pred = parse_matrix(text, path)
        except FileNotFoundError:
            entry.error = f"{path}: removed while being read"
            return entry, None, False
        except FileTooLarge as e:
            entry.error = f"{e} (a prediction of {n} x {m} values takes far less)"
            return entry, None, False
        except ProtocolError as e:
            entry.error = str(e)
            return entry, None, False
        ends_with_newline = text.endswith(b"\n")
        looked_complete = ends_with_newline and before is not None and before == self._stat(path)
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
        if self._finished:
            for p in preds:
                if p.error is None and p.timestamp is None and self.start is not None:
                    self.note(
                        f"{self.prediction_dir / protocol.START_FILE}: no timestamp for "
                        f"prediction {p.k}; it is left off the learning curve",
                        Status.BAD_INPUT,
                    )
        if start_time is not None and budget is not None:
            prev = None
            for p in scored:
                t = p.timestamp - start_time  # type: ignore[operator]
                if t < 0:
                    self.note(
                        f"{protocol.START_FILE}: prediction {p.k} is timestamped {-t:.3f} s before "
                        "start_time; it is left off the learning curve",
                        Status.BAD_INPUT,
                    )
                elif t > budget:
                    self.note(
                        f"prediction {p.k} was made at t = {t:.2f} s, after the time budget "
                        f"of {budget:g} s: it does not count in the ALC",
                    )
                if prev is not None and p.timestamp < prev.timestamp:  # type: ignore[operator]
                    self.note(
                        f"{protocol.START_FILE}: timestamps out of order: prediction {p.k} "
                        f"({p.timestamp!r}) is earlier than prediction {prev.k} "
                        f"({prev.timestamp!r}); the learning curve takes predictions in "
                        "time order",
                        Status.BAD_INPUT,
                    )
                prev = p
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
            result.curve = self._curve(result, [p.nauc for p in result.on_curve])  # type: ignore[misc]
            if self.compat == "2019":  # every prediction, by k, those past the budget too
                result.alc = alc_2019(result.timestamps, result.nauc_scores, budget, self.t0)
            else:
                result.alc = result.curve.alc()
        return result

    def _curve(self, result: ScoreResult, scores: list[float]) -> LearningCurve:
        """The learning curve of ``scores``, one per prediction on ``result``'s curve."""
        return LearningCurve(
            timestamps=tuple(result.seconds(p) for p in result.on_curve),  # type: ignore[misc]
            scores=tuple(scores),
            time_budget=result.time_budget,  # type: ignore[arg-type]
            t0=self.t0,
            task_name=self.task_name,
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
        alcs = []
        for j in range(len(self._boot_idx)):
            scores = [p.bootstrap_nauc[j] for p in result.on_curve]
            if np.isfinite(scores).all():
                alcs.append(self._curve(result, scores).alc())
        if alcs:
            result.alc_error_bar = (float(np.mean(alcs)), float(np.std(alcs)))

    def write_outputs(self, result: ScoreResult, *, live: bool) -> None:
        """Rewrite every file of the score folder from ``result`` (each atomically)."""
        from autodl.scoring.outputs import write_score_folder

        write_score_folder(self.score_dir, result, live=live, draw=self.draw)

    # ---------------------------------------------------------------- endings

    def end_present(self) -> bool:
        """Whether ``end.txt`` exists as a regular file (live: ingestion has ended).

        Anything else by that name (a FIFO, a link, a directory) is noted and ignored: it
        is never opened, and live scoring goes on to the deadline.
        """
        path = self.prediction_dir / protocol.END_FILE
        try:
            mode = os.lstat(path).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return False
        if stat.S_ISREG(mode):
            return True
        self.note(
            f"{path}: is {file_kind(mode)}, not a regular file; not read, and not taken as "
            "the end of ingestion",
            Status.BAD_INPUT,
        )
        return False

    def _read_end(self) -> protocol.EndInfo | None:
        # As protocol.read_end, but read with read_regular: bounded and never blocking.
        path = self.prediction_dir / protocol.END_FILE
        try:
            data = parse_mapping(path, read_regular(path, limit=MAX_START_BYTES))
        except (FileNotFoundError, NotADirectoryError):
            return None
        try:
            return protocol.EndInfo(
                ingestion_duration=float(data.get("ingestion_duration", 0.0)),
                ingestion_success=int(data.get("ingestion_success", 0)),
                end_time=float(data.get("end_time", 0.0)),
            )
        except (TypeError, ValueError, OverflowError) as e:
            raise ProtocolError(f"{path}: bad value: {e}") from None

    def _check_end(self) -> None:
        try:
            end = self._read_end()
        except ProtocolError as e:
            self.note(str(e), Status.BAD_INPUT)
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
                # Checked first: a FIFO by that name would block the reader.
                read_regular(self.prediction_dir / protocol.INGESTION_FILE, limit=MAX_START_BYTES)
                info = protocol.read_ingestion_record(self.prediction_dir)
                detail = f" (status {info.status.value!r}: {info.error})"
            except (ProtocolError, OSError):  # ingestion.json is ingestion's extra, not 2019's
                pass
            self.note(
                f"{self.prediction_dir / protocol.END_FILE}: ingestion_success is 0: "
                f"ingestion reported a failure{detail}; scoring the predictions it made",
                Status.INGESTION_FAILED,
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
    *,
    seed: int = 0,
    bootstrap: bool = True,
    draw: bool = True,
    compat: str = "autodl",
) -> ScoreResult:
    """Score a finished prediction folder and write the score folder; see the module doc.

    ``compat="2019"`` makes the ALC the 2019 program's number (:func:`~.curve.alc_2019`).
    """
    scorer = Scorer(
        solution_dir,
        prediction_dir,
        score_dir,
        time_budget=time_budget,
        t0=t0,
        seed=seed,
        bootstrap=bootstrap,
        draw=draw,
        compat=compat,
    )
    return scorer.finish()
