"""Learning-curve pictures, in one style: a single run's (scoring's PNG, a run's page) and
many runs' on one dataset (the leaderboard).

A curve is a :class:`~autodl.scoring.curve.LearningCurve`, so what is drawn is what the
ALC integrates: the step function on log-rescaled time ``t~``, from (0, 0), held (dashed)
at its last score up to ``t~ = 1``, with the same axis in seconds on top. The style:

- the line and its points on top of everything, the area under a single curve in a light
  tint of the line's colour, the grid behind; the score axis goes to 1.1 (ticks stop at
  1), so a curve at NAUC 1 is a visible line with room above it, not the frame's edge;
- numbers in the legend (ALC, final NAUC), never written on the plot where they could
  meet a tick label; a single curve's legend sits in a corner the curve leaves free,
  many curves' legend below the picture;
- when every curve ends early (its last point in the first quarter of the rescaled axis),
  a second panel below shows those seconds on a linear axis, so the points can be read.

Matplotlib is used through its object API on the Agg canvas (no pyplot, no display, no
global figure state), so this works headless and from several threads.

>>> from autodl.scoring.curve import LearningCurve
>>> png = render_learning_curve(LearningCurve((6.0, 60.0), (0.5, 0.9), time_budget=600.0))
>>> png[:4]
b'\\x89PNG'
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from autodl.scoring.curve import DEFAULT_T0, LearningCurve, rescale_time

if TYPE_CHECKING:
    from autodl.protocol import RunResult

__all__ = [
    "learning_curve_figure",
    "read_curve",
    "render_learning_curve",
    "run_curve",
    "seconds_ticks",
]

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


# Where the rescaled axis is too crowded to read seconds: curves whose last point comes
# before this get the linear zoom panel.
EARLY = 0.25
_TOP = 1.1  # the score axis ends here; its ticks stop at 1


def _plain(text: str) -> str:
    """A name drawn as written: a "$" would start matplotlib's math (and "$\\frac" fail)."""
    return text.replace("$", r"\$")


def _last_x(curve: LearningCurve) -> float | None:
    t, _ = curve.in_budget()
    if not t.size:
        return None
    return float(rescale_time(t[-1], curve.time_budget, curve.t0))


def learning_curve_figure(
    curves: LearningCurve | None | Sequence[LearningCurve | None],
    labels: Sequence[str] | None = None,
    *,
    title: str | None = None,
    show_final_score: bool = True,
    time_budget: float | None = None,
    figsize: tuple[float, float] | None = None,
    dpi: int = 100,
) -> Any:
    """The matplotlib ``Figure`` of :func:`render_learning_curve` (drawn, not saved)."""
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
    ends = [_last_x(c) for c in curves if c is not None]
    ends = [x for x in ends if x is not None]
    zoom = bool(ends) and max(ends) < EARLY
    single = len(curves) == 1

    width, height = figsize or (7.0, 5.0)
    # Constrained layout: it places the seconds axis on top (tight_layout cannot).
    fig = Figure(figsize=(width, height + (1.9 if zoom else 0.0)), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    if zoom:
        ax, zax = fig.subplots(2, 1, gridspec_kw={"height_ratios": [3.0, 1.25]})
    else:
        ax, zax = fig.add_subplot(111), None
    lowest = 0.0
    for i, (curve, label) in enumerate(zip(curves, labels, strict=True)):
        color = f"C{i % 10}"
        name = f"{_plain(label)}: " if label else ""
        if curve is None:
            ax.plot([], [], linestyle="--", color=color, label=f"{name}no learning curve")
            continue
        x, y = curve.step_points()
        lowest = min(lowest, float(y.min()))
        text = f"{name}ALC {curve.alc():.4f}"
        if not curve.in_budget()[0].size:
            text = f"{name}no prediction within the budget (ALC 0)"
        elif show_final_score:
            text += f", final NAUC {curve.final_score:.4f}"
        if single:  # the area ALC measures, light so the line stays the thing seen
            ax.fill_between(x, y, step="post", color=color, alpha=0.16, linewidth=0, zorder=1)
        ax.plot(x[:-1], y[:-1], drawstyle="steps-post", color=color, linewidth=2,
                zorder=3, label=text)  # fmt: skip
        ax.plot(x[-2:], y[-2:], linestyle="--", linewidth=1.5, color=color, zorder=3)
        # The predictions themselves, white-edged so they stand out on the line at 1.
        ax.plot(x[1:-1], y[1:-1], linestyle="none", marker="o", markersize=5, color=color,
                markeredgecolor="white", markeredgewidth=0.8, zorder=4)  # fmt: skip
        if zax is not None:
            t, s = curve.in_budget()
            zx = [0.0, *t.tolist()]
            zy = [0.0, *s.tolist()]
            zax.plot(zx, zy, drawstyle="steps-post", color=color, linewidth=2, zorder=3)
            zax.plot(t, s, linestyle="none", marker="o", markersize=5, color=color,
                     markeredgecolor="white", markeredgewidth=0.8, zorder=4)  # fmt: skip
    bottom = min(-0.02, lowest - 0.05)
    ax.set_xlim(0, 1)
    ax.set_ylim(bottom, _TOP)
    ax.set_yticks([v / 5 for v in range(6) if v / 5 >= bottom])
    ax.set_axisbelow(True)
    ax.grid(True, color="#dddddd", linewidth=0.8)
    time_axis = r"transformed time $\tilde{t} = \log(1 + t/t_0)\,/\,\log(1 + T/t_0)$"
    if budget:
        time_axis += f"  ($T$ = {_fmt_seconds(budget)} s, $t_0$ = {_fmt_seconds(t0)} s)"
    ax.set_xlabel(time_axis)
    ax.set_ylabel("NAUC (2 * AUC - 1)")
    if single:
        # Where the curve is not: under its end when it ends high, above it otherwise.
        high = first is not None and first.final_score >= 0.3
        ax.legend(loc="lower right" if high else "upper right", framealpha=0.95)
    else:  # many curves leave no free corner: the legend goes below the picture
        fig.legend(loc="outside lower center", ncols=min(2, len(curves)), frameon=False)
    if budget:
        top = ax.twiny()
        top.set_xlim(0, 1)
        ticks = seconds_ticks(budget, t0)
        top.set_xticks(rescale_time(ticks, budget, t0).tolist())
        top.set_xticklabels([_fmt_seconds(t) for t in ticks])
        top.set_xlabel("time (s)")
    if zax is not None:
        last = max(c.in_budget()[0][-1] for c in curves if c is not None and c.in_budget()[0].size)
        from matplotlib.ticker import MaxNLocator

        end = float(last) or 1.0
        zax.set_xlim(0, end * 1.08)
        # Ticks up to the last point only: one past the frame's edge would stick out.
        ticks = [t for t in MaxNLocator(6).tick_values(0, end) if 0 <= t <= end * 1.001]
        zax.set_xticks(ticks)
        zax.set_ylim(bottom, _TOP)
        zax.set_yticks([v / 2 for v in range(3) if v / 2 >= bottom])
        zax.set_axisbelow(True)
        zax.grid(True, color="#dddddd", linewidth=0.8)
        zax.set_xlabel(f"time (s), linear: the first {float(last):.3g} s, where the points are")
        zax.set_ylabel("NAUC")
    if title is None:
        task = first.task_name if first is not None else None
        title = f"Learning curve for task: {task}" if task else "Learning curve"
    ax.set_title(_plain(title))  # placed above the seconds axis by matplotlib
    return fig


def render_learning_curve(
    curves: LearningCurve | None | Sequence[LearningCurve | None],
    labels: Sequence[str] | None = None,
    *,
    title: str | None = None,
    show_final_score: bool = True,
    time_budget: float | None = None,
    figsize: tuple[float, float] | None = None,
    dpi: int = 100,
) -> bytes:
    """PNG bytes of one or several learning curves on rescaled time.

    A ``None`` curve (a run without one: failed, or its file is missing) is only named in
    the legend. The axes take the time budget and t0 of the first curve, else
    ``time_budget`` (and the default t0); with neither, the seconds axis is left out.
    ``figsize`` is the main panel's (inches); the zoom panel adds its own height.
    """
    fig = learning_curve_figure(
        curves,
        labels,
        title=title,
        show_final_score=show_final_score,
        time_budget=time_budget,
        figsize=figsize,
        dpi=dpi,
    )
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
