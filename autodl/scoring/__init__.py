"""Scoring: NAUC and accuracy of a prediction, learning curves and their area (ALC).

>>> from autodl.scoring import nauc, accuracy, alc, LearningCurve

Scoring a prediction folder (offline or live) lives in :mod:`autodl.scoring.scorer`; the
PNG and HTML pictures in :mod:`autodl.scoring.report`.
"""

from autodl.scoring.curve import LearningCurve, alc, rescale_time
from autodl.scoring.metrics import accuracy, auc_per_column, is_multiclass, nauc

__all__ = [
    "LearningCurve",
    "accuracy",
    "alc",
    "auc_per_column",
    "is_multiclass",
    "nauc",
    "rescale_time",
]
