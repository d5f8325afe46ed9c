"""The typed records of a run: ``ingestion.json`` (:class:`IngestionRecord`, written by
the supervisor or, when a container could not, by the Docker runner) and ``result.json``
(:class:`RunResult`, written by the challenge runner once a run is over).

>>> r = RunResult(submission="zero", dataset="digits", status="ok", alc=0.0, num_predictions=2)
>>> r.scored, r.failed, r.status
(True, False, <Status.OK: 'ok'>)
>>> IngestionRecord.from_dict({"status": "timeout", "num_predictions": 3}).success
True
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from autodl.protocol.atomic import ProtocolError, read_json, write_json
from autodl.protocol.names import INGESTION_FILE, RESULT_FILE, RunFolder
from autodl.protocol.status import Status


def _known_fields(cls: type, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    known = {f.name for f in fields(cls)}
    return (
        {k: v for k, v in data.items() if k in known},
        {k: v for k, v in data.items() if k not in known},
    )


class _Record:
    """A dataclass record with a ``status``, written with plain strings."""

    status: Status

    def __post_init__(self) -> None:
        self.status = Status.parse(self.status)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)  # type: ignore[call-overload]
        data["status"] = str(self.status)
        return data


def default_device() -> dict[str, Any]:
    return {"type": "cpu", "name": "", "memory_bytes": 0}


@dataclass
class IngestionRecord(_Record):
    """What ``ingestion.json`` holds: how ingestion ended and what it measured."""

    status: Status = Status.ERROR
    error: str | None = None
    traceback: str | None = None
    task_name: str = ""
    api: str | None = None
    num_predictions: int = 0
    time_budget: float = 0.0
    start_time: float | None = None
    end_time: float | None = None
    construction_duration: float | None = None
    ingestion_duration: float = 0.0
    device: dict[str, Any] = field(default_factory=default_device)
    isolation: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # The TensorFlow mode: {"mode": "1"|"2", "chosen_by": "flag"|"submission"|"auto",
    # "evidence": ["model.py:12 tf.Session", ...]} (autodl/ingestion/tfmode.py).
    tf_mode: dict[str, Any] = field(default_factory=dict)
    # The worker's interpreter: {"executable", "version", "env" (a built environment's
    # name, or null), ...} (autodl/ingestion/interpreter.py).
    python: dict[str, Any] = field(default_factory=dict)
    # True when ingestion itself failed (a bug of ours), not the submission.
    harness_failure: bool = False

    @property
    def success(self) -> bool:
        """What ``end.txt`` records as ``ingestion_success``."""
        return self.status.success

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IngestionRecord:
        kwargs, _ = _known_fields(cls, data)
        try:
            return cls(**kwargs)
        except TypeError as e:
            raise ProtocolError(f"{INGESTION_FILE}: {e}") from None


def write_ingestion_record(prediction_dir: str | os.PathLike[str], record: IngestionRecord) -> Path:
    """Write ``ingestion.json`` into a prediction folder (atomically)."""
    return write_json(Path(prediction_dir) / INGESTION_FILE, record.to_dict())


def read_ingestion_record(prediction_dir: str | os.PathLike[str]) -> IngestionRecord:
    """The ``ingestion.json`` of a prediction folder; :class:`ProtocolError` when missing
    or malformed."""
    return IngestionRecord.from_dict(read_json(Path(prediction_dir) / INGESTION_FILE))


@dataclass
class RunResult(_Record):
    """The outcome of one submission on one dataset (``result.json``)."""

    submission: str
    dataset: str
    status: Status  # ingestion's status, or the runner's when the harness failed
    alc: float | None = None
    final_nauc: float | None = None
    accuracy: float | None = None
    duration: float | None = None  # seconds from ingestion start to the last prediction
    num_predictions: int = 0
    error: str | None = None
    device: str | None = None
    time_budget: float | None = None
    task: str | None = None
    wall_time: float | None = None  # seconds the whole run took (construction included)
    finished_at: float | None = None  # epoch seconds
    run_dir: str | None = None  # where the run's files are (absolute when read back)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def scored(self) -> bool:
        """True when the run ranks by its ALC: scoring gave one, for at least one prediction.

        A run with predictions ranks by its ALC even if the submission failed later (as on
        the platform, predictions already made count); a run without any prediction
        (crashed, hung, or stopped at once) failed.
        """
        return self.alc is not None and math.isfinite(self.alc) and self.num_predictions > 0

    @property
    def failed(self) -> bool:
        """Ranks last: no score at all, or a failure before any prediction."""
        return not self.scored

    @property
    def folder(self) -> RunFolder | None:
        return RunFolder(self.run_dir) if self.run_dir else None

    @property
    def score_dir(self) -> Path | None:
        return self.folder.scores if self.folder else None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResult:
        kwargs, extra = _known_fields(cls, data)
        kwargs.setdefault("extra", {}).update(extra)
        return cls(**kwargs)


def write_result(run_dir: str | os.PathLike[str], result: RunResult) -> Path:
    """Record a finished run (atomically): from now on the run counts as done."""
    return write_json(RunFolder(run_dir).result, result.to_dict())


def read_result(run_dir: str | os.PathLike[str]) -> RunResult | None:
    """The recorded result of a finished run, or None (unfinished, or an unreadable record)."""
    try:
        data = read_json(Path(run_dir) / RESULT_FILE)
        result = RunResult.from_dict(data)
    except (ProtocolError, TypeError):
        return None
    result.run_dir = str(Path(run_dir).resolve())
    return result
