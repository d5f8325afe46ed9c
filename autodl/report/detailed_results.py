"""Scoring's ``detailed_results.html``: summary, learning-curve PNGs embedded as base64, one
row per prediction, and every message.

CodaLab and Codabench show this page during a run: while scoring is live it reloads
itself every 5 s (``<meta http-equiv="refresh">``); the final page has no refresh.

>>> page = render_detailed_results(task_name="toy", images=[], summary=[("status", "ok")],
...                                rows=[PredictionRow(0, 1.5, 0.1, 0.25, None)],
...                                messages=[], live=True)
>>> 'http-equiv="refresh"' in page, "<td>0.2500</td>" in page
(True, True)
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

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
        ("status", str(result.status)),
        ("ALC (score)", f"{result.alc:.4f}"),
        ("predictions", str(len(scored))),
        ("last NAUC", f"{scored[-1].nauc:.4f}" if scored else "-"),
    ]
    if result.multiclass and scored:
        summary.append(("last accuracy", f"{scored[-1].accuracy:.4f}"))
    if result.time_budget is not None:
        summary.append(("time budget", f"{result.time_budget:g} s"))
    if result.nauc_error_bar:
        summary.append(("last NAUC, bootstrap", "{:.4f} ± {:.4f}".format(*result.nauc_error_bar)))
    if result.alc_error_bar:
        summary.append(("ALC, bootstrap", "{:.4f} ± {:.4f}".format(*result.alc_error_bar)))
    return render_detailed_results(
        task_name=result.task_name or "(unknown)",
        images=images,
        summary=summary,
        rows=rows,
        messages=result.messages,
        live=live,
    )


def _cell(x: float | None, fmt: str) -> str:
    return "" if x is None else format(x, fmt)


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
    esc = html.escape
    head = ['<meta charset="utf-8">']
    if live:
        head.append('<meta http-equiv="refresh" content="5">')
    head.append(f"<title>{esc(task_name)}: learning curve</title>")
    head.append(
        "<style>body{font-family:sans-serif;margin:1.5em}"
        "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:2px 8px;"
        "text-align:right}th{background:#eee}.msg{color:#a00}</style>"
    )
    body = [f"<h1>Task {esc(task_name)}</h1>"]
    if live:
        body.append("<p><em>Scoring in progress; this page refreshes every 5 seconds.</em></p>")
    body.append("<table>")
    body += [f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in summary]
    body.append("</table>")
    for name, png in images:
        data = base64.b64encode(png).decode("ascii")
        body.append(f'<p><img alt="{esc(name)}" src="data:image/png;base64,{data}"></p>')
    if not images:
        body.append("<p>The learning curve appears once the first prediction is scored.</p>")
    if rows:
        body.append(
            "<h2>Predictions</h2><table><tr><th>k</th><th>t (s)</th><th>t~</th>"
            "<th>NAUC</th><th>accuracy</th><th>note</th></tr>"
        )
        for r in rows:
            body.append(
                f"<tr><td>{r.k}</td><td>{_cell(r.t, '.2f')}</td>"
                f"<td>{_cell(r.t_rescaled, '.4f')}</td><td>{_cell(r.nauc, '.4f')}</td>"
                f"<td>{_cell(r.accuracy, '.4f')}</td><td>{esc(r.note)}</td></tr>"
            )
        body.append("</table>")
    if messages:
        body.append("<h2>Messages</h2><ul>")
        body += [f'<li class="msg">{esc(m)}</li>' for m in messages]
        body.append("</ul>")
    return (
        "<!DOCTYPE html>\n<html><head>"
        + "".join(head)
        + "</head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
