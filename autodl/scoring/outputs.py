"""The score folder, rewritten from a :class:`~autodl.scoring.result.ScoreResult` after every
new prediction and at the end: ``scores.txt`` (the 2019 layout), ``scores.json``,
``learning_curve.json``, ``learning-curve-<task>.png`` and ``detailed_results.html``.

Every file is written aside, then renamed (:mod:`autodl.protocol`), so a platform that
uploads the folder while scoring runs never sees half a file. The pictures and the page
come from :mod:`autodl.report`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from autodl import protocol
from autodl.scoring.result import ScoreResult

__all__ = ["curve_record", "write_score_folder"]


def curve_record(result: ScoreResult) -> dict[str, Any] | None:
    """What ``learning_curve.json`` holds for ``result`` (None without a curve): the curve's
    record plus, per point in time order, the prediction's ``k`` and accuracy."""
    curve = result.curve
    if curve is None:
        return None
    by_time = sorted(result.on_curve, key=lambda p: p.timestamp)  # type: ignore[arg-type,return-value]
    record = curve.to_record()
    record["accuracy"] = [p.accuracy for p in by_time] if result.multiclass else None
    record["k"] = [p.k for p in by_time]
    record["timestamps"], record["nauc"] = list(curve.timestamps), list(curve.scores)
    return record


def write_score_folder(
    score_dir: str | os.PathLike[str], result: ScoreResult, *, live: bool, draw: bool = True
) -> None:
    """Rewrite every file of the score folder from ``result`` (each atomically).

    ``live``: the page refreshes itself; ``draw=False`` leaves the picture out.
    """
    from autodl.report.curves import render_learning_curve
    from autodl.report.detailed_results import detailed_results_html

    score_dir = Path(score_dir)
    scored = result.scored
    # An empty curve is written as the 2019 program wrote it: integer zeros.
    protocol.write_scores_txt(
        score_dir,
        score=result.alc if scored else 0,
        duration=result.duration if scored else 0,
        timestamps=result.timestamps if scored else [],
        nauc_scores=result.nauc_scores,
        accuracy=result.accuracy_scores,
    )
    protocol.write_scores_json(score_dir, result.to_record())
    record = curve_record(result)
    if record is not None:
        protocol.write_learning_curve(score_dir, record)
    images = []
    if result.curve is not None and draw:
        png = render_learning_curve(result.curve)
        name = protocol.learning_curve_png(result.task_name or "")
        protocol.atomic_write(score_dir / name, png)
        images.append((name, png))
    page = detailed_results_html(result, images, live=live)
    protocol.atomic_write(score_dir / protocol.DETAILED_RESULTS_HTML, page)
