"""A run's ``report.html`` (what ``autodl run`` points to): its numbers, the submission's
traceback when it failed, its learning curve and the end of its logs.

>>> from autodl.protocol import RunResult
>>> "<h1>zero on digits</h1>" in run_report_html(RunResult("zero", "digits", "crashed"))
True
"""

from __future__ import annotations

import os
from pathlib import Path

from autodl.protocol import (
    DETAILED_RESULTS_HTML,
    ProtocolError,
    RunFolder,
    RunResult,
    atomic_write,
    read_ingestion_record,
)
from autodl.protocol import learning_curve_png as _png_name
from autodl.report.page import WORDS, num, render_page

__all__ = ["run_report_html", "submission_traceback", "write_run_report"]


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def submission_traceback(result: RunResult) -> str | None:
    """The traceback ingestion recorded (``ingestion.json``) for a run that failed."""
    if result.status.success or not result.run_dir:
        return None
    try:
        record = read_ingestion_record(RunFolder(result.run_dir).predictions)
    except (ProtocolError, OSError):
        return None
    return record.traceback or None


def run_report_html(result: RunResult) -> str:
    """The page of one run: its numbers, traceback, learning curve, the end of its logs."""
    from autodl.report.curves import render_learning_curve, run_curve

    folder = RunFolder(result.run_dir) if result.run_dir else None
    title = f"{result.submission} on {result.dataset}"
    rows = [
        (WORDS["submission"], result.submission),
        (WORDS["dataset"], result.dataset),
        (WORDS["status"], str(result.status)),
        (WORDS["alc"], num(result.alc)),
        (WORDS["final_nauc"], num(result.final_nauc)),
        (WORDS["accuracy"], num(result.accuracy)),
        (WORDS["predictions"], str(result.num_predictions)),
        (WORDS["duration"], num(result.duration, 1)),
        (WORDS["time_budget"], num(result.time_budget, 0)),
        (WORDS["wall_time"], num(result.wall_time, 1)),
        (WORDS["device"], result.device or ""),
        (WORDS["error"], result.error or ""),
    ]
    # Scoring already drew this run's curve: embed its picture rather than draw it again.
    drawn = sorted(folder.scores.glob(_png_name("*"))) if folder else []
    if drawn:
        png = drawn[0].read_bytes()
    else:
        png = render_learning_curve(
            run_curve(result), [result.submission], title=title, time_budget=result.time_budget
        )
    link = None
    logs = []
    if folder is not None:
        detailed = folder.scores / DETAILED_RESULTS_HTML
        if detailed.is_file():
            link = detailed.relative_to(folder.root).as_posix()
        for name, log in (("ingestion", folder.ingestion_log), ("scoring", folder.scoring_log)):
            text = _tail(log)
            if text:
                logs.append((name, text))
    return render_page(
        "run.html",
        title=f"autodl run: {title}",
        heading=title,
        rows=rows,
        traceback=submission_traceback(result),
        curve_png=png,
        detailed_link=link,
        logs=logs,
    )


def write_run_report(result: RunResult, path: str | os.PathLike[str]) -> Path:
    """Write the run's page to ``path`` (atomically)."""
    path = Path(path)
    atomic_write(path, run_report_html(result))
    return path
