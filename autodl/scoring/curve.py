"""Learning curves on log-rescaled time and the area under them (ALC).

A learning curve is the step function of a run's scores over time. Time ``t`` (seconds
since ingestion started) is rescaled to ``[0, 1]`` by

    t~(t) = log(1 + t / t0) / log(1 + T / t0)        (T: time budget, t0 = 60 s)

and the curve goes through (0, 0), then (t~_i, s_i) for each prediction made within the
budget, held at the last score up to t~ = 1. ALC is the area under that step function:
``sum_i (t~_{i+1} - t~_i) * s_i`` with ``t~_{n+1} = 1``. No prediction: ALC = 0.

Curves of several runs (or datasets with the same budget) add, scale and average as
step functions, like the 2019 program's ``LearningCurve`` algebra; the ALC of a sum is
the sum of the ALCs.

:func:`alc_2019` is the number the 2019 scoring program wrote, which differs by design
for predictions made after the budget (``autodl score --compat 2019``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from autodl.protocol.scores import COMPAT_RULES

__all__ = ["COMPAT_RULES", "DEFAULT_T0", "LearningCurve", "alc", "alc_2019", "rescale_time"]

DEFAULT_T0 = 60.0


def rescale_time(t: ArrayLike, time_budget: float, t0: float = DEFAULT_T0) -> np.ndarray:
    """``log(1 + t / t0) / log(1 + T / t0)``: 0 at the start, 1 at the time budget.

    >>> round(float(rescale_time(60.0, 1200.0, t0=60.0)), 6)   # log(2) / log(21)
    0.22767
    """
    if not time_budget > 0:
        raise ValueError(f"time budget must be > 0, got {time_budget!r}")
    if not t0 > 0:
        raise ValueError(f"t0 must be > 0, got {t0!r}")
    return np.log1p(np.asarray(t, dtype=np.float64) / t0) / np.log1p(time_budget / t0)


@dataclass(frozen=True)
class LearningCurve:
    """Scores over time of one run; points are kept sorted by time (stable).

    ``timestamps`` are seconds since the start (>= 0). Points after ``time_budget`` are
    kept (they are part of the record) but do not count in :meth:`alc`.
    """

    timestamps: tuple[float, ...] = ()
    scores: tuple[float, ...] = ()
    time_budget: float = 1200.0
    t0: float = DEFAULT_T0
    task_name: str | None = None
    score_name: str = "nauc"
    _t: np.ndarray = field(init=False, repr=False, compare=False)
    _s: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        t = np.asarray(self.timestamps, dtype=np.float64).ravel()
        s = np.asarray(self.scores, dtype=np.float64).ravel()
        if t.shape != s.shape:
            raise ValueError(f"{t.size} timestamps but {s.size} scores")
        if not (np.isfinite(self.time_budget) and self.time_budget > 0):
            raise ValueError(f"time budget must be a number > 0, got {self.time_budget!r}")
        if not (np.isfinite(self.t0) and self.t0 > 0):
            raise ValueError(f"t0 must be a number > 0, got {self.t0!r}")
        if not np.isfinite(t).all() or not np.isfinite(s).all():
            raise ValueError("timestamps and scores must be finite numbers")
        if (t < 0).any():
            raise ValueError(f"timestamp {t[t < 0][0]!r} is before the start (negative)")
        order = np.argsort(t, kind="stable")
        t, s = t[order], s[order]
        t.flags.writeable = False
        s.flags.writeable = False
        object.__setattr__(self, "timestamps", tuple(t.tolist()))
        object.__setattr__(self, "scores", tuple(s.tolist()))
        object.__setattr__(self, "time_budget", float(self.time_budget))
        object.__setattr__(self, "t0", float(self.t0))
        object.__setattr__(self, "_t", t)
        object.__setattr__(self, "_s", s)

    # ------------------------------------------------------------------ the curve

    def __len__(self) -> int:
        return self._t.size

    def in_budget(self) -> tuple[np.ndarray, np.ndarray]:
        """(timestamps, scores) of the points made within the time budget."""
        keep = self._t <= self.time_budget
        return self._t[keep], self._s[keep]

    def step_points(self) -> tuple[np.ndarray, np.ndarray]:
        """The step function's corners on rescaled time: (0, 0), (t~_i, s_i)..., (1, s_n)."""
        t, s = self.in_budget()
        x = np.concatenate([[0.0], rescale_time(t, self.time_budget, self.t0), [1.0]])
        last = s[-1] if s.size else 0.0
        y = np.concatenate([[0.0], s, [last]])
        return x, y

    def alc(self) -> float:
        """Area under the step learning curve on rescaled time (0 with no point in budget)."""
        x, y = self.step_points()
        return float(np.dot(np.diff(x), y[:-1]))

    @property
    def duration(self) -> float:
        """Time of the last point (seconds since start; 0 without points)."""
        return float(self._t[-1]) if self._t.size else 0.0

    @property
    def final_score(self) -> float:
        """Score of the last point within the budget (0 without one)."""
        _, s = self.in_budget()
        return float(s[-1]) if s.size else 0.0

    def value_at(self, t: ArrayLike) -> np.ndarray:
        """The step function's value at times ``t`` (seconds): 0 before the first point."""
        t = np.asarray(t, dtype=np.float64)
        idx = np.searchsorted(self._t, t, side="right") - 1
        return np.where(idx >= 0, self._s[np.maximum(idx, 0)] if self._s.size else 0.0, 0.0)

    # ------------------------------------------------------------------ algebra

    def _check_compatible(self, other: LearningCurve) -> None:
        if not isinstance(other, LearningCurve):
            raise TypeError(f"can only combine learning curves, got {type(other).__name__}")
        for name in ("time_budget", "t0", "score_name"):
            if getattr(self, name) != getattr(other, name):
                raise ValueError(
                    f"cannot combine learning curves of different {name}: "
                    f"{getattr(self, name)!r} and {getattr(other, name)!r}"
                )

    def _with(self, timestamps: np.ndarray, scores: np.ndarray, **changes: Any) -> LearningCurve:
        fields = {
            "time_budget": self.time_budget,
            "t0": self.t0,
            "task_name": self.task_name,
            "score_name": self.score_name,
        }
        fields.update(changes)
        return LearningCurve(tuple(timestamps.tolist()), tuple(scores.tolist()), **fields)

    def __add__(self, other: LearningCurve | int) -> LearningCurve:
        if isinstance(other, (int, float)) and not isinstance(other, bool) and other == 0:
            return self  # so that sum(curves) works
        self._check_compatible(other)  # type: ignore[arg-type]
        assert isinstance(other, LearningCurve)
        t = np.sort(np.concatenate([self._t, other._t]))
        if t.size == 0:
            return self._with(t, t)
        # Timestamps within np.isclose of each other are one step, as in the 2019 algebra:
        # the group keeps its first time and takes both curves' values at its last time.
        new_group = np.ones(t.size, dtype=bool)
        new_group[1:] = ~np.isclose(t[1:], t[:-1])
        first = np.flatnonzero(new_group)
        last = np.append(first[1:], t.size) - 1
        values = self.value_at(t[last]) + other.value_at(t[last])
        task = self.task_name if self.task_name == other.task_name else None
        return self._with(t[first], values, task_name=task)

    __radd__ = __add__

    def __mul__(self, factor: float) -> LearningCurve:
        if isinstance(factor, bool) or not isinstance(factor, (int, float, np.number)):
            raise TypeError(f"can only scale a learning curve by a number, got {factor!r}")
        return self._with(self._t, self._s * float(factor))

    __rmul__ = __mul__

    def __neg__(self) -> LearningCurve:
        return self * -1.0

    def __sub__(self, other: LearningCurve) -> LearningCurve:
        return self + (-other)

    def __truediv__(self, factor: float) -> LearningCurve:
        return self * (1.0 / float(factor))

    @staticmethod
    def mean(curves: Iterable[LearningCurve]) -> LearningCurve:
        """The average step function of several curves (same budget and t0)."""
        curves = list(curves)
        if not curves:
            raise ValueError("mean of no learning curves")
        total = curves[0]
        for c in curves[1:]:
            total = total + c
        return total / len(curves)

    # ------------------------------------------------------------------ records

    def to_record(self) -> dict[str, Any]:
        """The curve as plain data (what ``learning_curve.json`` holds, minus extras)."""
        return {
            "task": self.task_name,
            "time_budget": self.time_budget,
            "t0": self.t0,
            "score_name": self.score_name,
            "timestamps": list(self.timestamps),
            self.score_name: list(self.scores),
            "alc": self.alc(),
        }

    @classmethod
    def from_record(cls, record: dict[str, Any], score_name: str = "nauc") -> LearningCurve:
        """Rebuild a curve from :meth:`to_record` data or a ``learning_curve.json`` dict.

        >>> c = LearningCurve.from_record({"time_budget": 100, "timestamps": [5], "nauc": [0.5]})
        >>> c.t0, c.scores, round(c.alc(), 4)
        (60.0, (0.5,), 0.4592)
        """
        scores = record.get(score_name)
        if scores is None:
            raise ValueError(f"the record has no {score_name!r} scores")
        t0 = record.get("t0")  # absent or null in other producers' records: the default
        return cls(
            timestamps=tuple(record.get("timestamps", ())),
            scores=tuple(scores),
            time_budget=float(record["time_budget"]),
            t0=DEFAULT_T0 if t0 is None else float(t0),
            task_name=record.get("task"),
            score_name=score_name,
        )


def alc(
    timestamps: Sequence[float] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    time_budget: float,
    t0: float = DEFAULT_T0,
) -> float:
    """Area under the learning curve of ``scores`` made at ``timestamps`` (seconds since start).

    Points after ``time_budget`` are ignored; points are taken in time order.

    >>> round(alc([60.0], [1.0], time_budget=1200.0), 6)   # 1 - log(2)/log(21)
    0.77233
    """
    return LearningCurve(tuple(timestamps), tuple(scores), time_budget=time_budget, t0=t0).alc()


def alc_2019(
    timestamps: Sequence[float] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    time_budget: float,
    t0: float = DEFAULT_T0,
) -> float:
    """The ALC as the 2019 scoring program wrote it in ``scores.txt``.

    Every prediction counts, in the order given (the order of ``k``), those made after the
    budget too: the step curve runs through (0, 0), every (t~_i, s_i) and then (1, s_n),
    so a point past the budget (t~ > 1) adds area beyond t~ = 1 and the closing step
    back to 1 takes ``(t~_n - 1) * s_n`` off again. Within the budget and in time order
    this equals :func:`alc`.

    >>> alc_2019([60.0, 300.0], [0.5, 1.0], 1200.0) == alc([60.0, 300.0], [0.5, 1.0], 1200.0)
    True
    >>> t, s = [30.0, 90.0], [0.5, 0.8]   # the second one 30 s after a 60 s budget
    >>> round(alc(t, s, 60.0), 6), round(alc_2019(t, s, 60.0), 6)
    (0.207519, 0.11094)
    """
    t = np.asarray(timestamps, dtype=np.float64).ravel()
    s = np.asarray(scores, dtype=np.float64).ravel()
    if t.shape != s.shape:
        raise ValueError(f"{t.size} timestamps but {s.size} scores")
    x = np.concatenate([[0.0], rescale_time(t, time_budget, t0), [1.0]])
    y = np.concatenate([[0.0], s, [s[-1] if s.size else 0.0]])
    return float(np.dot(np.diff(x), y[:-1]))
