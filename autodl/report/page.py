"""The frame of every HTML page: Jinja2 templates (``report/templates``) with autoescaping,
one base template and stylesheet, one set of words, pictures embedded as data URIs.

Every value a page shows goes through the template's autoescaping, so a submission's
name, an error message or a traceback is shown as text, never run as markup.

>>> num(0.123456), num(None), num(12.34, 1)
('0.1235', '–', '12.3')
>>> html = render_page("run.html", title="<b>x</b>", rows=[("status", "<i>ok</i>")],
...                    curve_png=b"", logs=[], traceback=None, detailed_link=None)
>>> "<title>&lt;b&gt;x&lt;/b&gt;</title>" in html, "&lt;i&gt;ok&lt;/i&gt;" in html
(True, True)
"""

from __future__ import annotations

import base64
import time
from types import MappingProxyType
from typing import Any

__all__ = ["WORDS", "data_uri", "num", "render_page"]

# The same thing is called the same on every page.
WORDS = MappingProxyType(
    {
        "submission": "submission",
        "dataset": "dataset",
        "status": "status",
        "alc": "ALC",
        "final_nauc": "final NAUC",
        "accuracy": "final accuracy",
        "predictions": "predictions",
        "duration": "last prediction at (s)",
        "time_budget": "time budget (s)",
        "wall_time": "wall time (s)",
        "device": "device",
        "error": "error",
        "curve": "Learning curve",
        "curves": "Learning curves",
        "traceback": "Traceback of the submission",
        "predictions_heading": "Predictions",
        "messages": "Messages",
    }
)


def num(x: float | None, digits: int = 4) -> str:
    """A number cell: ``digits`` decimals, a dash for none."""
    return "–" if x is None else f"{x:.{digits}f}"


def data_uri(png: bytes) -> str:
    """``png`` itself as a ``data:`` URI, so the page needs no other file."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def render_page(template: str, **context: Any) -> str:
    """Render ``template`` (a file of ``report/templates``) with ``context``.

    The environment is made per call (pages are written a few times per run): no state
    is kept between pages. Undefined names are errors, not blanks.
    """
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("autodl.report", "templates"),
        autoescape=True,  # every template here is HTML
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["num"] = num
    env.filters["data_uri"] = data_uri
    context.setdefault("refresh", None)
    context.setdefault("heading", None)
    context.setdefault("words", WORDS)
    context.setdefault("written", time.strftime("%Y-%m-%d %H:%M:%S"))
    return env.get_template(template).render(**context)
