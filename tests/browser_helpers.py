"""Headless Chromium for the HTML tests: a screenshot, and what the page's DOM held once
loaded (a probe script added to a copy of the page reports it into the DOM that
``--dump-dom`` prints)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

# Reports, once the page has loaded: its images, its tables' row counts, the traceback's
# text, and whether any script of the page's own content ran (window.pwned).
_PROBE = """<script>
window.addEventListener('load', function () {
  var out = document.createElement('pre');
  out.id = 'probe';
  var tb = document.getElementById('traceback');
  out.textContent = JSON.stringify({
    images: Array.prototype.map.call(document.images, function (i) {
      return {complete: i.complete, width: i.naturalWidth, height: i.naturalHeight,
              alt: i.alt}; }),
    tables: Array.prototype.map.call(document.querySelectorAll('table'), function (t) {
      return [t.id, t.querySelectorAll('tr').length]; }),
    traceback: tb ? tb.textContent : null,
    title: document.title,
    h1: (document.querySelector('h1') || {}).textContent || null,
    scripts: document.scripts.length,
    pwned: window.pwned === undefined ? null : window.pwned
  });
  document.body.appendChild(out);
});
</script>"""

# The first colour of the curves (tab10 blue) and its light tint under a single curve.
LINE_BLUE = (31, 119, 180)


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI"):
        pytest.fail("headless Chromium is required in CI (apt-get install chromium)")
    pytest.skip("chromium not installed")


def _browser(page: Path, tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp / 'profile'}",
        "--virtual-time-budget=5000",
        *extra,
        page.resolve().as_uri(),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def render(page: Path, tmp: Path, size: str = "1200,1600") -> tuple[dict, str, Path]:
    """(the probe's report, the dumped DOM, a screenshot) of ``page`` in Chromium."""
    probed = page.with_name(f"probed-{page.name}")  # beside it: relative links still work
    probed.write_text(page.read_text().replace("</body>", _PROBE + "</body>"))
    shot = tmp / f"{page.stem}.png"
    proc = _browser(probed, tmp, "--dump-dom", f"--screenshot={shot}", f"--window-size={size}")
    assert shot.is_file(), f"chromium wrote no screenshot: {proc.stderr[-2000:]}"
    dom = proc.stdout
    m = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert m, f"the page's load event never ran:\n{dom[:2000]}"
    import html

    return json.loads(html.unescape(m.group(1))), dom, shot


def image_stats(png: Path) -> dict[str, float]:
    """Non-white fraction, distinct colours, and pixels of the curve's line and tint."""
    pixels = np.asarray(Image.open(png).convert("RGB")).reshape(-1, 3).astype(int)
    line = np.abs(pixels - LINE_BLUE).sum(axis=1) < 30
    tint = np.asarray([255, 255, 255]) - 0.16 * (255 - np.asarray(LINE_BLUE))
    fill = np.abs(pixels - tint).sum(axis=1) < 12
    return {
        "non_white": float((pixels.min(axis=1) < 240).mean()),
        "colours": len(np.unique(pixels[::7], axis=0)),
        "line": int(line.sum()),
        "fill": int(fill.sum()),
    }


def assert_offline(page: Path) -> None:
    text = page.read_text()
    assert not re.search(r'(src|href)="(https?:)?//', text), "the page loads something online"
    assert "<script" not in text.lower(), "a page of ours holds a script"
