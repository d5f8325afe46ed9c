"""``leaderboard.html``: the ranking, every dataset's learning curves overlaid, every run.

>>> from autodl.protocol import RunResult
>>> runs_table([RunResult("zero", "digits", "ok", alc=0.0, num_predictions=1)]).count("<tr")
2
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from autodl.protocol import RunResult, atomic_write
from autodl.report.page import num, render_page

if TYPE_CHECKING:
    from autodl.challenge.leaderboard import Leaderboard

__all__ = ["leaderboard_html", "runs_table", "write_leaderboard_html"]

# Many curves on one picture: wider than a single run's, and the legend holds the ALCs.
_FIGSIZE = (7.2, 4.8)


def leaderboard_html(board: Leaderboard, *, title: str = "AutoDL leaderboard") -> str:
    """The leaderboard page: ranks, every run, learning curves overlaid per dataset."""
    from autodl.report.curves import render_learning_curve, run_curve

    best = {
        d: max(
            (board.alc(s, d) for s in board.submissions if board.alc(s, d) is not None),
            default=None,
        )
        for d in board.datasets
    }
    ranking = []
    for s in board.submissions:
        cells = []
        for d in board.datasets:
            alc = board.alc(s, d)
            cells.append(
                {
                    "best": alc is not None and alc == best[d],
                    "shown": num(alc) if alc is not None else str(board.status(s, d)),
                    "rank": f"{board.ranks[(s, d)]:g}",
                }
            )
        ranking.append(
            {
                "position": board.position[s],
                "submission": s,
                "average_rank": board.average_rank[s],
                "cells": cells,
            }
        )
    # Learning curves per dataset, submissions in ranking order (missing runs named too).
    figures = []
    for d in board.datasets:
        found = [board.results.get((s, d)) for s in board.submissions]
        curves = [run_curve(r) if r is not None else None for r in found]
        budget = next((r.time_budget for r in found if r is not None and r.time_budget), None)
        png = render_learning_curve(
            curves,
            board.submissions,
            title=d,
            show_final_score=False,
            time_budget=budget,
            figsize=_FIGSIZE,
        )
        caption = f"{d}: NAUC of each prediction against log-scaled time"
        caption += f" (budget {budget:g} s)" if budget else ""
        figures.append({"dataset": d, "png": png, "caption": caption})
    return render_page(
        "leaderboard.html",
        title=title,
        board=board,
        ranking=ranking,
        figures=figures,
        runs=_sorted_runs(list(board.results.values())),
        table_id="runs",
    )


def _sorted_runs(results: Sequence[RunResult]) -> list[RunResult]:
    return sorted(results, key=lambda r: (r.dataset, r.submission))


def runs_table(results: Sequence[RunResult], *, table_id: str = "runs") -> str:
    """Every run, by dataset and submission: status, ALC, final NAUC, device, error."""
    return render_page("runs_table.html", runs=_sorted_runs(results), table_id=table_id)


def write_leaderboard_html(
    board: Leaderboard, path: str | os.PathLike[str], *, title: str = "AutoDL leaderboard"
) -> Path:
    """Write the leaderboard page to ``path`` (atomically)."""
    path = Path(path)
    atomic_write(path, leaderboard_html(board, title=title))
    return path
