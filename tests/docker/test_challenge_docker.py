"""`autodl challenge --docker IMAGE`: ingestion in containers, scoring and ranking on the host."""

from __future__ import annotations

import csv

import pytest
from challenge_files import CENTROID, challenge_file

from autodl.protocol import Status

pytestmark = [pytest.mark.docker, pytest.mark.slow]

BROKEN = """
class Model:
    def __init__(self, metadata):
        raise RuntimeError("broken on purpose")

    def fit(self, dataset, remaining_time_budget=None):
        pass

    def predict(self, dataset, remaining_time_budget=None):
        pass
"""


def test_challenge_in_containers(tmp_path, cli, cpu_image, task):
    config = challenge_file(
        tmp_path,
        {"blobs": task},
        {"centroid": CENTROID, "broken": BROKEN},
        defaults={"time_budget": 20},
        name="c.yaml",
    )
    out = tmp_path / "out"
    proc = cli("challenge", config, "-o", out, "--docker", cpu_image, timeout=600)
    assert proc.returncode == 1, proc.stderr  # broken failed: see --allow-failures
    rows = {r["submission"]: r for r in csv.DictReader(open(out / "results.csv"))}
    assert rows["centroid"]["status"] == Status.OK and float(rows["centroid"]["alc"]) > 0.5
    assert rows["broken"]["status"] != Status.OK
    assert "broken on purpose" in rows["broken"]["error"]
    board = {r["submission"]: r for r in csv.DictReader(open(out / "leaderboard.csv"))}
    assert (board["centroid"]["blobs_rank"], board["broken"]["blobs_rank"]) == ("1", "2")
