"""``leaderboard.html``: the ranking, every dataset's learning curves overlaid, every run.

>>> from autodl.protocol import RunResult
>>> runs_table([RunResult("zero", "digits", "ok", alc=0.0, num_predictions=1)]).count("<tr")
2
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from autodl.protocol import RunResult, atomic_write
from autodl.report.page import img, num, page

if TYPE_CHECKING:
    from autodl.challenge.leaderboard import Leaderboard

__all__ = ["leaderboard_html", "runs_table", "write_leaderboard_html"]

# Many curves on one picture: wider than a single run's, and the legend holds the ALCs.
_FIGSIZE = (7.2, 4.8)


def leaderboard_html(board: Leaderboard, *, title: str = "AutoDL leaderboard") -> str:
    """The leaderboard page: ranks, every run, learning curves overlaid per dataset."""
    from autodl.report.curves import render_learning_curve, run_curve

    esc = html.escape
    parts = [f"<h1>{esc(title)}</h1>"]
    parts.append(
        f'<p class="meta">{len(board.submissions)} submissions on {len(board.datasets)} '
        "datasets. Per dataset, ALC ranks submissions (higher first; ties share the mean "
        "rank; a failed or missing run ranks last); lower average rank is better.</p>"
    )
    # Ranks table.
    head = "".join(f'<th colspan="2">{esc(d)}</th>' for d in board.datasets)
    sub_head = "".join("<th>ALC</th><th>rank</th>" for _ in board.datasets)
    rows = []
    best = {
        d: max(
            (board.alc(s, d) for s in board.submissions if board.alc(s, d) is not None),
            default=None,
        )
        for d in board.datasets
    }
    for s in board.submissions:
        cells = [
            f"<td>{board.position[s]}</td>",
            f'<td class="name">{esc(s)}</td>',
            f"<td>{board.average_rank[s]:.2f}</td>",
        ]
        for d in board.datasets:
            alc = board.alc(s, d)
            cls = ' class="best"' if alc is not None and alc == best[d] else ""
            shown = num(alc) if alc is not None else esc(board.status(s, d))
            cells.append(f"<td{cls}>{shown}</td><td>{board.ranks[(s, d)]:g}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    parts.append(
        '<h2>Ranking</h2><table id="leaderboard"><thead><tr><th rowspan="2">#</th>'
        '<th rowspan="2" class="name">submission</th><th rowspan="2">average rank</th>'
        f"{head}</tr><tr>{sub_head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
    # Learning curves per dataset, submissions in ranking order (missing runs named too).
    parts.append("<h2>Learning curves</h2>")
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
        parts.append(
            f"<figure>{img(png, f'learning curves on {d}')}"
            f"<figcaption>{esc(d)}: NAUC of each prediction against log-scaled time"
            f"{f' (budget {budget:g} s)' if budget else ''}</figcaption></figure>"
        )
    parts.append(runs_table(list(board.results.values()), table_id="runs"))
    return page(title, "\n".join(parts))


def runs_table(results: Sequence[RunResult], *, table_id: str = "runs") -> str:
    """Every run, by dataset and submission: status, ALC, final NAUC, device, error."""
    esc = html.escape
    rows = []
    for r in sorted(results, key=lambda r: (r.dataset, r.submission)):
        cls = ' class="failed"' if r.failed else ""
        rows.append(
            f'<tr{cls}><td class="name">{esc(r.submission)}</td>'
            f'<td class="name">{esc(r.dataset)}</td><td class="name">{esc(r.status)}</td>'
            f"<td>{num(r.alc)}</td><td>{num(r.final_nauc)}</td><td>{num(r.accuracy)}</td>"
            f"<td>{num(r.duration, 1)}</td><td>{r.num_predictions}</td>"
            f'<td class="name">{esc(r.device or "")}</td>'
            f'<td class="name">{esc(r.error or "")}</td></tr>'
        )
    return (
        f'<h2>Runs</h2><table id="{table_id}"><thead><tr><th class="name">submission</th>'
        '<th class="name">dataset</th><th class="name">status</th><th>ALC</th>'
        "<th>final NAUC</th><th>accuracy</th><th>duration (s)</th><th>predictions</th>"
        '<th class="name">device</th><th class="name">error</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def write_leaderboard_html(
    board: Leaderboard, path: str | os.PathLike[str], *, title: str = "AutoDL leaderboard"
) -> Path:
    """Write the leaderboard page to ``path`` (atomically)."""
    path = Path(path)
    atomic_write(path, leaderboard_html(board, title=title))
    return path
