"""detailed_results.html in a real (headless Chromium) browser: the embedded curve shows,
the tables are there, and a hostile task name is shown as text, never run."""

from __future__ import annotations

import pytest
from browser_helpers import assert_offline, image_stats, render

from autodl.report.curves import read_curve, render_learning_curve
from autodl.scoring import score_folder

pytestmark = pytest.mark.browser

EVIL = "toy<img src=x onerror=pwned=1>"  # no dot: task names end at one


def test_detailed_results_page_renders_the_learning_curve(folders, multiclass, tmp_path):
    (tmp_path / "evil").mkdir()
    # The same helper for a task whose name (from its file names) is markup.
    folders = type(folders)(tmp_path / "evil", task=EVIL)
    sol, preds = multiclass
    folders.solution(sol)
    st = folders.start(budget=600)
    for k, p in enumerate(preds):
        folders.predict(k, p, 20.0 * (k + 1), st)
    folders.end()
    result = score_folder(folders.ref, folders.res, folders.out, bootstrap=False)
    assert result.status == "ok" and len(result.scored) == 3
    page = folders.out / "detailed_results.html"
    assert_offline(page)
    # The picture is this module's drawing of the curve scoring recorded, byte for byte.
    (png,) = folders.out.glob("learning-curve-*.png")
    assert png.read_bytes() == render_learning_curve(read_curve(folders.out))

    probe, dom, shot = render(page, tmp_path, size="900,1300")
    assert probe["pwned"] is None and probe["scripts"] == 1, probe  # only the probe ran
    assert probe["h1"] == f"Task {EVIL}" and EVIL in probe["title"]
    (img,) = probe["images"]
    assert img["complete"] and img["width"] > 300 and img["height"] > 200, img
    tables = dict(probe["tables"])
    assert tables["predictions"] == 1 + 3  # a header row and one row per prediction
    assert tables["summary"] >= 5
    assert "toy&lt;img src=x onerror=pwned=1&gt;" in dom
    stats = image_stats(shot)
    # The curve's line and the light area under it, in the browser's own rendering.
    assert stats["line"] > 500 and stats["fill"] > 10_000, stats
