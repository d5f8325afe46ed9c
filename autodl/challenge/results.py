"""What one run produced, read back from its folder, and the results table of many runs.

A run folder (``runs/<submission>/<dataset>/``) holds ``predictions/`` (ingestion's
output, with ``ingestion.json``), ``scores/`` (scoring's output), ``logs/`` and, once
the run is over, ``result.json``: the :class:`RunResult` the runner recorded. Its
presence is what makes a run finished (and skipped when a challenge resumes).

>>> r = RunResult(submission="zero", dataset="digits", status="ok", alc=0.0, num_predictions=2)
>>> r.scored, r.failed
(True, False)
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from autodl.protocol import atomic_write

RESULT_FILE = "result.json"
INGESTION_FILE = "ingestion.json"
SCORES_FILE = "scores.json"
CURVE_FILE = "learning_curve.json"
# Ingestion statuses of a run that went as planned: "timeout" is a submission that used
# its whole budget, which any-time learning expects.
GOOD_STATUSES = ("ok", "timeout")

# The columns of results.csv, in order.
TABLE_COLUMNS = (
    "submission",
    "dataset",
    "status",
    "alc",
    "final_nauc",
    "accuracy",
    "duration",
    "num_predictions",
    "error",
    "device",
)


@dataclass
class RunResult:
    """The outcome of one submission on one dataset."""

    submission: str
    dataset: str
    status: str  # ingestion's status, or the runner's when the harness failed
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
    def score_dir(self) -> Path | None:
        return Path(self.run_dir) / "scores" if self.run_dir else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResult:
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        extra = {k: v for k, v in data.items() if k not in known}
        kwargs.setdefault("extra", {}).update(extra)
        return cls(**kwargs)


# --------------------------------------------------------------------------- reading a run


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _number(value: Any) -> float | None:
    if isinstance(value, list):  # a per-prediction list: the final value is what counts
        value = value[-1] if value else None
    if value is None or isinstance(value, bool):
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def read_scores_json(score_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The flat ``scores.json`` of a score folder, or None when there is none."""
    try:
        from autodl.protocol import read_scores  # added by the scoring side
    except ImportError:
        return _read_json(Path(score_dir) / SCORES_FILE)
    try:
        data = read_scores(score_dir)
    except Exception:  # missing or unreadable: the run has no score
        return None
    if data is None:
        return None
    return data if isinstance(data, dict) else dict(vars(data))


def read_curve(score_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """``learning_curve.json`` of a score folder as a dict (timestamps, nauc, ...), or None."""
    try:
        from autodl.protocol import read_learning_curve  # added by the scoring side
    except ImportError:
        return _read_json(Path(score_dir) / CURVE_FILE)
    try:
        data = read_learning_curve(score_dir)
    except Exception:
        return None
    if data is None:
        return None
    return data if isinstance(data, dict) else dict(vars(data))


def _count(scores: dict[str, Any]) -> int:
    """Predictions scored: ``num_predictions``, or the length of a 2019 ``nauc_scores`` list."""
    n = scores.get("num_predictions")
    if isinstance(n, (int, float)) and not isinstance(n, bool):
        return int(n)
    listed = scores.get("nauc_scores")
    return len(listed) if isinstance(listed, list) else 0


def _device_text(device: Any) -> str | None:
    if not isinstance(device, dict):
        return str(device) if device else None
    kind = device.get("type") or "cpu"
    name = device.get("name")
    return f"{kind} ({name})" if name and name != kind else str(kind)


def collect_result(
    run_dir: str | os.PathLike[str],
    *,
    submission: str,
    dataset: str,
    ingest_returncode: int | None = None,
    runner_error: str | None = None,
    runner_status: str | None = None,
    time_budget: float | None = None,
) -> RunResult:
    """Read a run folder's ingestion and score files into a :class:`RunResult`.

    ``runner_status``/``runner_error`` override what the files say (the runner knows when
    it had to kill a job); a non-zero ingestion exit code means the harness itself failed.
    """
    run_dir = Path(run_dir)
    ingestion = _read_json(run_dir / "predictions" / INGESTION_FILE) or {}
    scores = read_scores_json(run_dir / "scores") or {}

    status = ingestion.get("status")
    error = ingestion.get("error")
    if ingest_returncode not in (None, 0):
        status = "error"
        error = (
            error
            or _log_tail(run_dir / "logs" / "ingestion.log")
            or (f"ingestion exited with code {ingest_returncode}")
        )
    if status is None:
        status = "crashed"
        error = error or "ingestion wrote no ingestion.json (it did not finish)"
    if runner_status:
        status = runner_status
    if runner_error:
        error = runner_error

    alc = _number(scores.get("alc", scores.get("score")))
    if not scores and error is None and status in GOOD_STATUSES:
        status = "scoring_error"
    if not scores and status in ("ok", "timeout", "scoring_error"):
        error = error or _log_tail(run_dir / "logs" / "scoring.log") or "scoring wrote no scores"
    num_predictions = _count(scores) or int(ingestion.get("num_predictions") or 0)
    return RunResult(
        submission=submission,
        dataset=dataset,
        status=str(status),
        alc=alc,
        final_nauc=_number(scores.get("nauc", scores.get("nauc_scores"))),
        accuracy=_number(scores.get("accuracy")),
        duration=_number(scores.get("duration")),
        num_predictions=num_predictions,
        error=_one_line(error),
        device=_device_text(ingestion.get("device")),
        time_budget=time_budget
        if time_budget is not None
        else _number(ingestion.get("time_budget")),
        task=ingestion.get("task_name") or scores.get("task"),
        run_dir=str(run_dir.resolve()),
    )


def _one_line(text: Any) -> str | None:
    if text is None:
        return None
    text = " ".join(str(text).split())
    return text[:500] + "..." if len(text) > 500 else text


def _log_tail(path: Path, lines: int = 1) -> str | None:
    """The last non-empty line(s) of a log: usually the exception that ended a process."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    rows = [r for r in text.splitlines() if r.strip()]
    return " | ".join(rows[-lines:]) if rows else None


def write_result(run_dir: str | os.PathLike[str], result: RunResult) -> Path:
    """Record a finished run (atomically): from now on the run counts as done."""
    path = Path(run_dir) / RESULT_FILE
    atomic_write(path, json.dumps(result.to_dict(), indent=2, sort_keys=False) + "\n")
    return path


def read_result(run_dir: str | os.PathLike[str]) -> RunResult | None:
    """The recorded result of a finished run, or None (unfinished, or an unreadable record)."""
    data = _read_json(Path(run_dir) / RESULT_FILE)
    if data is None:
        return None
    try:
        result = RunResult.from_dict(data)
    except TypeError:
        return None
    result.run_dir = str(Path(run_dir).resolve())
    return result


# --------------------------------------------------------------------------- finding runs


def _from_score_dir(score_dir: Path) -> RunResult | None:
    """A result for a bare score folder (results copied from another machine or platform).

    Names come from the layout ``<submission>/<dataset>/scores`` when the folder is called
    ``scores``, else the folder's name is the submission and the task name the dataset.
    """
    scores = read_scores_json(score_dir)
    if scores is None:
        return None
    curve = read_curve(score_dir) or {}
    task = scores.get("task") or curve.get("task")
    if score_dir.name == "scores" and score_dir.parent.parent != score_dir.parent:
        run_dir = score_dir.parent
        dataset, submission = run_dir.name, run_dir.parent.name
    else:
        run_dir = None
        submission, dataset = score_dir.name, task or score_dir.name
    status = scores.get("status") or "ok"
    alc = _number(scores.get("alc", scores.get("score")))
    result = RunResult(
        submission=submission,
        dataset=str(dataset),
        status=str(status),
        alc=alc,
        final_nauc=_number(scores.get("nauc", scores.get("nauc_scores"))),
        accuracy=_number(scores.get("accuracy")),
        duration=_number(scores.get("duration")),
        num_predictions=_count(scores),
        error=_one_line(scores.get("error")),
        time_budget=_number(scores.get("time_budget") or curve.get("time_budget")),
        task=task,
    )
    if run_dir is not None:
        result.run_dir = str(run_dir.resolve())
        ingestion = _read_json(run_dir / "predictions" / INGESTION_FILE) or {}
        if ingestion.get("status"):
            result.status = str(ingestion["status"])
            result.error = result.error or _one_line(ingestion.get("error"))
        result.device = _device_text(ingestion.get("device"))
    else:
        result.extra["score_dir"] = str(score_dir.resolve())
    return result


def find_results(roots: Iterable[str | os.PathLike[str]]) -> list[RunResult]:
    """Every run found under the given folders.

    A folder with ``result.json`` is a run recorded by the runner, one with
    ``predictions/ingestion.json`` a run folder named ``<submission>/<dataset>``;
    otherwise any folder with ``scores.json`` (or a 2019 ``scores.txt``) is a score
    folder. The same (submission, dataset) found twice: a scored result beats an unscored
    one, and otherwise the later root wins.
    """
    found: dict[tuple[str, str], RunResult] = {}
    for root in roots:
        root = Path(root)
        if not root.exists():
            raise FileNotFoundError(f"{root}: no such folder")
        for result in _walk(root):
            key = (result.submission, result.dataset)
            old = found.get(key)
            if old is None or not (old.scored and not result.scored):
                found[key] = result
    return list(found.values())


def _walk(root: Path) -> Iterable[RunResult]:
    if (root / RESULT_FILE).is_file():
        result = read_result(root)
        if result is not None:
            yield result
            return
    if (root / "predictions" / INGESTION_FILE).is_file():
        # A run folder without a record (copied mid-way, or from another runner).
        yield collect_result(root, submission=root.parent.name, dataset=root.name)
        return
    if (root / SCORES_FILE).is_file() or (root / "scores.txt").is_file():
        result = _from_score_dir(root)
        if result is not None:
            yield result
            return
    try:
        children = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return
    for child in children:
        # Inputs, logs and our own outputs (the CodaLab form has scores.txt files too).
        if child.name in ("input_data", "code", "predictions", "logs", "codalab"):
            continue
        yield from _walk(child)


# --------------------------------------------------------------------------- the table


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def results_csv(results: Sequence[RunResult]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(TABLE_COLUMNS)
    for r in results:
        writer.writerow([_cell(getattr(r, c)) for c in TABLE_COLUMNS])
    return buf.getvalue()


def write_results_table(out_dir: str | os.PathLike[str], results: Sequence[RunResult]) -> None:
    """``results.csv`` and ``results.json`` (every field), each written aside then renamed."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ordered = sorted(results, key=lambda r: (r.submission, r.dataset))
    atomic_write(out_dir / "results.csv", results_csv(ordered))
    payload = [
        {c: getattr(r, c) for c in TABLE_COLUMNS}
        | {
            "time_budget": r.time_budget,
            "wall_time": r.wall_time,
            "run_dir": r.run_dir,
        }
        for r in ordered
    ]
    atomic_write(out_dir / "results.json", json.dumps(payload, indent=2) + "\n")
