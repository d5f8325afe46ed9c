"""`autodl env`: listing, locating and building environments, through the real CLI.

A build is aside and renamed into place: a failed, interrupted or killed build leaves
nothing that looks complete (no folder at the environment's name, `env path` refuses).
The full build of ``legacy`` is the ``legacy_python`` fixture's (tests/conftest.py).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


def _cli(*args: str, envs: Path | None = None, timeout: float = 600):
    env = dict(os.environ)
    if envs is not None:
        env["AUTODL_ENVS"] = str(envs)
    return subprocess.run(
        [sys.executable, "-m", "autodl", "env", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def _looks_built(envs: Path, name: str = "legacy") -> bool:
    return (envs / name).exists()


def test_list_names_current_and_the_documented_environments(tmp_path):
    proc = _cli("list", envs=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = {line.split()[0]: line.split() for line in proc.stdout.splitlines() if line[:1] != " "}
    assert rows["current"][1] == "current" and rows["current"][-1] == sys.prefix
    assert rows["legacy"][1:3] == ["not", "built"]
    assert "TensorFlow 2.15" in proc.stdout and "numpy < 2" in proc.stdout


def test_path_of_current_is_this_interpreter(tmp_path):
    proc = _cli("path", "current", envs=tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip() == sys.executable


def test_path_refuses_an_environment_not_built_and_an_unknown_one(tmp_path):
    proc = _cli("path", "legacy", envs=tmp_path)
    assert proc.returncode == 2
    assert "not built" in proc.stderr and "autodl env build legacy" in proc.stderr
    proc = _cli("path", "nosuch", envs=tmp_path)
    assert proc.returncode == 2 and "no environment named 'nosuch'" in proc.stderr
    assert proc.stdout == ""


def test_build_refuses_an_undocumented_name(tmp_path):
    proc = _cli("build", "nosuch", envs=tmp_path)
    assert proc.returncode == 2 and "no documented environment 'nosuch'" in proc.stderr
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def _leftovers(envs: Path) -> list[str]:
    return sorted(p.name for p in envs.iterdir() if not p.name.endswith(".lock"))


def test_a_failed_build_leaves_nothing(tmp_path):
    envs = tmp_path / "envs"
    # No index: pip finds no TensorFlow and fails after the venv was made.
    proc = _cli(
        "build", "legacy", "--pip-option=--no-index", "--pip-option=--find-links",
        f"--pip-option={tmp_path}", envs=envs,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr[-3000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("autodl env: building the environment failed") and "pip" in last
    assert "a virtual environment from" in proc.stderr  # it got that far
    assert _leftovers(envs) == []
    assert _cli("path", "legacy", envs=envs).returncode == 2


def _start_build(envs: Path) -> subprocess.Popen:
    env = {**os.environ, "AUTODL_ENVS": str(envs)}
    return subprocess.Popen(
        [sys.executable, "-m", "autodl", "env", "build", "legacy"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )


def _wait_for_partial_venv(envs: Path, proc: subprocess.Popen, timeout: float = 300) -> Path:
    """The hidden build folder, once it holds an interpreter."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = [p for p in envs.glob(".legacy.building-*") if (p / "bin" / "python").exists()]
        if found:
            time.sleep(1.0)  # pip has started (or is about to)
            return found[0]
        assert proc.poll() is None, proc.stdout.read()
        time.sleep(0.2)
    raise AssertionError("the build never made its virtual environment")


@pytest.mark.slow
def test_an_interrupted_build_removes_what_it_made(tmp_path):
    envs = tmp_path / "envs"
    proc = _start_build(envs)
    try:
        partial = _wait_for_partial_venv(envs, proc)
        os.kill(proc.pid, signal.SIGINT)  # Ctrl-C reaches autodl; pip goes with it
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, out[-3000:]
    assert "interrupted" in out
    assert not partial.exists() and _leftovers(envs) == []
    assert _cli("path", "legacy", envs=envs).returncode == 2


@pytest.mark.slow
def test_a_killed_build_leaves_nothing_that_looks_built_and_the_next_clears_it(tmp_path):
    envs = tmp_path / "envs"
    proc = _start_build(envs)
    try:
        partial = _wait_for_partial_venv(envs, proc)
        os.killpg(proc.pid, signal.SIGKILL)  # no chance to clean up
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.stdout.close()
    assert partial.exists() and not _looks_built(envs)
    listed = _cli("list", envs=envs).stdout
    assert any(line.split()[:3] == ["legacy", "not", "built"] for line in listed.splitlines())
    assert _cli("path", "legacy", envs=envs).returncode == 2
    # The next build (here one that fails fast) clears what the killed one left.
    again = _cli("build", "legacy", "--pip-option=--no-index", envs=envs)
    assert again.returncode == 2
    assert _leftovers(envs) == []


@pytest.mark.slow
def test_the_legacy_environment_is_what_its_spec_says(legacy_python):
    prefix = legacy_python.parent.parent
    manifest = json.loads((prefix / "autodl-env.json").read_text())
    assert manifest["name"] == "legacy" and manifest["spec"]["numpy_aliases"] is True
    installed = {k.lower().replace("_", "-"): v for k, v in manifest["installed"].items()}
    tf = installed.get("tensorflow-cpu") or installed.get("tensorflow")
    assert tf == "2.15.1"
    assert installed["numpy"].startswith("1.")
    assert "scikit-learn" in installed and "protobuf" in installed
    assert "torch" not in installed and "autodl" not in installed
    # What the manifest says is what the interpreter has.
    probe = subprocess.run(
        [str(legacy_python), "-c",
         "import numpy, sklearn, tensorflow as tf, platform; "
         "print(numpy.__version__, tf.__version__, platform.python_version(), "
         "hasattr(tf, 'estimator'), hasattr(numpy, 'float'))"],
        capture_output=True, text=True, timeout=300, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    numpy_version, tf_version, py, estimator, alias = probe.stdout.split()
    assert numpy_version == installed["numpy"] and tf_version == "2.15.1"
    assert py == manifest["python"]["version"] and estimator == "True"
    assert alias == "False"  # restored by the worker for the submission only, not here
    # `env list` and `env path` agree with the fixture.
    path = subprocess.run(
        [sys.executable, "-m", "autodl", "env", "path", "legacy"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert path.returncode == 0 and Path(path.stdout.strip()) == legacy_python
