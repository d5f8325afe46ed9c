"""The HTML pages render offline in a real browser (headless Chromium): tables and images."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from autodl.challenge.leaderboard import build_leaderboard, write_leaderboard
from autodl.challenge.results import find_results
from autodl.report.run import write_run_report

pytestmark = pytest.mark.browser

# Reports what the browser made of the page into the DOM, for --dump-dom to show.
_PROBE = """<script>
window.addEventListener('load', function () {
  var out = document.createElement('pre');
  out.id = 'probe';
  var imgs = Array.prototype.map.call(document.images, function (i) {
    return i.complete + ':' + i.naturalWidth + 'x' + i.naturalHeight; });
  var rows = Array.prototype.map.call(document.querySelectorAll('table'), function (t) {
    return t.id + '=' + t.querySelectorAll('tbody tr, tr').length; });
  out.textContent = 'IMGS ' + imgs.join(' ') + '\\nTABLES ' + rows.join(' ');
  document.body.appendChild(out);
});
</script>"""


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI"):
        pytest.fail("headless Chromium is required in CI (apt-get install chromium)")
    pytest.skip("chromium not installed")


def _browser(page: Path, tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
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


def _render(page: Path, tmp: Path) -> tuple[str, Path]:
    """(the probe's report from the live DOM, a screenshot of the page)."""
    probed = page.with_name(f"probed-{page.name}")  # beside it: relative links still work
    probed.write_text(page.read_text().replace("</body>", _PROBE + "</body>"))
    shot = tmp / f"{page.stem}.png"
    dom = _browser(probed, tmp, "--dump-dom", f"--screenshot={shot}", "--window-size=1200,1600")
    assert shot.is_file(), f"chromium wrote no screenshot: {dom.stderr[-2000:]}"
    dom = dom.stdout
    m = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert m, f"the page's load event never ran:\n{dom[:2000]}"
    return m.group(1), shot


def _image_stats(png: Path) -> tuple[float, int, int]:
    """(fraction of non-white pixels, distinct colours, pixels of the first curve's blue)."""
    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(png).convert("RGB")).reshape(-1, 3).astype(int)
    non_white = float((pixels.min(axis=1) < 240).mean())
    # matplotlib's first colour (tab10 blue, #1f77b4): only a drawn curve has it.
    blue = int((np.abs(pixels - [31, 119, 180]).sum(axis=1) < 30).sum())
    return non_white, len(np.unique(pixels[::7], axis=0)), blue


def _assert_offline(page: Path) -> None:
    text = page.read_text()
    assert not re.search(r'(src|href)="(https?:)?//', text), "the page loads something online"


def test_leaderboard_page_renders_tables_and_curves(tmp_path, make_run):
    make_run(tmp_path, "good", "d1", timestamps=[1, 4, 9], nauc=[0.3, 0.6, 0.8], alc=0.41)
    make_run(tmp_path, "meh", "d1", timestamps=[2, 6], nauc=[0.1, 0.2], alc=0.12)
    make_run(tmp_path, "broken", "d1", timestamps=[], nauc=[], alc=None, status="crashed")
    make_run(tmp_path, "good", "d2", timestamps=[3], nauc=[0.5], alc=0.3)
    make_run(tmp_path, "meh", "d2", timestamps=[1, 2], nauc=[0.4, 0.7], alc=0.5)
    board = build_leaderboard(find_results([tmp_path]))
    write_leaderboard(board, tmp_path / "out")
    page = tmp_path / "out" / "leaderboard.html"
    _assert_offline(page)

    probe, shot = _render(page, tmp_path)
    imgs = re.search(r"IMGS (.*)", probe).group(1).split()
    assert len(imgs) == 2  # one figure per dataset
    for img in imgs:
        complete, size = img.split(":")
        w, h = map(int, size.split("x"))
        assert complete == "true" and w > 100 and h > 100, img
    tables = dict(t.split("=") for t in re.search(r"TABLES (.*)", probe).group(1).split())
    # 2 header rows + 3 submissions; 1 header row + 5 runs (broken on d2 is missing).
    assert tables == {"leaderboard": "5", "runs": "6"}
    non_white, colours, blue = _image_stats(shot)
    assert non_white > 0.03 and colours > 20 and blue > 200, (non_white, colours, blue)


def test_run_report_renders_summary_and_curve(tmp_path, make_run):
    make_run(tmp_path, "sub", "digits", timestamps=[1, 3, 7], nauc=[0.5, 0.8, 0.9], alc=0.62)
    run_dir = tmp_path / "runs" / "sub" / "digits"
    (run_dir / "logs").mkdir()
    (run_dir / "logs" / "ingestion.log").write_text("round 1\nround 2 <done>\n")
    (result,) = find_results([tmp_path])
    page = write_run_report(result, run_dir / "report.html")
    _assert_offline(page)
    assert "round 2 &lt;done&gt;" in page.read_text()  # logs are escaped

    probe, shot = _render(page, tmp_path)
    (img,) = re.search(r"IMGS (.*)", probe).group(1).split()
    assert img.startswith("true:") and int(img.split(":")[1].split("x")[0]) > 100
    assert "summary=12" in probe  # one row per field
    non_white, colours, blue = _image_stats(shot)
    assert non_white > 0.03 and colours > 20 and blue > 200, (non_white, colours, blue)
