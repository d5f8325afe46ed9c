"""HTML pages of local runs: the report of ``autodl run`` and ``leaderboard.html``.

Each page is one self-contained file (inline CSS, pictures embedded as base64 PNG, no
script, no network), so it opens offline and can be mailed or archived as is. The
learning curves are drawn from each run's ``learning_curve.json`` on the log-rescaled
time axis that the ALC integrates over.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autodl.challenge.results import RunResult, read_curve
from autodl.protocol import atomic_write

if TYPE_CHECKING:
    from autodl.challenge.leaderboard import Leaderboard

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em auto;
max-width:1100px;padding:0 1em;color:#1b1f24;background:#fff}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:1.6em;
border-bottom:1px solid #d0d7de;padding-bottom:.2em}
.meta{color:#57606a;font-size:.9em}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}
th,td{border:1px solid #d0d7de;padding:.35em .7em;text-align:right}
th{background:#f3f4f6}td.name,th.name{text-align:left}
tr.failed td{color:#a40e26}td.best{font-weight:bold;background:#dafbe1}
figure{display:inline-block;margin:.5em 1em .5em 0}figcaption{color:#57606a;font-size:.9em}
img{max-width:100%;border:1px solid #d0d7de}
pre{background:#f6f8fa;padding:.8em;overflow-x:auto;font-size:.82em;max-height:30em}
"""


# --------------------------------------------------------------------------- curves


def rescale_time(t: float, time_budget: float, t0: float) -> float:
    """The ALC's time axis: ``log(1 + t/t0) / log(1 + T/t0)`` (0 at start, 1 at the budget)."""
    return math.log1p(t / t0) / math.log1p(time_budget / t0)


def step_points(
    timestamps: Sequence[float], scores: Sequence[float], time_budget: float, t0: float
) -> tuple[list[float], list[float]]:
    """Corners of the learning curve as a step function through (0, 0), held up to 1.

    Predictions after the budget are left out, as the score does.
    """
    xs, ys = [0.0], [0.0]
    for t, s in zip(timestamps, scores, strict=False):
        if t > time_budget or s is None:
            continue
        x = rescale_time(max(t, 0.0), time_budget, t0)
        xs += [x, x]
        ys += [ys[-1], float(s)]
    xs.append(1.0)
    ys.append(ys[-1])
    return xs, ys


def _curve_fields(curve: dict[str, Any], fallback_budget: float | None) -> tuple | None:
    timestamps = curve.get("timestamps") or []
    scores = curve.get("nauc") or curve.get("nauc_scores") or curve.get("scores") or []
    budget = curve.get("time_budget") or fallback_budget
    t0 = curve.get("t0") or 60.0
    if not budget:
        return None
    return list(map(float, timestamps)), list(scores), float(budget), float(t0)


def plot_curves(
    curves: Sequence[tuple[str, dict[str, Any] | None, float | None]],
    *,
    title: str,
    time_budget: float | None = None,
    fill: bool = False,
) -> bytes:
    """A PNG of learning curves overlaid: ``curves`` is (label, learning curve, ALC)."""
    # The object API, not pyplot: parallel jobs draw their reports from several threads.
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from autodl.scoring.report import seconds_ticks

    fig = Figure(figsize=(7.2, 4.2), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    budget, t0 = time_budget, 60.0
    cmap = matplotlib.colormaps["tab10"]
    for i, (label, curve, alc) in enumerate(curves):
        name = f"{label} (ALC {alc:.4f})" if alc is not None else f"{label} (no score)"
        fields = _curve_fields(curve, time_budget) if curve and alc is not None else None
        if fields is None:  # failed or missing: named in the legend, nothing to draw
            ax.plot([], [], color=cmap(i % 10), ls="--", label=name)
            continue
        timestamps, scores, budget, t0 = fields
        xs, ys = step_points(timestamps, scores, budget, t0)
        ax.plot(xs, ys, color=cmap(i % 10), lw=2, label=name, drawstyle="default")
        if fill:
            ax.fill_between(xs, ys, color=cmap(i % 10), alpha=0.25, lw=0)
        if len(xs) > 2:
            ax.plot(xs[2:-1:2], ys[2:-1:2], "o", color=cmap(i % 10), ms=4)
    ax.set_xlim(0, 1)
    # A little room at both ends: curves at NAUC 0 or 1 stay visible beside the frame.
    ax.set_ylim(min(0.0, ax.get_ylim()[0]) - 0.02, 1.03)
    ax.set_xlabel("log-scaled time  log(1 + t/t0) / log(1 + T/t0)")
    ax.set_ylabel("NAUC = 2 AUC - 1")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if budget:
        T = float(budget)
        secondary = ax.secondary_xaxis(
            "top",
            functions=(
                lambda x: t0 * ((1 + T / t0) ** x - 1),
                lambda s: _safe_log_scale(s, T, t0),
            ),
        )
        secondary.set_xlabel("seconds")
        ticks = [0.0, *seconds_ticks(T, t0)]
        secondary.set_xticks(ticks)
        secondary.set_xticklabels([f"{t:g}" for t in ticks])
    if curves:
        ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _safe_log_scale(s: Any, T: float, t0: float) -> Any:
    import numpy as np

    s = np.maximum(np.asarray(s, dtype=float), -t0 * 0.999)
    return np.log1p(s / t0) / math.log1p(T / t0)


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>\n<body>\n"
        f'{body}\n<p class="meta">Written by autodl on '
        f"{html.escape(time.strftime('%Y-%m-%d %H:%M:%S'))}.</p>\n</body></html>\n"
    )


def _num(x: float | None, digits: int = 4) -> str:
    return "&ndash;" if x is None else f"{x:.{digits}f}"


# --------------------------------------------------------------------------- leaderboard


def leaderboard_html(board: Leaderboard, *, title: str = "AutoDL leaderboard") -> str:
    """The leaderboard page: ranks, every run, learning curves overlaid per dataset."""
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
            shown = _num(alc) if alc is not None else esc(board.status(s, d))
            cells.append(f"<td{cls}>{shown}</td><td>{board.ranks[(s, d)]:g}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    parts.append(
        '<h2>Ranking</h2><table id="leaderboard"><thead><tr><th rowspan="2">#</th>'
        '<th rowspan="2" class="name">submission</th><th rowspan="2">average rank</th>'
        f"{head}</tr><tr>{sub_head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
    # Learning curves per dataset.
    parts.append("<h2>Learning curves</h2>")
    for d in board.datasets:
        curves = []
        budget = None
        for s in board.submissions:
            r = board.results.get((s, d))
            curve = _result_curve(r) if r is not None else None
            budget = budget or (r.time_budget if r is not None else None)
            curves.append((s, curve, board.alc(s, d)))
        png = plot_curves(curves, title=f"{d}", time_budget=budget)
        parts.append(
            f"<figure>{_img(png, f'learning curves on {d}')}"
            f"<figcaption>{esc(d)}: NAUC of each prediction against log-scaled time"
            f"{f' (budget {budget:g} s)' if budget else ''}</figcaption></figure>"
        )
    parts.append(runs_table([r for r in board.results.values()], table_id="runs"))
    return _page(title, "\n".join(parts))


def _result_curve(result: RunResult) -> dict[str, Any] | None:
    if result.score_dir is not None:
        curve = read_curve(result.score_dir)
        if curve:
            return curve
    score_dir = result.extra.get("score_dir")
    return read_curve(score_dir) if score_dir else None


def runs_table(results: Sequence[RunResult], *, table_id: str = "runs") -> str:
    esc = html.escape
    rows = []
    for r in sorted(results, key=lambda r: (r.dataset, r.submission)):
        cls = ' class="failed"' if r.failed else ""
        rows.append(
            f'<tr{cls}><td class="name">{esc(r.submission)}</td>'
            f'<td class="name">{esc(r.dataset)}</td><td class="name">{esc(r.status)}</td>'
            f"<td>{_num(r.alc)}</td><td>{_num(r.final_nauc)}</td><td>{_num(r.accuracy)}</td>"
            f"<td>{_num(r.duration, 1)}</td><td>{r.num_predictions}</td>"
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
    path = Path(path)
    atomic_write(path, leaderboard_html(board, title=title))
    return path


# --------------------------------------------------------------------------- one run


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def run_report_html(result: RunResult) -> str:
    """The page of one run: its numbers, its learning curve, the end of its logs."""
    esc = html.escape
    run_dir = Path(result.run_dir) if result.run_dir else None
    title = f"{result.submission} on {result.dataset}"
    rows = [
        ("submission", esc(result.submission)),
        ("dataset", esc(result.dataset)),
        ("status", esc(result.status)),
        ("ALC", _num(result.alc)),
        ("final NAUC", _num(result.final_nauc)),
        ("accuracy", _num(result.accuracy)),
        ("predictions", str(result.num_predictions)),
        ("last prediction at (s)", _num(result.duration, 1)),
        ("time budget (s)", _num(result.time_budget, 0)),
        ("wall time (s)", _num(result.wall_time, 1)),
        ("device", esc(result.device or "")),
        ("error", esc(result.error or "")),
    ]
    table = "".join(f'<tr><th class="name">{k}</th><td class="name">{v}</td></tr>' for k, v in rows)
    parts = [f"<h1>{esc(title)}</h1>", f'<table id="summary">{table}</table>']
    # Scoring already drew this run's curve: embed its picture rather than draw it again.
    drawn = sorted((run_dir / "scores").glob("learning-curve-*.png")) if run_dir else []
    if drawn:
        png = drawn[0].read_bytes()
    else:
        png = plot_curves(
            [(result.submission, _result_curve(result), result.alc if result.scored else None)],
            title=f"{result.submission} on {result.dataset}",
            time_budget=result.time_budget,
            fill=True,
        )
    parts.append(f"<h2>Learning curve</h2><figure>{_img(png, 'learning curve')}</figure>")
    if run_dir is not None:
        detailed = run_dir / "scores" / "detailed_results.html"
        if detailed.is_file():
            parts.append(
                '<p>Scoring\'s own page, per prediction: <a href="scores/detailed_results.html">'
                "scores/detailed_results.html</a></p>"
            )
        for name in ("ingestion", "scoring"):
            text = _tail(run_dir / "logs" / f"{name}.log")
            if text:
                parts.append(f"<h2>{name} log (end)</h2><pre>{esc(text)}</pre>")
    return _page(f"autodl run: {title}", "\n".join(parts))


def write_run_report(result: RunResult, path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    atomic_write(path, run_report_html(result))
    return path
