"""What a scoring made of a prediction folder: one :class:`PredictionScore` per file and the
:class:`ScoreResult` of the folder, whose :meth:`ScoreResult.to_record` is ``scores.json``.

>>> from pathlib import Path
>>> p = PredictionScore(k=0, path=Path("toy.predict_0"), nauc=0.5, timestamp=110.0)
>>> r = ScoreResult(task_name="toy", status=Status.OK, error=None, messages=[], alc=0.4,
...                 duration=10.0, time_budget=60.0, t0=60.0, start_time=100.0,
...                 predictions=[p], curve=None, multiclass=False)
>>> r.timestamps, r.nauc_scores, r.exit_code
([10.0], [0.5], 0)
>>> list(r.to_record().to_dict())[:5]
['score', 'alc', 'duration', 'nauc', 'accuracy']
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from autodl.protocol import ScoreRecord, Status
from autodl.scoring.curve import LearningCurve

__all__ = ["Note", "PredictionScore", "ScoreResult"]


class Note(NamedTuple):
    """One message for :meth:`autodl.scoring.Scorer.note`: its text, status and log level."""

    text: str
    status: Status | None = None  # None: only said, not a problem
    level: int = logging.WARNING


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
    status: Status
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
    compat: str = "autodl"  # how ``alc`` was computed: ours or "2019" (curve.COMPAT_RULES)

    @property
    def exit_code(self) -> int:
        return self.status.exit_code

    @property
    def score(self) -> float:
        return self.alc

    @property
    def scored(self) -> list[PredictionScore]:
        """Valid predictions with a timestamp, by k: the lists of ``scores.txt``."""
        return [p for p in self.predictions if p.error is None and p.timestamp is not None]

    def seconds(self, p: PredictionScore) -> float | None:
        """When ``p`` was made, in seconds since ingestion started (None when unknown)."""
        if p.timestamp is None or self.start_time is None:
            return None
        return p.timestamp - self.start_time

    @property
    def on_curve(self) -> list[PredictionScore]:
        """The scored predictions made within the budget, by k: the learning curve's points."""
        if self.time_budget is None:
            return []
        return [p for p in self.scored if 0 <= self.seconds(p) <= self.time_budget]  # type: ignore[operator]

    def curve_of(self, scores: list[float]) -> LearningCurve:
        """The learning curve of ``scores``, one per prediction :attr:`on_curve`, in order."""
        return LearningCurve(
            timestamps=tuple(self.seconds(p) for p in self.on_curve),  # type: ignore[misc]
            scores=tuple(scores),
            time_budget=self.time_budget,  # type: ignore[arg-type]
            t0=self.t0,
            task_name=self.task_name,
        )

    @property
    def timestamps(self) -> list[float]:
        assert self.start_time is not None or not self.scored
        return [self.seconds(p) for p in self.scored]  # type: ignore[misc]

    @property
    def nauc_scores(self) -> list[float]:
        return [p.nauc for p in self.scored]  # type: ignore[misc]

    @property
    def accuracy_scores(self) -> list[float] | None:
        return [p.accuracy for p in self.scored] if self.multiclass else None  # type: ignore[misc]

    def to_record(self) -> ScoreRecord:
        """The ``scores.json`` record of this result."""
        last = self.scored[-1] if self.scored else None
        nb, ab = self.nauc_error_bar, self.alc_error_bar
        return ScoreRecord(
            score=self.alc,
            alc=self.alc,
            duration=self.duration,
            nauc=last.nauc if last else None,
            accuracy=last.accuracy if last else None,
            num_predictions=len(self.scored),
            num_bad_predictions=sum(p.error is not None for p in self.predictions),
            status=self.status,
            error=self.error,
            finished=self.finished,
            task_name=self.task_name,
            time_budget=self.time_budget,
            t0=self.t0,
            start_time=self.start_time,
            compat=self.compat,
            nauc_bootstrap_mean=nb[0] if nb else None,
            nauc_bootstrap_std=nb[1] if nb else None,
            alc_bootstrap_mean=ab[0] if ab else None,
            alc_bootstrap_std=ab[1] if ab else None,
            messages=list(self.messages),
        )

    def to_json(self) -> dict[str, Any]:
        """The flat ``scores.json`` object (``to_record().to_dict()``)."""
        return self.to_record().to_dict()
