"""Pictures of a scoring run: the learning-curve PNG and ``detailed_results.html``.

Matplotlib is used through its object API on the Agg canvas (no pyplot, no display, no
global figure state), so this works headless and from several threads.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass

from autodl.scoring.curve import LearningCurve, rescale_time

__all__ = ["PredictionRow", "render_detailed_results", "render_learning_curve", "seconds_ticks"]

_SECOND_TICKS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200)


def seconds_ticks(time_budget: float, t0: float, min_gap: float = 0.06) -> list[float]:
    """Round numbers of seconds for a log-scaled time axis, at least ``min_gap`` apart.

    Kept from the budget down, so the budget itself is always labelled.
    """
    budget = float(time_budget)
    candidates = [float(t) for t in _SECOND_TICKS if t < budget] + [budget]
    chosen: list[float] = []
    last = float("inf")
    for t in reversed(candidates):
        x = float(rescale_time([t], budget, t0)[0])
        if last - x >= min_gap:
            chosen.append(t)
            last = x
    return sorted(chosen)


def _fmt_seconds(t: float) -> str:
    return f"{t:g}"


def render_learning_curve(
    curves: LearningCurve | Sequence[LearningCurve],
    labels: Sequence[str] | None = None,
    *,
    title: str | None = None,
    show_final_score: bool = True,
    dpi: int = 100,
) -> bytes:
    """PNG bytes of one or several learning curves on rescaled time.

    Each curve is drawn as a step function from (0, 0), held (dashed) at its last score up
    to t~ = 1; a single curve gets its area filled. A second x-axis on top shows seconds.
    All curves must share the time budget and t0 (the first curve's are used for the axes).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if isinstance(curves, LearningCurve):
        curves = [curves]
    curves = list(curves)
    if not curves:
        raise ValueError("no learning curve to draw")
    labels = list(labels) if labels is not None else [""] * len(curves)
    if len(labels) != len(curves):
        raise ValueError(f"{len(labels)} labels for {len(curves)} curves")
    budget, t0 = curves[0].time_budget, curves[0].t0

    fig = Figure(figsize=(7, 7.07), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(111)
    lowest = 0.0
    for i, (curve, label) in enumerate(zip(curves, labels, strict=True)):
        color = f"C{i % 10}"
        x, y = curve.step_points()
        lowest = min(lowest, float(y.min()))
        name = f"{label}: " if label else ""
        ax.plot(
            x[:-1],
            y[:-1],
            drawstyle="steps-post",
            marker="o",
            markersize=3,
            color=color,
            label=f"{name}ALC={curve.alc():.4f}",
        )
        ax.plot(x[-2:], y[-2:], linestyle="--", linewidth=1, color=color)
        if len(curves) == 1:
            ax.fill_between(x, y, step="post", color="cyan", alpha=0.5)
        if show_final_score:
            ax.text(1.0, y[-1], f"{y[-1]:.4f}", color=color, ha="right", va="bottom")
    ax.set_xlim(0, 1)
    ax.set_ylim(min(-0.01, lowest - 0.05), 1)
    ax.set_xlabel(
        r"Transformed time: $\tilde{t} = \log(1 + t/t_0)\,/\,\log(1 + T/t_0)$"
        f"  ($T$ = {_fmt_seconds(budget)} s, $t_0$ = {_fmt_seconds(t0)} s)"
    )
    ax.set_ylabel("score (2 * AUC - 1)")
    ax.grid(True, zorder=5)
    ax.legend(loc="lower right")
    top = ax.twiny()
    top.set_xlim(0, 1)
    ticks = seconds_ticks(budget, t0)
    top.set_xticks(rescale_time(ticks, budget, t0).tolist())
    top.set_xticklabels([_fmt_seconds(t) for t in ticks])
    top.set_xlabel("time (seconds)")
    if title is None:
        task = curves[0].task_name
        title = f"Learning curve for task: {task}" if task else "Learning curve"
    ax.set_title(title, y=1.1)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


@dataclass(frozen=True)
class PredictionRow:
    """One prediction in the results table."""

    k: int
    t: float | None
    t_rescaled: float | None
    nauc: float | None
    accuracy: float | None
    note: str = ""


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
    """The ``detailed_results.html`` page: summary, PNGs embedded as base64, table, messages.

    While ``live`` the page reloads itself every 5 s (``<meta http-equiv="refresh">``), as
    CodaLab/Codabench show it during a run; the final page has no refresh.
    """
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
