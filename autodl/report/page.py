"""The frame of the challenge's HTML pages: one stylesheet, embedded pictures, numbers.

>>> num(0.123456), num(None), num(12.34, 1)
('0.1235', '&ndash;', '12.3')
>>> page("t", "<p>hi</p>").startswith("<!DOCTYPE html>")
True
"""

from __future__ import annotations

import base64
import html
import time

__all__ = ["CSS", "img", "num", "page"]

CSS = """
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


def img(png: bytes, alt: str) -> str:
    """An ``<img>`` holding ``png`` itself (base64), so the page needs no other file."""
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def page(title: str, body: str) -> str:
    """A whole page around ``body`` (HTML), signed with the time it was written."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head>\n<body>\n"
        f'{body}\n<p class="meta">Written by autodl on '
        f"{html.escape(time.strftime('%Y-%m-%d %H:%M:%S'))}.</p>\n</body></html>\n"
    )


def num(x: float | None, digits: int = 4) -> str:
    """A number cell: ``digits`` decimals, a dash for none."""
    return "&ndash;" if x is None else f"{x:.{digits}f}"
