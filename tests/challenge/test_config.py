"""The challenge file: everything checked before anything runs, one clear error each."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from challenge_helpers import ZEROS, blobs, submission

from autodl.challenge.config import ConfigError, load_config


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cfg")
    blobs(root / "data", "blobs_a", classes=3, features=4, seed=1)
    submission(root / "subs", "zeros", ZEROS)
    (root / "subs" / "empty").mkdir()
    with zipfile.ZipFile(root / "subs" / "zeros.zip", "w") as zf:
        zf.writestr("model.py", ZEROS)
    (root / "subs" / "notazip.zip").write_text("hello")
    return root


def _load(base: Path, text: str, name: str = "c.yaml"):
    path = base / name
    path.write_text(text)
    return load_config(path)


def test_a_full_config(base):
    cfg = _load(
        base,
        "title: T\n"
        "defaults: {time_budget: 30, construction_budget: 10, t0: 20}\n"
        "datasets:\n"
        "  a: data/blobs_a\n"
        "  b: {path: data/blobs_a, time_budget: 5}\n"
        "  c: digits\n"
        "submissions:\n"
        "  z: subs/zeros\n"
        "  zz: {path: subs/zeros.zip}\n",
    )
    assert cfg.title == "T"
    a, b, c = cfg.datasets
    assert a.path == (base / "data" / "blobs_a").resolve() and a.time_budget == 30
    assert (a.construction_budget, a.t0) == (10, 20)
    assert b.time_budget == 5 and b.construction_budget == 10
    # A built-in dataset is named, not built, while the file is checked.
    assert c.builtin == "digits" and c.path is None
    assert [s.name for s in cfg.submissions] == ["z", "zz"]
    assert cfg.submission("zz").is_zip and not cfg.submission("z").is_zip


def test_defaults_fill_the_budget(base):
    cfg = _load(base, "datasets: {a: data/blobs_a}\nsubmissions: {z: subs/zeros}\n")
    assert cfg.datasets[0].time_budget == 60 and cfg.datasets[0].t0 == 60


@pytest.mark.parametrize(
    "text, message",
    [
        ("datasets: {a: data/blobs_a}\n", "submissions: missing"),
        ("datasets: {}\nsubmissions: {z: subs/zeros}\n", "datasets: empty"),
        ("- a\n- b\n", "expected a mapping"),
        (
            "datasets: [data/blobs_a]\nsubmissions: {z: subs/zeros}\n",
            "datasets: expected a mapping",
        ),
        ("datasets: {a: data/blobs_a}\nsubmissions: {z: subs/empty}\n", "submissions.z: "),
        (
            "datasets: {a: data/blobs_a}\nsubmissions: {z: subs/notazip.zip}\n",
            "neither a folder nor a zip",
        ),
        ("datasets: {a: data/nothing}\nsubmissions: {z: subs/zeros}\n", "not found"),
        ("datasets: {a: subs}\nsubmissions: {z: subs/zeros}\n", "not a task folder"),
        (
            "datasets: {a: {path: data/blobs_a, time_budget: -3}}\nsubmissions: {z: subs/zeros}\n",
            "datasets.a.time_budget: must be a positive",
        ),
        (
            "datasets: {a: {path: data/blobs_a, time_budget: soon}}\n"
            "submissions: {z: subs/zeros}\n",
            "datasets.a.time_budget: expected a number",
        ),
        (
            "defaults: {budget: 3}\ndatasets: {a: data/blobs_a}\nsubmissions: {z: subs/zeros}\n",
            "defaults.budget: unknown key",
        ),
        (
            "datasets: {a: data/blobs_a}\nsubmissions: {z: {path: subs/zeros, image: x}}\n",
            "submissions.z.image: unknown key",
        ),
        ("datasets: {a/b: data/blobs_a}\nsubmissions: {z: subs/zeros}\n", "datasets.a/b"),
        (
            "datasets: {a: data/blobs_a}\ndatasets: {b: data/blobs_a}\n"
            "submissions: {z: subs/zeros}\n",
            "line 2: duplicate name 'datasets'",
        ),
        ("datasets: {a: data/blobs_a\n", "not valid YAML"),
    ],
)
def test_bad_configs(base, text, message):
    with pytest.raises(ConfigError) as e:
        _load(base, text)
    assert message in str(e.value)
    assert str(e.value).startswith(str(base / "c.yaml"))


def test_missing_file():
    with pytest.raises(ConfigError, match="challenge file not found"):
        load_config("/no/such/challenge.yaml")
