"""The platform program folder `scoring/`: its CodaLab and Codabench commands, run for real."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from autodl.scoring import score_folder

PROGRAM = Path(__file__).resolve().parents[2] / "scoring"


def _command(name: str) -> str:
    command = yaml.safe_load((PROGRAM / name).read_text())["command"]
    # The platforms call `python3`; run the same program with this interpreter.
    assert command.startswith("python3 ")
    return sys.executable + command[len("python3") :]


@pytest.mark.parametrize("platform", ["codalab", "codabench"])
def test_platform_commands_score_a_folder(folders, multiclass, tmp_path, platform):
    sol, preds = multiclass
    folders.solution(sol)
    st = folders.start(budget=600)
    for k, p in enumerate(preds):
        folders.predict(k, p, 10.0 * (k + 1), st)
    folders.end()
    expected = score_folder(folders.ref, folders.res, tmp_path / "expected", bootstrap=False)
    if platform == "codalab":
        inp, out = tmp_path / "input", tmp_path / "output"
        shutil.copytree(folders.ref, inp / "ref")
        shutil.copytree(folders.res, inp / "res")
        out.mkdir()
        command = (
            _command("metadata")
            .replace("$program", str(PROGRAM))
            .replace("$input", str(inp))
            .replace("$output", str(out))
        )
    else:
        app = tmp_path / "app"
        shutil.copytree(folders.ref, app / "input" / "ref")
        shutil.copytree(folders.res, app / "input" / "res")
        shutil.copytree(PROGRAM, app / "program")
        (app / "output").mkdir()
        out = app / "output"
        command = _command("metadata.yaml").replace("/app/", f"{app}/")
    proc = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    txt = yaml.safe_load((out / "scores.txt").read_text())
    assert txt["score"] == expected.alc
    np.testing.assert_array_equal(txt["nauc_scores"], expected.nauc_scores)
    js = json.loads((out / "scores.json").read_text())
    assert js["status"] == "ok" and js["score"] == expected.alc
    assert (out / "detailed_results.html").exists() and (out / "learning-curve-toy.png").exists()
    assert not (out / "metadata").exists()  # Codabench forbids programs writing it


def test_program_argument_forms():
    # The program folder is not a package: load its file as a module.
    spec = importlib.util.spec_from_file_location("scoring_program", PROGRAM / "score.py")
    program = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(program)
    assert program.to_score_args(["in", "out"]) == [
        "--solution_dir", "in/ref", "--prediction_dir", "in/res", "--score_dir", "out",
    ]  # fmt: skip
    assert program.to_score_args([]) == [
        "--solution_dir", "/app/input/ref", "--prediction_dir", "/app/input/res",
        "--score_dir", "/app/output",
    ]  # fmt: skip
    flags = ["--solution_dir", "s", "--prediction_dir", "p", "--score_dir", "o", "--watch"]
    assert program.to_score_args(flags) == flags
    with pytest.raises(SystemExit):
        program.to_score_args(["just-one"])
