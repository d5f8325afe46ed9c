"""The names of every file and folder in a run, in one place.

A prediction folder (ingestion's output) holds ``start.txt``, ``<task>.predict_<k>``,
``end.txt`` and ``ingestion.json``; a score folder ``scores.txt``, ``scores.json``,
``learning_curve.json``, ``learning-curve-<task>.png`` and ``detailed_results.html``. The
challenge runner lays out one :class:`RunFolder` per submission and dataset.

>>> prediction_name("miniciao", 3)
'miniciao.predict_3'
>>> parse_prediction_name("miniciao.predict_3"), parse_prediction_name("start.txt")
(('miniciao', 3), None)
>>> RunFolder("runs/zero/digits").scores
PosixPath('runs/zero/digits/scores')
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

# A prediction folder.
START_FILE = "start.txt"
END_FILE = "end.txt"
INGESTION_FILE = "ingestion.json"
_PREDICTION_RE = re.compile(r"^(?P<task>.+)\.predict_(?P<k>\d+)$")

# A score folder.
SCORES_TXT = "scores.txt"
SCORES_JSON = "scores.json"
LEARNING_CURVE_JSON = "learning_curve.json"
DETAILED_RESULTS_HTML = "detailed_results.html"

# A challenge run folder.
RESULT_FILE = "result.json"
REPORT_FILE = "report.html"

# A challenge's output folder: every run's result, and the ranking.
RESULTS_CSV = "results.csv"
RESULTS_JSON = "results.json"
LEADERBOARD_CSV = "leaderboard.csv"
LEADERBOARD_HTML = "leaderboard.html"
CODALAB_DIR = "codalab"  # the CodaLab parent phase's form, one scores.txt per submission
CODALAB_SETS = "sets.txt"  # which dataset each set<i> is


def prediction_name(task_name: str, k: int) -> str:
    """The file name of prediction ``k`` of a task."""
    return f"{task_name}.predict_{int(k)}"


def parse_prediction_name(name: str) -> tuple[str, int] | None:
    """``(task, k)`` for a prediction file's name, None for any other name."""
    m = _PREDICTION_RE.match(name)
    return (m["task"], int(m["k"])) if m else None


def learning_curve_png(task_name: str) -> str:
    """The file name of a task's learning-curve picture in a score folder."""
    return f"learning-curve-{task_name}.png"


@dataclass(frozen=True)
class RunFolder:
    """One submission on one dataset: ``runs/<submission>/<dataset>/``.

    ``input_data/`` and ``code/`` (what the run was given, when staged), ``predictions/``
    (ingestion's output), ``scores/`` (scoring's), ``logs/ingestion.log`` and
    ``logs/scoring.log``, ``report.html``, and ``result.json`` once the run is over: its
    presence is what makes a run finished.
    """

    root: Path

    def __init__(self, root: str | os.PathLike[str]) -> None:
        object.__setattr__(self, "root", Path(root))

    #: The entries a run writes; a rerun removes these and nothing else.
    ENTRIES = ("input_data", "code", "predictions", "scores", "logs", RESULT_FILE, REPORT_FILE)
    #: Folders under a challenge's output that hold a run's parts, never runs themselves.
    PARTS = ("input_data", "code", "predictions", "logs")

    @property
    def input_data(self) -> Path:
        return self.root / "input_data"

    @property
    def code(self) -> Path:
        return self.root / "code"

    @property
    def predictions(self) -> Path:
        return self.root / "predictions"

    @property
    def scores(self) -> Path:
        return self.root / "scores"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def ingestion_log(self) -> Path:
        return self.logs / "ingestion.log"

    @property
    def scoring_log(self) -> Path:
        return self.logs / "scoring.log"

    @property
    def ingestion_record(self) -> Path:
        return self.predictions / INGESTION_FILE

    @property
    def result(self) -> Path:
        return self.root / RESULT_FILE

    @property
    def report(self) -> Path:
        return self.root / REPORT_FILE
