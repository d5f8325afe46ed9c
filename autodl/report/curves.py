"""Learning-curve pictures, in one style: a single run's (scoring's PNG, a run's page) and
many runs' on one dataset (the leaderboard).

A curve is a :class:`~autodl.scoring.curve.LearningCurve`, so what is drawn is what the
ALC integrates: the step function on log-rescaled time ``t~``, from (0, 0), held (dashed)
at its last score up to ``t~ = 1``, with a second x-axis in seconds on top. A single
curve gets its area filled (cyan, as the 2019 program drew it) and its final score
written. Matplotlib is used through its object API on the Agg canvas (no pyplot, no
display, no global figure state), so this works headless and from several threads.

>>> from autodl.scoring.curve import LearningCurve
>>> png = render_learning_curve(LearningCurve((6.0, 60.0), (0.5, 0.9), time_budget=600.0))
>>> png[:4]
b'\\x89PNG'
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from autodl.scoring.curve import DEFAULT_T0, LearningCurve, rescale_time

if TYPE_CHECKING:
    from autodl.protocol import RunResult

__all__ = ["read_curve", "render_learning_curve", "run_curve", "seconds_ticks"]

_SECOND_TICKS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200)


def seconds_ticks(time_budget: float, t0: float, min_gap: float = 0.06) -> list[float]:
    """Round numbers of seconds for a log-scaled time axis, at least ``min_gap`` apart.

    Kept from the budget down, so the budget itself is always labelled.

    >>> seconds_ticks(1200.0, 60.0)
    [10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0]
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


def read_curve(score_dir: str | os.PathLike[str] | None) -> LearningCurve | None:
    """The learning curve of a score folder (``learning_curve.json``), or None when there
    is none or it cannot be drawn.

    >>> read_curve(None) is None
    True
    """
    from autodl.protocol import ProtocolError, read_learning_curve

    if score_dir is None:
        return None
    try:
        return LearningCurve.from_record(read_learning_curve(score_dir))
    except (ProtocolError, ValueError, TypeError, KeyError):
        return None


def run_curve(result: RunResult) -> LearningCurve | None:
    """The learning curve of a scored run (its score folder, or the bare score folder it was
    found as), or None: a failed run has none to draw."""
    if not result.scored:
        return None
    curve = read_curve(result.score_dir)
    if curve is None and result.extra.get("score_dir"):
        curve = read_curve(result.extra["score_dir"])
    return curve


def _fmt_seconds(t: float) -> str:
    return f"{t:g}"


def render_learning_curve(
    curves: LearningCurve | None | Sequence[LearningCurve | None],
    labels: Sequence[str] | None = None,
    *,
    title: str | None = None,
    show_final_score: bool = True,
    time_budget: float | None = None,
    figsize: tuple[float, float] = (7, 7.07),
    dpi: int = 100,
) -> bytes:
    """PNG bytes of one or several learning curves on rescaled time.

    A ``None`` curve (a run without one: failed, or its file is missing) is only named in
    the legend. The axes take the time budget and t0 of the first curve, else
    ``time_budget`` (and the default t0); with neither, the seconds axis is left out.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if curves is None or isinstance(curves, LearningCurve):
        curves = [curves]
    curves = list(curves)
    if not curves:
        raise ValueError("no learning curve to draw")
    labels = list(labels) if labels is not None else [""] * len(curves)
    if len(labels) != len(curves):
        raise ValueError(f"{len(labels)} labels for {len(curves)} curves")
    first = next((c for c in curves if c is not None), None)
    budget = first.time_budget if first is not None else time_budget
    t0 = first.t0 if first is not None else DEFAULT_T0

    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(111)
    lowest = 0.0
    for i, (curve, label) in enumerate(zip(curves, labels, strict=True)):
        color = f"C{i % 10}"
        name = f"{label}: " if label else ""
        if curve is None:
            ax.plot([], [], linestyle="--", color=color, label=f"{name}no learning curve")
            continue
        x, y = curve.step_points()
        lowest = min(lowest, float(y.min()))
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
            # Below the line near the top, so the number stays inside the frame.
            where = "top" if y[-1] > 0.9 else "bottom"
            ax.text(1.0, y[-1], f"{y[-1]:.4f}", color=color, ha="right", va=where)
    ax.set_xlim(0, 1)
    # Room above 1: a curve at NAUC 1 is drawn inside the frame, not hidden on its edge.
    ax.set_ylim(min(-0.01, lowest - 0.05), 1.03)
    time_axis = r"Transformed time: $\tilde{t} = \log(1 + t/t_0)\,/\,\log(1 + T/t_0)$"
    if budget:
        time_axis += f"  ($T$ = {_fmt_seconds(budget)} s, $t_0$ = {_fmt_seconds(t0)} s)"
    ax.set_xlabel(time_axis)
    ax.set_ylabel("score (2 * AUC - 1)")
    ax.grid(True, zorder=5)
    ax.legend(loc="lower right" if len(curves) == 1 else "best")
    if budget:
        top = ax.twiny()
        top.set_xlim(0, 1)
        ticks = seconds_ticks(budget, t0)
        top.set_xticks(rescale_time(ticks, budget, t0).tolist())
        top.set_xticklabels([_fmt_seconds(t) for t in ticks])
        top.set_xlabel("time (seconds)")
    if title is None:
        task = first.task_name if first is not None else None
        title = f"Learning curve for task: {task}" if task else "Learning curve"
    ax.set_title(title)  # placed above the seconds axis by matplotlib
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
