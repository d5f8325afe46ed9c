"""`autodl inspect`: summaries and pictures of real tasks."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from autodl.data import samples
from autodl.data.inspect import inspect_task, plot


@pytest.fixture(scope="module")
def tasks(tmp_path_factory):
    out = tmp_path_factory.mktemp("tasks")
    return {name: samples.make(name, out) for name in samples.names()}


def _picture_ok(path) -> None:
    with Image.open(path) as img:
        assert img.format == "PNG"
        arr = np.asarray(img.convert("L"))
    assert img.width > 300 and img.height > 300
    assert arr.std() > 5, "a blank picture"


@pytest.mark.parametrize("name", ["digits", "shapes", "tones", "reviews", "wine"])
def test_summary_and_picture_per_domain(tasks, tmp_path, name):
    summary = inspect_task(tasks[name])
    assert summary.domain == samples.domain(name)
    train, test = summary.splits
    assert (train.split, test.split) == ("train", "test")
    assert sum(train.class_counts) == train.num_examples
    # test labels are erased in the records: the balance comes from the solution
    assert sum(test.class_counts) == test.num_examples
    assert train.bytes_on_disk > 0
    _picture_ok(plot(summary, tmp_path / f"{name}.png"))


def test_text_summary_decodes_tokens(tasks):
    summary = inspect_task(tasks["reviews"])
    text = summary.to_text()
    assert "decoded tokens" in text
    decoded = summary.decode(summary.examples[0])
    assert all(not w.startswith("#") for w in decoded.split())


def test_real_task_miniciao(miniciao, tmp_path):
    summary = inspect_task(miniciao)
    assert summary.domain == "image" and summary.storage == "compressed"
    assert [s.num_examples for s in summary.splits] == [82, 18]
    assert summary.splits[0].shape_max == [1, 32, 32, 3]
    assert sum(summary.splits[1].class_counts) == 18
    _picture_ok(plot(summary, tmp_path / "miniciao.png"))


def test_cli_json_and_picture(tasks, tmp_path, cli):
    png = tmp_path / "pic.png"
    proc = cli("inspect", tasks["digits"], "-o", png, "--json", check=True)
    record = json.loads(proc.stdout)
    assert record["domain"] == "image" and record["output_dim"] == 10
    assert record["picture"] == str(png)
    _picture_ok(png)
    proc = cli("inspect", tmp_path / "nothing-here")
    assert proc.returncode == 2 and "nothing-here" in proc.stderr
