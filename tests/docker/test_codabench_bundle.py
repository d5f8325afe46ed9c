"""A Codabench bundle, unpacked and run as Codabench's compute worker runs it.

The bundle is made by `autodl bundle`, checked against the v2 unpacker's rules, and its
programs run in containers of the test image laid out as the worker lays them out
(autodl.platforms.codabench.worker): the prediction step (ingestion beside the
submission, the input data, no solution), then the scoring step (the scoring program,
the reference data and the prediction step's output). The result is compared with
`autodl run` of the same submission on the same task.
"""

from __future__ import annotations

import json
import zipfile

import pytest
import yaml
from challenge_files import CENTROID, challenge_file

from autodl.platforms.codabench import check_bundle
from autodl.platforms.codabench.worker import run_step, unpack
from autodl.protocol import SCORES_JSON, Status

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def test_bundle_runs_as_codabench_runs_it(tmp_path, cli, engine, cpu_image, task):
    config = challenge_file(
        tmp_path,
        {"blobs": task},
        {"centroid": CENTROID},
        title="Codabench check",
        defaults={"time_budget": 20, "construction_budget": 60},
    )
    bundle_zip = tmp_path / "competition.zip"
    proc = cli("bundle", config, "-o", bundle_zip, "--docker-image", cpu_image)
    assert proc.returncode == 0, proc.stderr
    bundle = tmp_path / "bundle"
    with zipfile.ZipFile(bundle_zip) as zf:
        zf.extractall(bundle)
    summary = check_bundle(bundle)
    competition = yaml.safe_load((bundle / "competition.yaml").read_text())
    assert competition["docker_image"] == cpu_image
    (t,) = competition["tasks"]
    submission = bundle / competition["phases"][0]["starting_kit"] / "sample_submission.zip"

    # Prediction step: the submission in program/, the ingestion program beside it.
    predict = tmp_path / "predict"
    unpack(submission, predict / "program")
    unpack(bundle / t["ingestion_program"], predict / "ingestion_program")
    unpack(bundle / t["input_data"], predict / "input_data")
    assert not list((predict / "input_data").rglob("*.solution"))
    step = run_step(engine, cpu_image, predict, is_scoring=False, timeout=300)
    assert step.exit_codes == {"program": None, "ingestion": 0}, step.logs
    assert "/app/input_data" in step.commands["ingestion"]

    # Scoring step: the scoring program, the reference data, the predictions.
    score = tmp_path / "score"
    unpack(bundle / t["scoring_program"], score / "program")
    unpack(bundle / t["reference_data"], score / "input" / "ref")
    unpack(predict / "output", score / "input" / "res")
    step = run_step(engine, cpu_image, score, is_scoring=True, timeout=300)
    assert step.exit_codes == {"program": 0, "ingestion": None}, step.logs
    scores = json.loads((score / "output" / SCORES_JSON).read_text())
    assert set(summary.columns) <= set(scores)  # every leaderboard column has its score
    assert scores["status"] == Status.OK and scores["alc"] > 0.5

    # The same scores as our own scorer on the same predictions, to the last digit.
    rescored = tmp_path / "rescored"
    proc = cli(
        "score", "--solution_dir", score / "input" / "ref", "--prediction_dir",
        score / "input" / "res", "--score_dir", rescored, "--t0", "60",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    again = json.loads((rescored / SCORES_JSON).read_text())
    assert (again["alc"], again["nauc"]) == (scores["alc"], scores["nauc"])

    # `autodl run` of the same submission on the same task: the same predictions (same
    # NAUC); the ALC differs only by when the prediction came (a few hundredths of a
    # second of a 20 s budget).
    proc = cli(
        "run", "--dataset", task, "--code", submission, "--time-budget", "20",
        "--construction-budget", "60", "-o", tmp_path / "runs", "--quiet",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (local_scores,) = (tmp_path / "runs").rglob(SCORES_JSON)
    local = json.loads(local_scores.read_text())
    assert local["status"] == Status.OK
    assert local["num_predictions"] == scores["num_predictions"]
    assert local["nauc"] == pytest.approx(scores["nauc"], abs=1e-9)
    assert local["alc"] == pytest.approx(scores["alc"], abs=0.02)
