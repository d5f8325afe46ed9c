"""Each baseline through the real ingestion (``autodl ingest`` subprocess) and scoring.

The built-in datasets are written once per session into a temporary folder; every run
gets a small time budget so the whole file stays quick on a 2-core machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from autodl.protocol import read_scores, read_start

REPO = Path(__file__).resolve().parents[2]
BASELINES = REPO / "baselines"


class _Builtins:
    """Built-in task folders, each written on first use into one session folder."""

    def __init__(self, root: Path):
        self.root = root
        self.built: dict[str, Path] = {}

    def __getitem__(self, name: str) -> Path:
        from autodl.data import samples

        if name not in self.built:
            self.built[name] = samples.make(name, self.root)
        return self.built[name]


@pytest.fixture(scope="session")
def tasks(tmp_path_factory) -> _Builtins:
    return _Builtins(tmp_path_factory.mktemp("builtin"))


def ingest_and_score(cli, task: Path, baseline: str, tmp_path: Path, budget: float):
    """Run ``autodl ingest`` then ``autodl score``; return (ingestion.json, scores)."""
    out, score = tmp_path / f"{baseline}-out", tmp_path / f"{baseline}-score"
    code = BASELINES / baseline
    cli("ingest", "--dataset_dir", task, "--output_dir", out, "--code_dir", code,
        "--time_budget", budget, "--no-progress", check=True)  # fmt: skip
    ingestion = json.loads((out / "ingestion.json").read_text())
    cli("score", "--solution_dir", task, "--prediction_dir", out, "--score_dir", score,
        "--time_budget", budget, "--no_bootstrap", "--quiet", check=True)  # fmt: skip
    return ingestion, read_scores(score), out


def test_all_zero_scores_nothing(cli, tasks, tmp_path):
    ingestion, scores, _ = ingest_and_score(cli, tasks["digits"], "all_zero", tmp_path, 10)
    assert ingestion["status"] == "ok", ingestion
    assert ingestion["api"] == "native"
    assert scores["num_predictions"] == 1
    assert _last(scores["nauc"]) == 0.0
    assert scores["alc"] == 0.0


def test_linear_learns_digits(cli, tasks, tmp_path):
    ingestion, scores, _ = ingest_and_score(cli, tasks["digits"], "linear", tmp_path, 15)
    assert ingestion["status"] == "ok", ingestion
    assert scores["num_predictions"] == 1
    assert _last(scores["nauc"]) > 0.95
    assert scores["alc"] > 0.5


@pytest.mark.slow
def test_autodl_baseline_is_anytime_on_digits(cli, tasks, tmp_path):
    budget = 15
    ingestion, scores, out = ingest_and_score(
        cli, tasks["digits"], "autodl_baseline", tmp_path, budget
    )
    # "ok", not "timeout": the model ended its loop itself within the budget.
    assert ingestion["status"] == "ok", ingestion
    assert ingestion["api"] == "native"
    assert scores["num_predictions"] >= 2  # a quick first prediction, then better ones
    stamps = sorted(read_start(out).timestamps.values())
    assert stamps[-1] - read_start(out).start_time <= budget
    assert _last(scores["nauc"]) > 0.97
    assert scores["alc"] > 0.5  # all_zero scores 0


@pytest.mark.slow
@pytest.mark.parametrize("name", ["wine", "shapes", "tones", "reviews"])
def test_autodl_baseline_every_domain(cli, tasks, tmp_path, name):
    ingestion, scores, _ = ingest_and_score(cli, tasks[name], "autodl_baseline", tmp_path, 10)
    assert ingestion["status"] == "ok", ingestion
    assert scores["num_predictions"] >= 1
    assert _last(scores["nauc"]) > 0.5, scores


@pytest.mark.slow
@pytest.mark.tf
def test_tf_example_runs_the_autodl_api(cli, tasks, tmp_path):
    pytest.importorskip("tensorflow")
    ingestion, scores, _ = ingest_and_score(cli, tasks["digits"], "tf_example", tmp_path, 30)
    assert ingestion["status"] == "ok", ingestion
    assert ingestion["api"] == "autodl"
    assert scores["num_predictions"] >= 2
    assert _last(scores["nauc"]) > 0.9


def test_autodl_baseline_survives_a_failing_dataset(tasks, tmp_path):
    """An error inside fit ends training; predict still returns a well-formed matrix."""
    script = textwrap.dedent(f"""
        import numpy as np
        from autodl.data import load
        from model import Model

        train = load({str(tasks["digits"])!r}, split="train")
        test = load({str(tasks["digits"])!r}, split="test")

        class Broken:
            metadata = train.metadata
            def __len__(self):
                return len(train)
            def __getitem__(self, i):
                if i % 7 == 3:
                    raise OSError("disk gone")
                return train[i]

        # Reading fails in the first round: no good prediction yet, a constant one instead.
        broken = Model(train.metadata)
        broken.fit(Broken(), remaining_time_budget=30)
        assert broken.done_training
        constant = broken.predict(test, remaining_time_budget=30)
        assert constant.shape == (len(test), train.metadata.get_output_size())

        # The model's own state breaks after a good round: the good prediction comes back.
        model = Model(train.metadata)
        model.fit(train, remaining_time_budget=30)
        good = model.predict(test, remaining_time_budget=30)
        model.engine.train_items = None
        model.fit(train, remaining_time_budget=30)
        again = model.predict(test, remaining_time_budget=30)
        assert model.done_training
        assert np.array_equal(again, good)
        print("OK")
    """)
    env = dict(os.environ, PYTHONPATH=str(BASELINES / "autodl_baseline"))
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0 and "OK" in proc.stdout, proc.stderr
    assert "fit failed" in proc.stderr


def _last(values):
    return values[-1] if isinstance(values, list) else values
