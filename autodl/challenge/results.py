"""What one run produced, read back from its folder, and the results table of many runs.

A run folder (``runs/<submission>/<dataset>/``, laid out by
:class:`autodl.protocol.RunFolder`) holds ingestion's and scoring's outputs, the logs and,
once the run is over, ``result.json``: the :class:`~autodl.protocol.RunResult` the
runner recorded. Its presence is what makes a run finished (and skipped when a challenge
resumes). Every file is read through :mod:`autodl.protocol`; this module decides what a
run's status is when its files disagree or are missing.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from autodl import protocol
from autodl.protocol import (
    IngestionRecord,
    ProtocolError,
    RunFolder,
    RunResult,
    ScoreRecord,
    Status,
    atomic_write,
    read_result,
    write_result,
)

__all__ = ["RunResult", "collect_result", "find_results", "read_result", "write_result"]

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


def read_score_record(score_dir: str | os.PathLike[str]) -> ScoreRecord | None:
    """The scores of a score folder, or None when it has none (or none readable)."""
    try:
        return protocol.read_score_record(score_dir)
    except ProtocolError:
        return None


def read_ingestion_record(prediction_dir: str | os.PathLike[str]) -> IngestionRecord | None:
    try:
        return protocol.read_ingestion_record(prediction_dir)
    except ProtocolError:
        return None


def read_curve(score_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """``learning_curve.json`` of a score folder as a record, or None."""
    try:
        return protocol.read_learning_curve(score_dir)
    except ProtocolError:
        return None


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
    runner_status: Status | None = None,
    time_budget: float | None = None,
) -> RunResult:
    """Read a run folder's ingestion and score files into a :class:`RunResult`.

    ``runner_status``/``runner_error`` override what the files say (the runner knows when
    it had to kill a job); a non-zero ingestion exit code means the harness itself failed.
    """
    folder = RunFolder(run_dir)
    ingestion = read_ingestion_record(folder.predictions)
    scores = read_score_record(folder.scores)

    status = ingestion.status if ingestion else None
    error = ingestion.error if ingestion else None
    # `autodl ingest` exits with its recorded status's code; any other exit is its own failure.
    expected = 0 if ingestion is None or ingestion.harness_failure else ingestion.status.exit_code
    if ingest_returncode not in (None, 0, expected):
        status = Status.ERROR
        error = (
            error
            or _log_tail(folder.ingestion_log)
            or (f"ingestion exited with code {ingest_returncode}")
        )
    if status is None:
        status = Status.CRASHED
        error = error or f"ingestion wrote no {protocol.INGESTION_FILE} (it did not finish)"
    if runner_status:
        status = runner_status
    if runner_error:
        error = runner_error

    if scores is None and error is None and status.success:
        status = Status.SCORING_ERROR
    if scores is None and (status.success or status is Status.SCORING_ERROR):
        error = error or _log_tail(folder.scoring_log) or "scoring wrote no scores"
    num_predictions = (scores.num_predictions if scores else 0) or (
        ingestion.num_predictions if ingestion else 0
    )
    return RunResult(
        submission=submission,
        dataset=dataset,
        status=status,
        alc=scores.alc if scores else None,
        final_nauc=scores.nauc if scores else None,
        accuracy=scores.accuracy if scores else None,
        duration=scores.duration if scores else None,
        num_predictions=num_predictions,
        error=_one_line(error),
        device=_device_text(ingestion.device) if ingestion else None,
        time_budget=time_budget
        if time_budget is not None
        else (ingestion.time_budget if ingestion else None),
        task=(ingestion.task_name if ingestion else None) or (scores.task_name if scores else None),
        run_dir=str(folder.root.resolve()),
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


# --------------------------------------------------------------------------- finding runs


def _from_score_dir(score_dir: Path) -> RunResult | None:
    """A result for a bare score folder (results copied from another machine or platform).

    Names come from the layout ``<submission>/<dataset>/scores`` when the folder is called
    ``scores``, else the folder's name is the submission and the task name the dataset.
    """
    scores = read_score_record(score_dir)
    if scores is None:
        return None
    curve = read_curve(score_dir) or {}
    task = scores.task_name or curve.get("task")
    folder = RunFolder(score_dir.parent)
    if score_dir == folder.scores and score_dir.parent.parent != score_dir.parent:
        dataset, submission = folder.root.name, folder.root.parent.name
    else:
        folder = None
        submission, dataset = score_dir.name, task or score_dir.name
    result = RunResult(
        submission=submission,
        dataset=str(dataset),
        status=scores.status,
        alc=scores.alc,
        final_nauc=scores.nauc,
        accuracy=scores.accuracy,
        duration=scores.duration,
        num_predictions=scores.num_predictions,
        error=_one_line(scores.error),
        time_budget=scores.time_budget or curve.get("time_budget"),
        task=task,
    )
    if folder is not None:
        result.run_dir = str(folder.root.resolve())
        ingestion = read_ingestion_record(folder.predictions)
        if ingestion is not None:
            result.status = ingestion.status
            result.error = result.error or _one_line(ingestion.error)
            result.device = _device_text(ingestion.device)
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
    folder = RunFolder(root)
    if folder.result.is_file():
        result = read_result(root)
        if result is not None:
            yield result
            return
    if folder.ingestion_record.is_file():
        # A run folder without a record (copied mid-way, or from another runner).
        yield collect_result(root, submission=root.parent.name, dataset=root.name)
        return
    if (root / protocol.SCORES_JSON).is_file() or (root / protocol.SCORES_TXT).is_file():
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
        if child.name in (*RunFolder.PARTS, protocol.CODALAB_DIR):
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
    atomic_write(out_dir / protocol.RESULTS_CSV, results_csv(ordered))
    payload = [
        {c: getattr(r, c) for c in TABLE_COLUMNS}
        | {
            "time_budget": r.time_budget,
            "wall_time": r.wall_time,
            "run_dir": r.run_dir,
        }
        for r in ordered
    ]
    atomic_write(out_dir / protocol.RESULTS_JSON, json.dumps(payload, indent=2) + "\n")
