"""The score folder's files: ``scores.txt`` (the 2019 layout), ``scores.json`` (flat, for
Codabench's leaderboard; its typed form is :class:`ScoreRecord`) and
``learning_curve.json`` (the curve the ALC was computed from)."""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from autodl.protocol.atomic import (
    ProtocolError,
    atomic_write,
    read_json,
    read_yaml_mapping,
    write_json,
)
from autodl.protocol.names import LEARNING_CURVE_JSON, SCORES_JSON, SCORES_TXT
from autodl.protocol.status import Status


def _final(value: Any) -> float | None:
    """A finite number, or None; of a per-prediction list (2019), the last value."""
    if isinstance(value, list):
        value = value[-1] if value else None
    if value is None or isinstance(value, bool):
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


# How an ALC is computed: ours (the documented default) or the 2019 program's arithmetic
# (``autodl score --compat 2019``; scoring.curve.alc_2019).
COMPAT_RULES = ("autodl", "2019")


@dataclass
class ScoreRecord:
    """What ``scores.json`` holds, in its key order.

    Read back with :func:`read_score_record`, which also takes a 2019 ``scores.txt``
    (``score``, ``Duration``, per-prediction lists) into the same fields.

    >>> r = ScoreRecord.from_dict({"score": 0.5, "Duration": 3, "nauc_scores": [0.1, 0.7]})
    >>> r.alc, r.duration, r.nauc, r.num_predictions, r.status
    (0.5, 3.0, 0.7, 2, <Status.OK: 'ok'>)
    """

    score: float | None = None
    alc: float | None = None
    duration: float | None = None
    nauc: float | None = None  # of the last prediction
    accuracy: float | None = None  # of the last prediction; None unless multi-class
    num_predictions: int = 0
    num_bad_predictions: int = 0
    status: Status = Status.OK
    error: str | None = None
    finished: bool = True
    task_name: str | None = None
    time_budget: float | None = None
    t0: float | None = None
    start_time: float | None = None
    compat: str | None = None  # "autodl", or "2019" when alc is the 2019 program's number
    nauc_bootstrap_mean: float | None = None
    nauc_bootstrap_std: float | None = None
    alc_bootstrap_mean: float | None = None
    alc_bootstrap_std: float | None = None
    messages: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # keys of other producers

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        extra = data.pop("extra")
        data["status"] = str(self.status)
        return {**data, **extra}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScoreRecord:
        """A record from any producer's scores: ours, the 2019 program's, a platform's."""
        known = {f.name for f in fields(cls)} - {"extra"}
        rec = cls(extra={k: v for k, v in data.items() if k not in known})
        rec.score = _final(data.get("score"))
        rec.alc = _final(data.get("alc", data.get("score")))
        rec.duration = _final(data.get("duration", data.get("Duration")))
        rec.nauc = _final(data.get("nauc", data.get("nauc_scores")))
        rec.accuracy = _final(data.get("accuracy"))
        n = data.get("num_predictions")
        listed = data.get("nauc_scores")
        if isinstance(n, (int, float)) and not isinstance(n, bool):
            rec.num_predictions = int(n)
        elif isinstance(listed, list):
            rec.num_predictions = len(listed)
        bad = data.get("num_bad_predictions")
        rec.num_bad_predictions = int(bad) if isinstance(bad, int) else 0
        rec.status = Status.parse(data.get("status") or "ok")
        rec.error = None if data.get("error") is None else str(data["error"])
        rec.finished = bool(data.get("finished", True))
        task = data.get("task_name", data.get("task"))
        rec.task_name = None if task is None else str(task)
        for key in ("time_budget", "t0", "start_time") + tuple(
            f"{a}_bootstrap_{b}" for a in ("nauc", "alc") for b in ("mean", "std")
        ):
            setattr(rec, key, _final(data.get(key)))
        messages = data.get("messages")
        rec.messages = [str(m) for m in messages] if isinstance(messages, list) else []
        return rec


def _fmt_score_value(x: float | int) -> str:
    # The 2019 program printed Python numbers with str(): floats as their shortest
    # round-trip repr, and the integer 0 for the score and duration of an empty curve.
    if isinstance(x, bool):
        return str(int(x))
    if isinstance(x, int):
        return str(x)
    return repr(float(x))


def _fmt_score_list(values: list[float] | tuple[float, ...]) -> str:
    return "[" + ", ".join(_fmt_score_value(v) for v in values) + "]"


def write_scores_txt(
    score_dir: str | os.PathLike[str],
    *,
    score: float | int,
    duration: float | int,
    timestamps: list[float] | tuple[float, ...],
    nauc_scores: list[float] | tuple[float, ...],
    accuracy: list[float] | tuple[float, ...] | None = None,
) -> Path:
    """Write ``scores.txt`` in the 2019 layout (atomically) and return its path.

    ``score: <ALC>``, ``Duration: <s>``, ``timestamps: [...]``, ``nauc_scores: [...]`` and,
    for multi-class tasks only (``accuracy`` not None), ``accuracy: [...]``. The lines are
    YAML, so CodaLab and Codabench both read them.
    """
    lines = [
        f"score: {_fmt_score_value(score)}",
        f"Duration: {_fmt_score_value(duration)}",
        f"timestamps: {_fmt_score_list(timestamps)}",
        f"nauc_scores: {_fmt_score_list(nauc_scores)}",
    ]
    if accuracy is not None:
        lines.append(f"accuracy: {_fmt_score_list(accuracy)}")
    path = Path(score_dir) / SCORES_TXT
    atomic_write(path, "\n".join(lines) + "\n")
    return path


def write_scores_json(
    score_dir: str | os.PathLike[str], scores: ScoreRecord | dict[str, Any]
) -> Path:
    """Write ``scores.json`` (flat JSON object, atomically; NaN written as null).

    Keys written by ``autodl score``: ``score`` (= ``alc``), ``alc``, ``duration``, ``nauc``
    and ``accuracy`` (of the last prediction; accuracy null unless multi-class),
    ``num_predictions``, ``status``, ``error`` and the others listed in docs/scoring.md.
    """
    data = scores.to_dict() if isinstance(scores, ScoreRecord) else dict(scores)
    return write_json(Path(score_dir) / SCORES_JSON, data)


def read_scores(score_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The scores of a score folder: ``scores.json``, else ``scores.txt`` (e.g. from the 2019
    program) read as YAML with ``Duration`` also given as ``duration``.

    Raises :class:`ProtocolError` when neither file exists or the one found is malformed.
    """
    score_dir = Path(score_dir)
    json_path = score_dir / SCORES_JSON
    if json_path.exists():
        return read_json(json_path)
    txt_path = score_dir / SCORES_TXT
    if not txt_path.exists():
        raise ProtocolError(f"{score_dir}: neither {SCORES_JSON} nor {SCORES_TXT} found")
    data = {str(k): v for k, v in read_yaml_mapping(txt_path).items()}
    if "Duration" in data and "duration" not in data:
        data["duration"] = data["Duration"]
    if "score" not in data:
        raise ProtocolError(f"{txt_path}: missing field 'score'")
    return data


def write_learning_curve(score_dir: str | os.PathLike[str], record: dict[str, Any]) -> Path:
    """Write ``learning_curve.json``: ``task``, ``time_budget``, ``t0``, ``timestamps``
    (seconds since start, the points on the curve in time order), ``nauc``, ``accuracy``
    (list or null) and ``alc``."""
    return write_json(Path(score_dir) / LEARNING_CURVE_JSON, dict(record))


def read_learning_curve(score_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Read ``learning_curve.json`` and check its fields; raises :class:`ProtocolError`."""
    path = Path(score_dir) / LEARNING_CURVE_JSON
    data = read_json(path)
    for key in ("time_budget", "timestamps", "nauc"):
        if key not in data:
            raise ProtocolError(f"{path}: missing field {key!r}")
    if len(data["timestamps"]) != len(data["nauc"]):
        raise ProtocolError(
            f"{path}: {len(data['timestamps'])} timestamps but {len(data['nauc'])} nauc scores"
        )
    return data


def read_score_record(score_dir: str | os.PathLike[str]) -> ScoreRecord:
    """The :class:`ScoreRecord` of a score folder (``scores.json`` or a 2019 ``scores.txt``).

    Raises :class:`ProtocolError` when neither file exists or the one found is malformed.
    """
    return ScoreRecord.from_dict(read_scores(score_dir))
