"""The challenge's HTML pages in a real browser (headless Chromium): a screenshot that
shows the learning curve, and the DOM: the curve image, the tables, the submission's
traceback, and hostile names and messages shown as text, never run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from browser_helpers import assert_offline, image_stats, render
from challenge_helpers import blobs, submission

from autodl.challenge.leaderboard import build_leaderboard, write_leaderboard
from autodl.challenge.results import find_results
from autodl.report.run import write_run_report

pytestmark = pytest.mark.browser

# A submission name that is markup: the page must show it, not run it.
EVIL = "evil<img src=x onerror=window.pwned=1>"


def test_leaderboard_page_renders_tables_and_curves(tmp_path, make_run):
    make_run(tmp_path, "good", "d1", timestamps=[1, 4, 9], nauc=[0.3, 0.6, 0.8], alc=0.41)
    make_run(tmp_path, EVIL, "d1", timestamps=[2, 6], nauc=[0.1, 0.2], alc=0.12)
    make_run(tmp_path, "broken", "d1", timestamps=[], nauc=[], alc=None, status="crashed")
    make_run(tmp_path, "good", "d2", timestamps=[3], nauc=[0.5], alc=0.3)
    make_run(tmp_path, EVIL, "d2", timestamps=[1, 2], nauc=[0.4, 0.7], alc=0.5)
    board = build_leaderboard(find_results([tmp_path]))
    write_leaderboard(board, tmp_path / "out")
    page = tmp_path / "out" / "leaderboard.html"
    assert_offline(page)

    probe, dom, shot = render(page, tmp_path)
    assert len(probe["images"]) == 2  # one figure per dataset
    for img in probe["images"]:
        assert img["complete"] and img["width"] > 300 and img["height"] > 200, img
        assert img["alt"].startswith("Learning curves on d")
    # 2 header rows + 3 submissions; 1 header row + 5 runs (broken on d2 is missing).
    assert dict(probe["tables"]) == {"leaderboard": 5, "runs": 6}
    assert probe["pwned"] is None and probe["scripts"] == 1  # only the probe ran
    assert "evil&lt;img src=x onerror=window.pwned=1&gt;" in dom  # shown as text
    stats = image_stats(shot)
    assert stats["non_white"] > 0.03 and stats["colours"] > 20 and stats["line"] > 200, stats


def test_run_report_renders_summary_and_curve(tmp_path, make_run):
    make_run(tmp_path, "sub", "digits", timestamps=[1, 3, 7], nauc=[0.5, 0.8, 1.0], alc=0.62)
    run_dir = tmp_path / "runs" / "sub" / "digits"
    (run_dir / "logs").mkdir()
    (run_dir / "logs" / "ingestion.log").write_text("round 1\nround 2 <done>\n")
    (result,) = find_results([tmp_path])
    page = write_run_report(result, run_dir / "report.html")
    assert_offline(page)
    assert "round 2 &lt;done&gt;" in page.read_text()  # logs are escaped

    probe, dom, shot = render(page, tmp_path)
    (img,) = probe["images"]
    assert img["complete"] and img["width"] > 300 and img["alt"] == "Learning curve"
    assert dict(probe["tables"]) == {"summary": 12}  # one row per field
    assert probe["traceback"] is None  # a good run has none
    stats = image_stats(shot)
    # The line at NAUC 1 and the light area under it both show.
    assert stats["line"] > 500 and stats["fill"] > 20_000, stats


FAILING = """
class Model:
    def __init__(self, metadata):
        self.done_training = False

    def fit(self, dataset, remaining_time_budget=None):
        check_the_data(dataset)

    def predict(self, dataset, remaining_time_budget=None):
        return None


def check_the_data(dataset):
    raise ValueError("<script>window.pwned = 3</script> my bug")
"""


@pytest.mark.slow
def test_failed_run_report_shows_the_submissions_traceback_escaped(tmp_path, cli):
    task = blobs(tmp_path / "data", "blobs", classes=3, features=4, seed=7)
    code = submission(tmp_path / "subs", "bad<img src=x onerror=window.pwned=2>", FAILING)
    out = tmp_path / "runs"
    proc = cli("run", "--dataset", task, "--code", code, "--time-budget", "10", "-o", out)
    assert proc.returncode != 0, proc.stderr  # the run failed, and says so
    run_dir = out / code.name / "blobs"
    record = json.loads((run_dir / "predictions" / "ingestion.json").read_text())
    assert record["status"] == "error" and record["traceback"], record
    page = run_dir / "report.html"
    assert_offline(page)

    probe, dom, shot = render(page, tmp_path)
    assert probe["pwned"] is None and probe["scripts"] == 1, probe  # nothing of theirs ran
    assert probe["h1"] == f"{code.name} on blobs"
    tb = probe["traceback"]
    assert tb.startswith("Traceback (most recent call last):"), tb
    assert 'File "model.py", line 7, in fit' in tb and "check_the_data" in tb, tb
    assert tb.rstrip().endswith("ValueError: <script>window.pwned = 3</script> my bug"), tb
    assert "&lt;script&gt;window.pwned = 3&lt;/script&gt;" in dom
    assert dict(probe["tables"]) == {"summary": 12}
    (img,) = probe["images"]
    assert img["complete"] and img["width"] > 300
    stats = image_stats(shot)
    assert stats["non_white"] > 0.03 and stats["colours"] > 20, stats


def test_pages_come_from_packaged_templates():
    """The templates travel with the package (package data), and every page extends the
    one base template."""
    import importlib.resources

    templates = importlib.resources.files("autodl.report") / "templates"
    names = {p.name for p in templates.iterdir()}
    assert {"base.html", "run.html", "leaderboard.html", "detailed_results.html"} <= names
    for name in ("run.html", "leaderboard.html", "detailed_results.html"):
        assert (templates / name).read_text().startswith('{% extends "base.html" %}')
    tomllib = pytest.importorskip("tomllib")
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    data = tomllib.loads(pyproject.read_text())
    assert "templates/*.html" in data["tool"]["setuptools"]["package-data"]["autodl.report"]
    deps = data["project"]["dependencies"]
    assert "jinja2>=3.1" in deps and "rich>=13" in deps
