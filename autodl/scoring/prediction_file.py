"""Reading and checking one ``<task>.predict_<k>`` file for the scorer, with its size limit,
and telling, while ingestion may still write it, whether it has stopped changing.

A file is read without following links and never past :func:`size_limit`, so a FIFO, a
link to the solution or gigabytes of text cannot block or exhaust scoring. Every problem
is one message naming the file, line and column; the scorer records it and goes on.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from autodl.protocol import ProtocolError
from autodl.protocol.predictions import FileTooLarge, parse_matrix, read_regular
from autodl.scoring.result import PredictionScore

__all__ = [
    "PREDICTION_BYTES_PER_VALUE",
    "PREDICTION_SLACK_BYTES",
    "FileStat",
    "Quietness",
    "file_stat",
    "read_prediction",
    "size_limit",
]

# A prediction file may hold at most this many bytes per value (the longest repr of a
# float64, a sign and a separator), plus slack: more is not a prediction, and reading
# gigabytes would exhaust the scorer's memory.
PREDICTION_BYTES_PER_VALUE = 25
PREDICTION_SLACK_BYTES = 1024 * 1024

#: A file's (size, mtime in ns), or None when it cannot be stat'ed.
FileStat = tuple[int, int] | None


def size_limit(shape: tuple[int, int]) -> int:
    """The most bytes a prediction for a solution of ``shape`` (examples, labels) may hold.

    >>> size_limit((1000, 10)) - PREDICTION_SLACK_BYTES
    250000
    """
    n, m = shape
    return n * m * PREDICTION_BYTES_PER_VALUE + PREDICTION_SLACK_BYTES


def file_stat(path: Path) -> FileStat:
    """``path``'s size and mtime (ns), or None when it is gone or cannot be stat'ed."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def read_prediction(
    k: int, path: Path, shape: tuple[int, int], solution_name: str
) -> tuple[PredictionScore, np.ndarray | None, bool]:
    """Read and check one file: (entry, array if valid, whether it looked complete).

    ``shape`` is the solution's (examples, labels), ``solution_name`` its file name for the
    messages. An invalid file gets ``entry.error``. "Looked complete": size and mtime did
    not change while it was read and its last byte is a newline (every writer of the
    format ends each line with one).
    """
    entry = PredictionScore(k=k, path=path)
    before = file_stat(path)
    n, m = shape
    try:
        text = read_regular(path, limit=size_limit(shape), follow_symlinks=False)
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
    looked_complete = ends_with_newline and before is not None and before == file_stat(path)
    if pred.shape[0] != n:
        entry.error = (
            f"{path}: {pred.shape[0]} rows, but the solution {solution_name} "
            f"has {n} (one line per test example)"
        )
    elif pred.shape[1] != m:
        entry.error = (
            f"{path}: {pred.shape[1]} values per line, but the solution "
            f"{solution_name} has {m} labels"
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


class Quietness:
    """How long each prediction file has kept the same size and mtime, by its ``k``.

    Live scoring reads a file that start.txt does not yet time only once it has been quiet
    for a while: a producer that does not write aside and rename may still be writing it.
    """

    def __init__(self) -> None:
        self._seen: dict[int, tuple[FileStat, float]] = {}  # k -> (stat, since when)

    def quiet_for(self, k: int, path: Path) -> float:
        """Seconds for which the file's size and mtime have not changed (0 when just seen)."""
        now_stat, now = file_stat(path), time.monotonic()
        seen = self._seen.get(k)
        if seen is None or seen[0] != now_stat:
            self._seen[k] = (now_stat, now)
            return 0.0
        return now - seen[1]
