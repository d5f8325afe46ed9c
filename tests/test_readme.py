"""The README's claims, checked through the real CLI: its model example runs on every
built-in dataset, and its main job uses the default dataset it names."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from autodl.data import find_task, load, samples
from autodl.protocol import read_matrix

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    parts = re.split(r"^## ", text, flags=re.M)
    for part in parts:
        if part.startswith(title + "\n"):
            return part
    raise AssertionError(f"README.md has no section '## {title}'")


def _blocks(section: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.S)


@pytest.fixture(scope="module")
def readme_model(tmp_path_factory) -> Path:
    """The first Python block of 'Writing a submission', as a submission folder."""
    code = _blocks(_section("Writing a submission"), "python")
    assert code, "no python block in 'Writing a submission'"
    folder = tmp_path_factory.mktemp("readme") / "readme_model"
    folder.mkdir()
    (folder / "model.py").write_text(code[0], encoding="utf-8")
    return folder


@pytest.mark.parametrize("name", samples.names())
def test_readme_model_runs_on_every_builtin_dataset(name, readme_model, tmp_path, cli):
    out = tmp_path / "runs"
    proc = cli(
        "run",
        "--dataset",
        name,
        "--code",
        readme_model,
        "--time-budget",
        "20",
        "-o",
        out,
        "--quiet",
    )
    run_dir = out / "readme_model" / name
    result = json.loads((run_dir / "result.json").read_text())
    assert proc.returncode == 0 and result["status"] == "ok", (proc.stdout, proc.stderr)
    assert result["num_predictions"] >= 1
    # The model predicts the training label frequencies for every test example: check the
    # prediction file against those frequencies computed here, from the same task.
    task_dir = samples.resolve(name)
    _, train_labels = zip(*load(task_dir, split="train"), strict=True)
    prior = np.mean(train_labels, axis=0)
    predictions = sorted(
        (run_dir / "predictions").glob(f"{name}.predict_*"),
        key=lambda f: int(f.name.rsplit("_", 1)[1]),
    )
    assert predictions, f"no prediction file in {run_dir / 'predictions'}"
    predicted = read_matrix(predictions[-1])
    solution = read_matrix(find_task(task_dir).solution_path)
    assert predicted.shape == solution.shape
    np.testing.assert_allclose(predicted, np.tile(prior, (len(solution), 1)), rtol=1e-5)
    # every row the same score: ROC AUC 0.5 per class, so NAUC 0
    assert result["final_nauc"] == pytest.approx(0.0, abs=1e-9)


def test_main_job_is_the_readme_command_on_the_default_dataset(cli):
    setup = _section("Set up")
    commands = _blocks(setup, "bash")
    assert commands and commands[0].strip().endswith(".venv/bin/autodl run"), commands
    proc = cli("run", "--help", check=True)
    default = re.search(r"built-in dataset name \(default: (\w+)\)", " ".join(proc.stdout.split()))
    assert default, proc.stdout
    name = default.group(1)
    assert name in samples.names()
    # the README and the dataset cards name the same default
    assert f"built-in `{name}` dataset" in setup
    assert "default" in (REPO / "datasets" / f"{name}.md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_main_job_learning_curve_rises(tmp_path, cli):
    """The default run (baseline, default dataset) keeps predicting and improving: a
    curve that is not flat at the first prediction, as on a saturated dataset. A 30 s
    budget rather than the default 60 s, so the rise is smaller than the README's."""
    out = tmp_path / "runs"
    proc = cli("run", "--time-budget", "30", "-o", out, "--quiet", timeout=300)
    runs = list(out.glob("autodl_baseline/*/scores/learning_curve.json"))
    assert proc.returncode == 0 and len(runs) == 1, (proc.stdout, proc.stderr)
    assert runs[0].parent.parent.name == "cluttered_digits"
    curve = json.loads(runs[0].read_text())
    times, nauc = curve["timestamps"], curve["nauc"]
    assert len(times) >= 5, curve
    assert times[0] < 5 and times[-1] > 15, times  # spread over the budget
    assert nauc[0] < 0.5 and nauc[-1] > nauc[0] + 0.15, nauc
    assert max(nauc) < 0.95, nauc
