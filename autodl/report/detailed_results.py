"""Scoring's ``detailed_results.html``: summary, learning-curve PNGs embedded as base64, one
row per prediction, and every message.

CodaLab and Codabench show this page during a run: while scoring is live it reloads
itself every 5 s (``<meta http-equiv="refresh">``); the final page has no refresh.

>>> page = render_detailed_results(task_name="toy", images=[], summary=[("status", "ok")],
...                                rows=[PredictionRow(0, 1.5, 0.1, 0.25, None)],
...                                messages=["<b>late</b>"], live=True)
>>> 'http-equiv="refresh"' in page, "<td>0.2500</td>" in page, "&lt;b&gt;late" in page
(True, True, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from autodl.report.page import WORDS, render_page
from autodl.scoring.curve import rescale_time

if TYPE_CHECKING:
    from autodl.scoring.result import ScoreResult

__all__ = ["PredictionRow", "detailed_results_html", "render_detailed_results"]


@dataclass(frozen=True)
class PredictionRow:
    """One prediction in the results table."""

    k: int
    t: float | None
    t_rescaled: float | None
    nauc: float | None
    accuracy: float | None
    note: str = ""


def detailed_results_html(
    result: ScoreResult, images: Sequence[tuple[str, bytes]], *, live: bool
) -> str:
    """The page of a :class:`~autodl.scoring.result.ScoreResult` (``images``: the PNGs
    drawn for it, as ``(file name, bytes)``)."""
    rows = []
    for p in result.predictions:
        t = result.seconds(p)
        tr = None
        note = p.error or ""
        if t is not None and result.time_budget is not None:
            if 0 <= t <= result.time_budget:
                tr = float(rescale_time(t, result.time_budget, result.t0))
            elif t > result.time_budget:
                note = note or "after the time budget: not on the curve"
        rows.append(PredictionRow(p.k, t, tr, p.nauc, p.accuracy, note))
    scored = result.scored
    summary = [
        (WORDS["status"], str(result.status)),
        (WORDS["alc"], f"{result.alc:.4f}"),
        (WORDS["final_nauc"], f"{scored[-1].nauc:.4f}" if scored else "–"),
        (WORDS["predictions"], str(len(scored))),
    ]
    if result.multiclass and scored:
        summary.append((WORDS["accuracy"], f"{scored[-1].accuracy:.4f}"))
    if result.time_budget is not None:
        summary.append((WORDS["time_budget"], f"{result.time_budget:g}"))
    if result.alc_error_bar:
        summary.append(
            (f"{WORDS['alc']}, bootstrap", "{:.4f} ± {:.4f}".format(*result.alc_error_bar))
        )
    if result.nauc_error_bar:
        summary.append(
            (f"{WORDS['final_nauc']}, bootstrap", "{:.4f} ± {:.4f}".format(*result.nauc_error_bar))
        )
    return render_detailed_results(
        task_name=result.task_name or "(unknown)",
        images=images,
        summary=summary,
        rows=rows,
        messages=result.messages,
        live=live,
    )


def render_detailed_results(
    *,
    task_name: str,
    images: Sequence[tuple[str, bytes]],
    summary: Sequence[tuple[str, str]],
    rows: Sequence[PredictionRow],
    messages: Sequence[str],
    live: bool,
) -> str:
    """The page from its parts: summary rows, PNGs, prediction rows, messages."""
    return render_page(
        "detailed_results.html",
        title=f"{task_name}: learning curve",
        heading=f"Task {task_name}",
        refresh=5 if live else None,
        summary=summary,
        images=images,
        rows=rows,
        messages=messages,
    )
