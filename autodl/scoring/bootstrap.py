"""Bootstrap error bars of a scoring: the last prediction's NAUC and the ALC.

As the 2019 program, the last valid prediction's NAUC is recomputed on
``NAUC_BOOTSTRAP_RESAMPLES`` resamples of the test examples. Beyond it, every prediction is
scored on the same ``ALC_BOOTSTRAP_CURVES`` resamples (:func:`resample_indices`, drawn once
per scoring), which gives as many resampled learning curves and the spread of their ALC.
Both are seeded, so a scoring's error bars are reproducible.

>>> idx = resample_indices(4, seed=0)
>>> len(idx), idx[0].shape
(5, (4,))
"""

from __future__ import annotations

import numpy as np

from autodl.scoring.metrics import nauc
from autodl.scoring.result import ScoreResult

__all__ = [
    "ALC_BOOTSTRAP_CURVES",
    "NAUC_BOOTSTRAP_RESAMPLES",
    "alc_error_bar",
    "nauc_error_bar",
    "nauc_or_nan",
    "resample_indices",
    "resampled_naucs",
]

NAUC_BOOTSTRAP_RESAMPLES = 10  # resamples of the last prediction (as the 2019 program)
ALC_BOOTSTRAP_CURVES = 5  # resampled learning curves


def resample_indices(n: int, seed: int) -> list[np.ndarray]:
    """The example indices of the ``ALC_BOOTSTRAP_CURVES`` resamples of ``n`` examples."""
    rng = np.random.default_rng(seed)
    return [rng.integers(0, n, n) for _ in range(ALC_BOOTSTRAP_CURVES)]


def nauc_or_nan(solution: np.ndarray, prediction: np.ndarray) -> float:
    """NAUC, or NaN when it is undefined on this resample.

    >>> nauc_or_nan(np.array([[1.0], [1.0]]), np.array([[0.2], [0.7]]))
    nan
    """
    try:
        return nauc(solution, prediction)
    except ValueError:  # a resample may hold a single class in every column
        return float("nan")


def resampled_naucs(
    solution: np.ndarray, prediction: np.ndarray, indices: list[np.ndarray]
) -> list[float]:
    """A prediction's NAUC on each resample of ``indices`` (NaN where undefined)."""
    return [nauc_or_nan(solution[idx], prediction[idx]) for idx in indices]


def nauc_error_bar(
    solution: np.ndarray, prediction: np.ndarray, seed: int
) -> tuple[float, float] | None:
    """(mean, std) of the NAUC over ``NAUC_BOOTSTRAP_RESAMPLES`` resamples; None if undefined.

    ``seed`` is the scoring's: these resamples are drawn apart from the curves' ones.
    """
    rng = np.random.default_rng(seed + 1)
    n = solution.shape[0]
    values = []
    for _ in range(NAUC_BOOTSTRAP_RESAMPLES):
        idx = rng.integers(0, n, n)
        values.append(nauc_or_nan(solution[idx], prediction[idx]))
    arr = np.array(values)
    if not np.isfinite(arr).any():
        return None
    return float(np.nanmean(arr)), float(np.nanstd(arr))


def alc_error_bar(result: ScoreResult, curves: int) -> tuple[float, float] | None:
    """(mean, std) of the ALC of the ``curves`` resampled learning curves of ``result``.

    Curve ``j`` takes each prediction's ``bootstrap_nauc[j]``; a curve with an undefined
    point is left out, and None is returned when every one is.
    """
    alcs = []
    for j in range(curves):
        scores = [p.bootstrap_nauc[j] for p in result.on_curve]
        if np.isfinite(scores).all():
            alcs.append(result.curve_of(scores).alc())
    if not alcs:
        return None
    return float(np.mean(alcs)), float(np.std(alcs))
