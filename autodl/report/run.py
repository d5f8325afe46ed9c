"""A run's ``report.html`` (what ``autodl run`` points to): its numbers, its learning
curve and the end of its logs.

>>> from autodl.protocol import RunResult
>>> "<h1>zero on digits</h1>" in run_report_html(RunResult("zero", "digits", "crashed"))
True
"""

from __future__ import annotations

import html
import os
from pathlib import Path

from autodl.protocol import DETAILED_RESULTS_HTML, RunFolder, RunResult, atomic_write
from autodl.protocol import learning_curve_png as _png_name
from autodl.report.page import img, num, page

__all__ = ["run_report_html", "write_run_report"]


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def run_report_html(result: RunResult) -> str:
    """The page of one run: its numbers, its learning curve, the end of its logs."""
    from autodl.report.curves import render_learning_curve, run_curve

    esc = html.escape
    folder = RunFolder(result.run_dir) if result.run_dir else None
    title = f"{result.submission} on {result.dataset}"
    rows = [
        ("submission", esc(result.submission)),
        ("dataset", esc(result.dataset)),
        ("status", esc(result.status)),
        ("ALC", num(result.alc)),
        ("final NAUC", num(result.final_nauc)),
        ("accuracy", num(result.accuracy)),
        ("predictions", str(result.num_predictions)),
        ("last prediction at (s)", num(result.duration, 1)),
        ("time budget (s)", num(result.time_budget, 0)),
        ("wall time (s)", num(result.wall_time, 1)),
        ("device", esc(result.device or "")),
        ("error", esc(result.error or "")),
    ]
    table = "".join(f'<tr><th class="name">{k}</th><td class="name">{v}</td></tr>' for k, v in rows)
    parts = [f"<h1>{esc(title)}</h1>", f'<table id="summary">{table}</table>']
    # Scoring already drew this run's curve: embed its picture rather than draw it again.
    drawn = sorted(folder.scores.glob(_png_name("*"))) if folder else []
    if drawn:
        png = drawn[0].read_bytes()
    else:
        png = render_learning_curve(
            run_curve(result), [result.submission], title=title, time_budget=result.time_budget
        )
    parts.append(f"<h2>Learning curve</h2><figure>{img(png, 'learning curve')}</figure>")
    if folder is not None:
        detailed = folder.scores / DETAILED_RESULTS_HTML
        if detailed.is_file():
            link = esc(detailed.relative_to(folder.root).as_posix())
            parts.append(f'<p>Scoring\'s own page, per prediction: <a href="{link}">{link}</a></p>')
        for name, log in (("ingestion", folder.ingestion_log), ("scoring", folder.scoring_log)):
            text = _tail(log)
            if text:
                parts.append(f"<h2>{name} log (end)</h2><pre>{esc(text)}</pre>")
    return page(f"autodl run: {title}", "\n".join(parts))


def write_run_report(result: RunResult, path: str | os.PathLike[str]) -> Path:
    """Write the run's page to ``path`` (atomically)."""
    path = Path(path)
    atomic_write(path, run_report_html(result))
    return path
