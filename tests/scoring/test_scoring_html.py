"""detailed_results.html in a real (headless Chromium) browser: the embedded curve shows."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from autodl.scoring import score_folder

CHROMIUM = next(
    (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None
)


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="needs headless Chromium")
def test_detailed_results_page_renders_the_learning_curve(folders, multiclass, tmp_path):
    sol, preds = multiclass
    folders.solution(sol)
    st = folders.start(budget=600)
    for k, p in enumerate(preds):
        folders.predict(k, p, 20.0 * (k + 1), st)
    folders.end()
    score_folder(folders.ref, folders.res, folders.out, bootstrap=False)
    shot = tmp_path / "page.png"
    proc = subprocess.run(
        [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}", "--window-size=900,1300",
            f"--screenshot={shot}", (folders.out / "detailed_results.html").as_uri(),
        ],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert shot.exists(), proc.stderr
    pixels = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    # The filled area under the curve is cyan at alpha 0.5 over white: (127, 255, 255).
    cyan = (abs(pixels[..., 0] - 127) < 10) & (pixels[..., 1] > 245) & (pixels[..., 2] > 245)
    assert cyan.sum() > 20_000, cyan.sum()
