"""`autodl bundle`: what the Codabench bundle holds, and the v2 rules it is checked against."""

from __future__ import annotations

import ast
import copy
import math
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
import reference_sources
import yaml

from autodl.platforms.codabench import BundleError, check_bundle
from autodl.platforms.codabench.rules import read_metadata_command
from autodl.platforms.codabench.worker import substitute
from autodl.protocol import ScoreRecord


def _bundle(cli, challenge: Path, tmp_path: Path, *extra: str) -> tuple[Path, dict, str]:
    out = tmp_path / "competition.zip"
    proc = cli("bundle", challenge, "-o", out, "--start", "2026-03-01", *extra)
    assert proc.returncode == 0, proc.stderr
    root = tmp_path / "unpacked"
    with zipfile.ZipFile(out) as zf:
        zf.extractall(root)
    return root, yaml.safe_load((root / "competition.yaml").read_text()), proc.stdout


def test_bundle_holds_one_task_per_dataset(cli, challenge, task, tmp_path):
    root, comp, stdout = _bundle(cli, challenge, tmp_path, "--docker-image", "me/autodl:1")
    summary = check_bundle(root)
    assert comp["version"] == 2 and comp["docker_image"] == "me/autodl:1"
    (t,) = comp["tasks"]
    assert t["name"] == "blobs" and t["ingestion_only_during_scoring"] is False
    # Input data: the splits, no solution; reference data: the solution, byte for byte.
    inputs = root / t["input_data"]
    assert sorted(p.name for p in inputs.iterdir()) == ["blobs.data"]
    assert not list(inputs.rglob("*.solution"))
    ref = root / t["reference_data"] / "blobs.solution"
    assert ref.read_bytes() == (task / "blobs.solution").read_bytes()
    # The budgets reach ingestion, t0 reaches scoring.
    ingest = read_metadata_command(root / t["ingestion_program"])
    assert "--time_budget 20 " in ingest and "--construction_budget 30 " in ingest
    assert "$submission_program" in ingest and "$input" in ingest
    score = read_metadata_command(root / t["scoring_program"])
    assert "--t0 30" in score and "$hidden" in score
    # The limit: budget 20 + construction 30 + the 120 s margin.
    (phase,) = comp["phases"]
    assert phase["execution_time_limit"] == math.ceil(20 + 30 + 120) == 170
    assert phase["start"] == "2026-03-01" and phase["tasks"] == [0]
    # Every column is a key of scores.json as autodl score writes it.
    (board,) = comp["leaderboards"]
    keys = [c["key"] for c in board["columns"]]
    assert keys[board["primary_index"]] == "alc"
    assert set(keys) <= set(ScoreRecord().to_dict()) and summary.columns == keys
    # Pages and terms have content; the starting kit has a sample submission.
    for page in comp["pages"]:
        assert (root / page["file"]).read_text().strip()
    assert "blobs" in (root / "pages" / "overview.md").read_text()
    with zipfile.ZipFile(root / phase["starting_kit"] / "sample_submission.zip") as zf:
        assert sorted(zf.namelist()) == ["metadata", "model.py"]
        assert "command" not in yaml.safe_load(zf.read("metadata"))
    # Sizes are reported.
    assert "data/blobs-input" in stdout and "in all (unzipped)" in stdout
    assert summary.files["data/blobs-reference"] == ref.stat().st_size


def test_the_entry_programs_run(cli, challenge, task, tmp_path):
    """The bundle's ingestion.py and score.py, run here with the worker's arguments
    pointed at local folders (the Docker test runs them in containers)."""
    import sys

    root, comp, _ = _bundle(cli, challenge, tmp_path)
    (t,) = comp["tasks"]
    out, scores = tmp_path / "res", tmp_path / "scores"
    proc = subprocess.run(
        [sys.executable, root / t["ingestion_program"] / "ingestion.py", "--dataset_dir",
         root / t["input_data"], "--output_dir", out, "--code_dir", tmp_path / "zero",
         "--time_budget", "20", "--sandbox", "none", "--no-progress"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run(
        [sys.executable, root / t["scoring_program"] / "score.py", "--solution_dir",
         root / t["reference_data"], "--prediction_dir", out, "--score_dir", scores],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    record = ScoreRecord.from_dict(yaml.safe_load((scores / "scores.json").read_text()))
    assert record.status == "ok" and record.nauc == 0.0  # constant scores: AUC 0.5


def test_a_bad_challenge_writes_nothing(cli, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("datasets: {x: ./missing}\nsubmissions: {s: ./nothing}\n")
    proc = cli("bundle", config, "-o", tmp_path / "out" / "c.zip")
    assert proc.returncode == 2
    assert "datasets.x" in proc.stderr
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_a_solution_inside_the_input_data_is_refused(cli, challenge, task, tmp_path):
    leaked = tmp_path / "leaky"
    shutil.copytree(task, leaked)
    shutil.copy(task / "blobs.solution", leaked / "blobs.data" / "train" / "blobs.solution")
    text = challenge.read_text().replace(str(task), str(leaked))
    challenge.write_text(text)
    proc = cli("bundle", challenge, "-o", tmp_path / "c.zip")
    assert proc.returncode == 2 and "holds solution files" in proc.stderr
    assert not (tmp_path / "c.zip").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".c.zip")]


def _mutations():
    def dup_task(c):
        c["tasks"].append(copy.deepcopy(c["tasks"][0]))

    def no_scoring(c):
        del c["tasks"][0]["scoring_program"]

    def missing_page(c):
        c["pages"][0]["file"] = "pages/nope.md"

    def escaping(c):
        c["terms"] = "/etc/passwd"

    def self_computation(c):
        c["leaderboards"][0]["columns"][1].update(computation="avg", computation_indexes="1")

    def computation_alone(c):
        c["leaderboards"][0]["columns"][1]["computation"] = "avg"

    def long_key(c):
        c["leaderboards"][0]["columns"][0]["key"] = "k" * 37

    def dup_column(c):
        c["leaderboards"][0]["columns"][1]["key"] = "alc"

    def no_start(c):
        del c["phases"][0]["start"]

    def unknown_task(c):
        c["phases"][0]["tasks"] = [0, 7]

    def second_phase_overlaps(c):
        c["phases"].append({**c["phases"][0], "name": "Final", "start": "2026-02-01"})

    def bad_primary(c):
        c["leaderboards"][0]["primary_index"] = 9

    def version(c):
        c["version"] = 1.5

    return [
        (dup_task, "duplicate task index 0"),
        (no_scoring, "no scoring_program"),
        (missing_page, "'pages/nope.md' not found"),
        (escaping, "leaves the bundle"),
        (self_computation, "cannot compute over itself"),
        (computation_alone, "needs computation_indexes"),
        (long_key, "1 to 36 characters"),
        (dup_column, "column keys must be unique"),
        (no_start, "start: a date is required"),
        (unknown_task, "task index 7 is not defined"),
        (second_phase_overlaps, "needs an end"),
        (bad_primary, "primary_index 9"),
        (version, "must be 2"),
    ]


@pytest.mark.parametrize("mutate,message", _mutations(), ids=lambda m: getattr(m, "__name__", ""))
def test_the_checker_refuses_what_codabench_refuses(cli, challenge, tmp_path, mutate, message):
    root, comp, _ = _bundle(cli, challenge, tmp_path)
    mutate(comp)
    (root / "competition.yaml").write_text(yaml.safe_dump(comp))
    with pytest.raises(BundleError, match=None) as err:
        check_bundle(root)
    assert message in str(err.value)


def test_a_program_without_command_is_refused(cli, challenge, tmp_path):
    root, comp, _ = _bundle(cli, challenge, tmp_path)
    (root / comp["tasks"][0]["scoring_program"] / "metadata.yaml").write_text("description: x\n")
    with pytest.raises(BundleError, match="has no metadata.yaml/metadata with a 'command'"):
        check_bundle(root)


def _codabench_substitution():
    """Codabench's own replace_legacy_metadata_command, from its compute worker's source."""
    source = reference_sources.show(reference_sources.CODABENCH, "compute_worker/compute_worker.py")
    (node,) = [
        n for n in ast.parse(source).body
        if isinstance(n, ast.FunctionDef) and n.name == "replace_legacy_metadata_command"
    ]  # fmt: skip
    namespace: dict = {}
    exec(compile(ast.Module([node], []), "compute_worker.py", "exec"), namespace)  # noqa: S102
    return namespace["replace_legacy_metadata_command"]


def test_the_substitution_is_codabench_s(cli, challenge, tmp_path):
    theirs = _codabench_substitution()
    root, comp, _ = _bundle(cli, challenge, tmp_path)
    t = comp["tasks"][0]
    commands = [
        read_metadata_command(root / t["ingestion_program"]),
        read_metadata_command(root / t["scoring_program"]),
        "x $input $output $program $ingestion_program $hidden $shared $submission_program "
        "$tmp $predictions $input/res",
    ]
    for command in commands:
        for kind in ("ingestion", "program"):
            for scoring in (False, True):
                for only in (False, True):
                    assert substitute(
                        command, kind, is_scoring=scoring, ingestion_only_during_scoring=only
                    ) == theirs(command, kind, scoring, only)
