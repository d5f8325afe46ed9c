"""Scoring: NAUC and accuracy of a prediction, learning curves and their area (ALC), and
the scoring of a prediction folder, offline or live beside ingestion.

>>> from autodl.scoring import nauc, accuracy, alc, LearningCurve
>>> from autodl.scoring import score_folder, watch_folder, Scorer, ScoreResult

- :mod:`.metrics`: NAUC and accuracy (pure: arrays in, numbers out);
- :mod:`.curve`: time rescaling, :class:`LearningCurve` and ALC (the only implementation);
- :mod:`.result`: :class:`PredictionScore` and :class:`ScoreResult` (``scores.json``);
- :mod:`.scorer`: :class:`Scorer`, reading a folder, NAUC per prediction, ALC, error bars;
- :mod:`.live`: watching beside ingestion, ending it when the budget passes;
- :mod:`.process`: checking and ending the ingestion pid of ``start.txt``;
- :mod:`.outputs`: the score folder's files (pictures and page from :mod:`autodl.report`).
"""

from autodl.scoring.curve import DEFAULT_T0, LearningCurve, alc, alc_2019, rescale_time
from autodl.scoring.live import watch, watch_folder
from autodl.scoring.metrics import accuracy, auc_per_column, is_multiclass, nauc
from autodl.scoring.result import PredictionScore, ScoreResult
from autodl.scoring.scorer import Scorer, score_folder

__all__ = [
    "DEFAULT_T0",
    "LearningCurve",
    "PredictionScore",
    "ScoreResult",
    "Scorer",
    "accuracy",
    "alc",
    "alc_2019",
    "auc_per_column",
    "is_multiclass",
    "nauc",
    "rescale_time",
    "score_folder",
    "watch",
    "watch_folder",
]
