"""Ingestion in a real container: same predictions as a local run, confinement, failures."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from autodl import protocol
from autodl.docker import HARNESS_LABEL, DockerError, check_harness, ingest_in_container
from autodl.protocol import Status, read_ingestion_record
from autodl.submission import pack

MODELS = Path(__file__).resolve().parent / "models"


pytestmark = pytest.mark.docker


def test_image_holds_the_harness(engine, cpu_image):
    import autodl

    img = engine.images.get(cpu_image)
    assert img.labels[HARNESS_LABEL] == "autodl"
    out = (
        engine.containers.run(
            cpu_image,
            [
                "python3",
                "-c",
                "import autodl, torch, tensorflow, sklearn, numpy; "
                "print(autodl.__version__, torch.__version__, tensorflow.__version__)",
            ],
            network_mode="none",
            remove=True,
        )
        .decode()
        .split()
    )
    import tensorflow as tf  # the versions in the image are the host's
    import torch

    assert out == [autodl.__version__, torch.__version__, tf.__version__]


def test_same_predictions_as_a_local_run(tmp_path, cpu_image, task):
    sub = pack(MODELS / "centroid", tmp_path / "centroid.zip").path
    local, boxed = tmp_path / "local", tmp_path / "docker"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "autodl",
            "ingest",
            "--dataset_dir",
            task,
            "--code_dir",
            MODELS / "centroid",
            "--output_dir",
            local,
            "--time_budget",
            "300",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    rc = ingest_in_container(cpu_image, task, sub, boxed, time_budget=300, cpus=1, memory="3g")
    assert rc == 0
    rec = read_ingestion_record(boxed)
    assert rec.status is Status.OK, rec
    assert rec.task_name == "blobs" and rec.num_predictions == 3
    assert read_ingestion_record(local).status is Status.OK
    # The same model on the same data gives the same bytes, prediction by prediction.
    ours = protocol.list_predictions(boxed)
    theirs = protocol.list_predictions(local)
    assert [(t, k) for t, k, _ in ours] == [(t, k) for t, k, _ in theirs] != []
    for (_, _, a), (_, _, b) in zip(ours, theirs, strict=True):
        assert a.read_bytes() == b.read_bytes()
    # Scored outside the container, like a local run: same NAUC per prediction.
    from autodl.scoring.scorer import score_folder

    scores = {}
    for name, out in (("local", local), ("docker", boxed)):
        score_folder(task, out, tmp_path / f"score-{name}", time_budget=300)
        scores[name] = protocol.read_learning_curve(tmp_path / f"score-{name}")
    assert scores["docker"]["nauc"] == scores["local"]["nauc"]
    assert np.all(np.asarray(scores["docker"]["nauc"]) > 0.5)
    start = protocol.read_start(boxed)
    assert start.task_name == "blobs" and len(start.timestamps) == 3
    assert protocol.read_end(boxed).ingestion_success == 1


def test_confinement_seen_from_inside(tmp_path, cpu_image, task):
    out = tmp_path / "out"
    rc = ingest_in_container(cpu_image, task, MODELS / "probe", out, time_budget=60)
    rec = read_ingestion_record(out)
    assert rc == rec.status.exit_code  # the container's ingest exits with its status's code
    text = (rec.traceback or "") + "\n" + (rec.error or "")
    line = next(ln for ln in text.splitlines() if "PROBE {" in ln)
    seen = json.loads(line.split("PROBE ", 1)[1])
    assert seen["interfaces"] == ["lo"]
    assert seen["connect"] != "ok" and seen["resolve"] != "ok"
    assert seen["solutions"] == []  # the host has blobs.solution beside blobs.data
    assert seen["input_data"] == ["blobs.data"]
    assert seen["app_mounts"] == [
        "/app/ingested_program",
        "/app/input_data/blobs.data",
        "/app/output",
    ]
    assert seen["uid"] != 0
    assert seen["write_output"].startswith("PermissionError")
    assert seen["write_code"] != "ok" and seen["write_data"] != "ok"
    assert not (out / "evil.txt").exists()
    assert rec.status is Status.ERROR


def test_memory_limit_is_recorded(tmp_path, cpu_image, task):
    out = tmp_path / "out"
    t0 = time.monotonic()
    rc = ingest_in_container(cpu_image, task, MODELS / "hog", out, time_budget=120, memory="700m")
    rec = read_ingestion_record(out)
    assert rec.status is Status.OUT_OF_MEMORY, rec
    assert rc == Status.OUT_OF_MEMORY.exit_code
    assert "memory" in rec.error
    assert protocol.read_end(out) is not None
    assert time.monotonic() - t0 < 120


def test_wall_clock_kills_a_hung_container(tmp_path, cpu_image, task):
    out = tmp_path / "out"
    t0 = time.monotonic()
    rc = ingest_in_container(
        cpu_image,
        task,
        MODELS / "sleeper",
        out,
        time_budget=600,
        construction_budget=600,
        timeout=20,
    )
    assert rc == Status.KILLED.exit_code  # the status the host recorded
    assert time.monotonic() - t0 < 90
    rec = read_ingestion_record(out)
    assert rec.status is Status.KILLED and "20 s" in rec.error
    assert rec.warnings and "recorded by the host" in rec.warnings[0]
    assert protocol.read_end(out).ingestion_success == 0


def test_image_without_harness(engine, base_image, tmp_path, task):
    with pytest.raises(DockerError, match="does not hold the autodl harness"):
        check_harness(engine, base_image)
    with pytest.raises(DockerError, match="not found; build it with `autodl docker build`"):
        ingest_in_container("autodl:no-such-tag", task, MODELS / "centroid", tmp_path, 10)


def test_all_zero_baseline_scores_zero(tmp_path, cpu_image, task):
    from autodl.scoring.scorer import score_folder

    code = Path(__file__).resolve().parents[2] / "baselines" / "all_zero"
    assert (code / "model.py").is_file()
    out = tmp_path / "out"
    assert ingest_in_container(cpu_image, task, code, out, time_budget=30) == 0
    assert read_ingestion_record(out).status is Status.OK
    score_folder(task, out, tmp_path / "scores", time_budget=30)
    scores = protocol.read_scores(tmp_path / "scores")
    assert scores["alc"] == 0.0 and scores["nauc"] == 0.0


def test_ingestion_as_pid_1_without_init(engine, tmp_path, cpu_image, task):
    """Codabench's worker starts the command as the container's first process, no init:
    the model's worker then has pid 1 for a parent, which is the living supervisor."""
    out = tmp_path / "out"
    out.mkdir()
    log = engine.containers.run(
        cpu_image,
        [
            "sh",
            "-c",
            "echo supervisor pid $$; exec autodl ingest --dataset_dir /task --code_dir /code "
            "--output_dir /out --time_budget 120 --sandbox container --worker_uid -1",
        ],
        volumes={
            str(task): {"bind": "/task", "mode": "ro"},
            str(MODELS / "centroid"): {"bind": "/code", "mode": "ro"},
            str(out): {"bind": "/out", "mode": "rw"},
        },
        network_mode="none",
        init=False,
        remove=True,
        stderr=True,
    ).decode()
    assert "supervisor pid 1\n" in log
    rec = read_ingestion_record(out)
    assert rec.status is Status.OK, (rec, log[-2000:])
    assert rec.num_predictions == 3
